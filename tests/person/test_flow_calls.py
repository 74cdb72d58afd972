"""Fewer calls per step (issue 16, item 1), through the real bot: the bench's scripted
journey costs at most one call to the person's chat per update, and the chat reads
shorter; what a person may want to read again is never edited away, and a menu choice
leaves such a message as it was."""

from __future__ import annotations

from bench.journey import FINAL_TEXT, JOURNEY, nearest_office
from conversations import texts
from tests.support.handoff import join_as_mentor
from tests.support.harness import Harness

ALEX = 7_700_960_001
SAM = 8_800_960_001


def chat_calls(harness: Harness, chat_id: int) -> list[str]:
    return [c.method for c in harness.emu.calls() if c.params.get("chat_id") == chat_id]


async def test_the_scripted_journey_costs_a_call_an_update_and_reads_short(
    harness: Harness,
) -> None:
    await join_as_mentor(harness, SAM, "Sam", office_id=nearest_office().office_id)
    harness.person(ALEX, "Sam")
    for step in JOURNEY:
        step.act(harness.emu, ALEX)
        await harness.settle()
    shown = harness.texts(ALEX)
    assert shown[-1].startswith(FINAL_TEXT)
    assert texts.SOMETHING_WENT_WRONG not in shown
    # 17 updates: 19 calls to the chat (was 38), 9 messages to read (was 22).
    assert len(chat_calls(harness, ALEX)) <= 19, chat_calls(harness, ALEX)
    assert len(shown) <= 9, len(shown)
    presses = sum(1 for c in harness.emu.calls("answerCallbackQuery"))
    assert presses == 14  # every button press answered, once
    # Still there to read: the notice word for word, what they told us, the Jobcentre's
    # address, what a mentor is and sees, and the reference.
    everything = "\n".join(shown)
    for kept in (
        "Before you tell us anything",
        "Nobody watches this chat live. In danger, call 999.",
        "✅ Saved. Here is what you told us:",
        "I drink most days and want to stop",
        "27 Arundel Street",
        texts.MENTOR_ABOUT,
        'If you pick "My answers too", the mentor sees this:',
    ):
        assert kept in everything, kept


async def test_a_menu_choice_leaves_a_message_to_read_again_as_it_was(
    harness: Harness,
) -> None:
    await harness.onboard(ALEX)
    await harness.press(ALEX, texts.BTN_URGENT_HELP)
    crisis = harness.emu.last_bot_message(ALEX)
    assert crisis is not None and crisis.text == texts.CRISIS
    await harness.press(ALEX, texts.BTN_MENU)  # the Menu under the urgent-help numbers
    after = next(m for m in harness.emu.bot_messages(ALEX) if m.message_id == crisis.message_id)
    assert after.text == texts.CRISIS and after.edit_count == 0, "the numbers stay"
    assert harness.last_text(ALEX) == texts.MENU, "the menu comes as a new message"
    # The menu itself is only a way on: a choice takes its place.
    menu = harness.emu.last_bot_message(ALEX)
    assert menu is not None
    await harness.press(ALEX, texts.BTN_ABOUT)
    replaced = next(m for m in harness.emu.bot_messages(ALEX) if m.message_id == menu.message_id)
    assert replaced.text != texts.MENU and replaced.edit_count == 1
    # Urgent help from the menu is always a new message, so it notifies.
    await harness.send(ALEX, "/menu")
    before = len(harness.emu.bot_messages(ALEX))
    await harness.press(ALEX, texts.BTN_URGENT_HELP)
    assert len(harness.emu.bot_messages(ALEX)) == before + 1
    assert harness.last_text(ALEX) == texts.CRISIS


async def test_a_stale_question_still_gets_a_kind_reply_as_new_messages(
    harness: Harness,
) -> None:
    await harness.onboard(ALEX)
    await harness.press(ALEX, texts.BTN_TELL)
    await harness.send(ALEX, "/menu")
    await harness.press(ALEX, texts.BTN_JOBCENTRE)
    before = len(harness.emu.bot_messages(ALEX))
    old = next(m for m in harness.emu.bot_messages(ALEX) if texts.Q_SUBSTANCES in (m.text or ""))
    harness.emu.user_presses(ALEX, old.message_id, "d:sub:skip")
    await harness.settle()
    assert harness.texts(ALEX)[-2:] == [texts.STALE_BUTTON, texts.FINDER_ASK_OFFICE]
    assert len(harness.emu.bot_messages(ALEX)) == before + 2
    again = next(m for m in harness.emu.bot_messages(ALEX) if m.message_id == old.message_id)
    assert again.button_texts == [] and texts.Q_SUBSTANCES in (again.text or "")


async def pressing_skip_after(harness: Harness, command: str | None) -> tuple[int, int]:
    """Alex is asked the first question, sends `command` (if any), then presses Skip on
    the question: (sendMessage, editMessageText) calls the press made. The next question
    must be the newest message in the chat, whatever came between."""
    await harness.onboard(ALEX)
    await harness.press(ALEX, texts.BTN_TELL)
    question = harness.emu.last_bot_message(ALEX)
    assert question is not None and (question.text or "").endswith(texts.Q_SUBSTANCES)
    if command is not None:
        await harness.send(ALEX, command)
        assert harness.emu.chat(ALEX)[-1].message_id > question.message_id
    sends, edits = len(harness.emu.calls("sendMessage")), len(harness.emu.calls("editMessageText"))
    harness.emu.user_presses(ALEX, question.message_id, "d:sub:skip")
    await harness.settle()
    newest = harness.emu.chat(ALEX)[-1]
    assert newest.from_bot and newest.text == texts.Q_DURATION, "the next step is at the bottom"
    assert texts.BTN_SKIP in newest.button_texts
    if command is not None:
        old = next(m for m in harness.emu.chat(ALEX) if m.message_id == question.message_id)
        assert (old.text or "").endswith(texts.Q_SUBSTANCES), "the question above is kept"
        assert old.button_texts == [], "and can't be pressed again"
    return (
        len(harness.emu.calls("sendMessage")) - sends,
        len(harness.emu.calls("editMessageText")) - edits,
    )


async def test_a_press_on_the_newest_message_edits_it_into_the_next_step(
    harness: Harness,
) -> None:
    assert await pressing_skip_after(harness, None) == (0, 1)


async def test_a_press_on_a_question_above_help_sends_the_next_step_below(
    harness: Harness,
) -> None:
    assert await pressing_skip_after(harness, "/help") == (1, 0)


async def test_a_press_on_a_question_above_mydata_sends_the_next_step_below(
    harness: Harness,
) -> None:
    assert await pressing_skip_after(harness, "/mydata") == (1, 0)


async def test_a_message_the_bot_sent_on_its_own_also_puts_the_next_step_below(
    harness: Harness,
) -> None:
    """Sent outside any handler, as the outbox worker sends a mentor's reply: the bot
    itself notes it, so the question above is not edited either."""
    await harness.onboard(ALEX)
    await harness.press(ALEX, texts.BTN_TELL)
    question = harness.emu.last_bot_message(ALEX)
    assert question is not None and harness.app is not None
    await harness.app.bot.send_message(ALEX, "Sam: hello")
    harness.emu.user_presses(ALEX, question.message_id, "d:sub:skip")
    await harness.settle()
    assert harness.texts(ALEX)[-2:] == ["Sam: hello", texts.Q_DURATION]
