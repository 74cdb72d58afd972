"""One reply model: an `Outcome` says what a step decided, `plan` the Bot API calls that
carry it out, in one order; `deliver` makes them. A step that replaces the pressed
message with the next one (`REPLACE`) costs one call where dropping its buttons and
sending costs two; the relay route is a one-line choice, shown to work when flipped.
"""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from telegram import (
    CallbackQuery,
    Chat,
    InlineKeyboardButton,
    InlineKeyboardMarkup,
    Message,
    ReplyKeyboardRemove,
    Update,
    User,
)

from conversations import outcome, texts
from conversations.outcome import (
    KEEP,
    REPLACE,
    AnswerQuery,
    DeleteMessages,
    EditButtons,
    EditText,
    NewButtons,
    Outcome,
    PassOn,
    Relay,
    Reply,
    Rewrite,
    Route,
    SendReply,
    plan,
    together,
)
from storage.repositories.outbox import Kind
from tests.support.handoff import drain, join_as_mentor, request_mentor
from tests.support.harness import Harness

ALEX, SAM = 7_700_910_001, 8_800_910_001
OFFICE = "portsmouth-arundel-street"
PRESSED = "d:sub:done"
WHEN = datetime(2026, 12, 1, tzinfo=UTC)
MARKUP = InlineKeyboardMarkup([[InlineKeyboardButton("Done", callback_data=PRESSED)]])


def press(data: str = PRESSED, shown: InlineKeyboardMarkup | None = MARKUP) -> Update:
    chat = Chat(ALEX, Chat.PRIVATE)
    user = User(ALEX, "Alex", is_bot=False)
    message = Message(7, WHEN, chat, reply_markup=shown)
    query = CallbackQuery("q1", user, "ci", data=data, message=message)
    return Update(1, callback_query=query)


def text_message() -> Update:
    chat = Chat(ALEX, Chat.PRIVATE)
    return Update(2, message=Message(8, WHEN, chat, text="hello"))


def relay(text: str = "R-7KQ3XW: the words") -> Relay:
    """A relay as `plan` sees it (its key is only read when it is queued)."""
    return Relay(
        chat_id=SAM,
        text=text,
        protect=True,
        failed=Reply("failed"),
        recipient=("mentor", "m1"),
        referral_id="r1",
        sealed_by=None,  # type: ignore[arg-type]
    )


def test_a_press_is_answered_first_then_its_message_then_the_replies() -> None:
    decided = Outcome(replies=(Reply("one"), Reply("two")), toast="noted", deletes=(1, 2))
    calls = plan(press(), decided)
    assert calls == [
        AnswerQuery("noted"),
        EditButtons(None),
        DeleteMessages((1, 2)),
        SendReply(Reply("one")),
        SendReply(Reply("two")),
    ]


def test_what_becomes_of_the_pressed_message() -> None:
    new = InlineKeyboardMarkup([[InlineKeyboardButton("✓ Done", callback_data=PRESSED)]])
    assert plan(press(), Outcome(pressed=KEEP)) == [AnswerQuery(None)]
    assert plan(press(), Outcome(pressed=NewButtons(new)))[1:] == [EditButtons(new)]
    assert plan(press(), Outcome(pressed=Rewrite("taken")))[1:] == [EditText("taken", None)]
    redraw = Rewrite("the list now", new, if_pressed_shown=True)
    assert plan(press(), Outcome(pressed=redraw))[1:] == [EditText("the list now", new)]
    # A list is redrawn only when the press came from its own button (never forged data).
    assert plan(press("mc:take:R-7KQ3XW"), Outcome(pressed=redraw))[1:] == []
    assert plan(press(shown=None), Outcome(pressed=redraw))[1:] == []


def test_a_message_update_has_no_pressed_message_and_no_answer() -> None:
    decided = Outcome.say("hi", pressed=Rewrite("x"))
    assert plan(text_message(), decided) == [SendReply(Reply("hi"))]


def test_clear_deletes_in_batches_of_a_hundred_before_its_reply() -> None:
    calls = plan(text_message(), Outcome(deletes=tuple(range(1, 251)), replies=(Reply("done"),)))
    assert [len(c.message_ids) for c in calls if isinstance(c, DeleteMessages)] == [100, 100, 50]
    assert calls[-1] == SendReply(Reply("done"))


def test_a_relay_goes_last() -> None:
    passed = relay()
    assert plan(text_message(), Outcome(replies=(Reply("a"),), relay=passed)) == [
        SendReply(Reply("a")),
        PassOn(passed),
    ]


def test_replace_turns_drop_buttons_and_send_into_one_edit() -> None:
    reask = InlineKeyboardMarkup([[InlineKeyboardButton("Skip", callback_data="d:dur:skip")]])
    decided = Outcome.say(Reply("next question", reask), "and more", pressed=REPLACE)
    assert plan(press(), decided) == [
        AnswerQuery(None),
        EditText("next question", reask),
        SendReply(Reply("and more")),
    ]
    dropped = Outcome.say(Reply("next question", reask), "and more")
    assert len(plan(press(), dropped)) == 4  # the default: remove buttons, then send
    # Only where an edit can carry the reply: not a reply keyboard (nor its removal)...
    keyboard = Outcome.say(Reply("where are you?", ReplyKeyboardRemove()))
    assert plan(press(), keyboard.with_pressed(REPLACE)) == plan(press(), keyboard)
    # ...and not a message Telegram no longer shows the bot (too old to edit).
    gone = Update(1, callback_query=CallbackQuery("q1", User(ALEX, "A", False), "ci", data=PRESSED))
    assert plan(gone, decided)[1:] == [
        EditButtons(None),
        SendReply(Reply("next question", reask)),
        SendReply(Reply("and more")),
    ]
    # Nothing to replace it with: its buttons go, as by default.
    assert plan(press(), Outcome(pressed=REPLACE)) == [AnswerQuery(None), EditButtons(None)]
    # Newer messages below it: its buttons go and the next step comes at the bottom.
    assert plan(press(), decided, newest=False) == [
        AnswerQuery(None),
        EditButtons(None),
        SendReply(Reply("next question", reask)),
        SendReply(Reply("and more")),
    ]


def test_together_is_one_message_with_the_last_parts_buttons() -> None:
    menu = InlineKeyboardMarkup([[InlineKeyboardButton("Tell", callback_data="menu:tell")]])
    assert together("Thank you.", Reply("What next?", menu)) == Reply(
        "Thank you.\n\nWhat next?", menu
    )
    with pytest.raises(ValueError, match="only the last part"):
        together(Reply("a", menu), "b")


def test_no_repr_shows_what_is_said() -> None:
    said = "my own words, not for a log"
    decided = Outcome(replies=(Reply(said),), pressed=Rewrite(said), relay=relay(said))
    shown = (repr(decided), repr(decided.replies[0]), repr(decided.pressed), repr(relay(said)))
    assert not [text for text in shown if said in text]
    for call in plan(press(), decided):
        assert said not in repr(call)


def test_the_harmless_edit_errors_are_told_apart_in_one_place() -> None:
    from telegram.error import BadRequest

    assert outcome._harmless(BadRequest("Message is not modified: same content"))
    assert outcome._harmless(BadRequest("Message to edit not found"))
    assert not outcome._harmless(BadRequest("Message text is empty"))


# -- through the real bot ------------------------------------------------------------------


async def pressing_skip(harness: Harness) -> tuple[int, int, int]:
    """Alex skips the first question: (bot messages in the chat, sendMessage calls,
    editMessageText calls) that the press added."""
    await harness.onboard(ALEX)
    await harness.press(ALEX, texts.BTN_TELL)
    assert harness.last_text(ALEX).endswith(texts.Q_SUBSTANCES)
    before = (
        len(harness.emu.bot_messages(ALEX)),
        len(harness.emu.calls("sendMessage")),
        len(harness.emu.calls("editMessageText")),
    )
    await harness.press(ALEX, texts.BTN_SKIP)
    assert harness.last_text(ALEX) == texts.Q_DURATION
    after = (
        len(harness.emu.bot_messages(ALEX)),
        len(harness.emu.calls("sendMessage")),
        len(harness.emu.calls("editMessageText")),
    )
    return (after[0] - before[0], after[1] - before[1], after[2] - before[2])


async def test_an_answered_question_is_edited_into_the_next_one(harness: Harness) -> None:
    assert await pressing_skip(harness) == (0, 0, 1)
    last = harness.emu.last_bot_message(ALEX)
    assert last is not None and last.edit_count == 1
    assert texts.BTN_SKIP in last.button_texts  # the next question's buttons, ready


async def test_dropping_the_buttons_instead_would_add_a_message_and_a_call(
    harness: Harness, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The broken variant: `REPLACE` read as the old default (drop buttons, send anew)."""
    monkeypatch.setattr(
        outcome,
        "_replaced",
        lambda query, decided, newest: decided.with_pressed(outcome.DROP_BUTTONS),
    )
    assert await pressing_skip(harness) == (1, 1, 0)


async def test_relays_through_the_outbox_when_flipped(
    harness: Harness, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(outcome, "RELAY_ROUTE", Route.OUTBOX)
    await join_as_mentor(harness, SAM, "Sam", office_id=OFFICE)
    ref = await request_mentor(harness, ALEX, OFFICE)
    await drain(harness)
    await harness.press(SAM, texts.BTN_ACCEPT)
    await drain(harness)
    calls = len(harness.emu.calls("sendMessage"))

    await harness.send(ALEX, "hello")
    # Queued with the step, not sent: the person is told it went; the mentor has nothing.
    assert harness.last_text(ALEX) == texts.RELAY_SENT_FIRST.format(name="Sam")
    assert f"{ref}: hello" not in harness.texts(SAM)
    assert len(harness.emu.calls("sendMessage")) == calls + 1
    assert (await drain(harness)).sent == [(Kind.RELAY, SAM)]
    last = harness.emu.last_bot_message(SAM)
    assert last is not None and last.text == f"{ref}: hello" and last.protect_content

    await harness.send(SAM, "Hi, I'm Sam.")
    assert "Sam: Hi, I'm Sam." not in harness.texts(ALEX)
    assert (await drain(harness)).sent == [(Kind.RELAY, ALEX)]
    assert harness.last_text(ALEX) == "Sam: Hi, I'm Sam."
