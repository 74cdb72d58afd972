"""The two tiers and the other replies, through the real bot and the Bot API emulator.

Urgent help (999 first), the threat reply (Silent Solution, the Domestic Abuse Helpline),
the reply for a child at risk (NSPCC, Childline), and the check-in: "Are you safe right
now?" with "I need help now" (the urgent reply) and "I'm OK" (back exactly where the
person was: the same step, the same answers, the same question asked again). The words
that triggered any of them are kept nowhere; a check-in answer keeps nothing at all.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from bot.sandbox.emulator import EmulatorUsageError
from conversations import texts
from conversations.safety.check import assess
from conversations.safety.kinds import Kind, Tier
from conversations.steps import Step
from storage.crypto import KeyRing
from tests.crisis.test_flow_crisis import ALEX, assert_kept_nowhere, replies_after
from tests.handoff.test_handoff_request import reach_mentor_step
from tests.support.dbscan import all_rows
from tests.support.handoff import join_as_mentor
from tests.support.harness import Harness
from tests.support.journeys import PERSON_STEPS, reach

# Each is checked against the live check first, so a retrained model that moved one of
# them to another tier fails here with a clear message, not somewhere in a flow.
CHECKIN_WORDS = "whats the point anymore"
URGENT_WORDS = "I took all my pills and my mate won't wake up"
THREAT_WORDS = "my ex is outside with a knife"
CHILD_WORDS = "my toddler drank some of my methadone"
SAM = 8_800_000_501
OFFICE = "portsmouth-arundel-street"
MID_REQUEST = (Step.MENTOR_OFFICE, Step.MENTOR_CONTACT, Step.MENTOR_TIME, Step.MENTOR_CONFIRM)


def test_the_example_words_are_in_the_tiers_these_tests_need() -> None:
    for words, tier, kind in (
        (CHECKIN_WORDS, Tier.CHECKIN, Kind.SUICIDE_SELF_HARM),
        (URGENT_WORDS, Tier.URGENT, Kind.OVERDOSE),
        (THREAT_WORDS, Tier.URGENT, Kind.THREAT),
        (CHILD_WORDS, Tier.URGENT, Kind.CHILD),
    ):
        verdict = assess(words)
        assert verdict is not None, words
        assert (verdict.tier, verdict.kind) == (tier, kind), words


def test_every_reply_has_its_numbers() -> None:
    # Sources: conversations/safety/README.md, "Where each number comes from".
    for number in ("999", "Samaritans", "116 123", "SHOUT to 85258", "NHS 111", "Stay with"):
        assert number in texts.CRISIS
    for number in ("999", "press 55", "0808 2000 247"):
        assert number in texts.CRISIS_THREAT
    for number in ("999", "0808 800 5000", "Childline", "0800 1111"):
        assert number in texts.CRISIS_CHILD
    assert texts.CRISIS_THREAT.index("999") < texts.CRISIS_THREAT.index("55")
    assert texts.CRISIS_CHILD.index("999") < texts.CRISIS_CHILD.index("NSPCC")


async def _send(harness: Harness, user_id: int, words: str) -> list[str]:
    sent = harness.emu.user_sends(user_id, words)
    await harness.settle()
    assert sent.message_id is not None
    return replies_after(harness, user_id, sent.message_id)


async def test_the_urgent_reply_for_a_threat_from_another_person(
    harness: Harness, database_url: str
) -> None:
    await reach(harness, ALEX, Step.MENU)
    after = await _send(harness, ALEX, THREAT_WORDS)
    assert after[0] == texts.CRISIS_THREAT
    assert await harness.state(ALEX) == Step.MENU
    await assert_kept_nowhere(harness, database_url, THREAT_WORDS)


async def test_the_urgent_reply_for_a_child_at_risk(harness: Harness, database_url: str) -> None:
    await reach(harness, ALEX, Step.MENU)
    after = await _send(harness, ALEX, CHILD_WORDS)
    assert after[0] == texts.CRISIS_CHILD
    await assert_kept_nowhere(harness, database_url, CHILD_WORDS)


@pytest.mark.parametrize("words", ["help", "HELP!!", "hlep", "Emergency", "urgent..."])
async def test_only_help_gets_the_urgent_reply(harness: Harness, words: str) -> None:
    await reach(harness, ALEX, Step.MENU)
    after = await _send(harness, ALEX, words)
    assert after[0] == texts.CRISIS


async def test_asking_for_help_with_something_gets_no_crisis_reply(harness: Harness) -> None:
    await reach(harness, ALEX, Step.MENU)
    after = await _send(harness, ALEX, "can you help me find a job")
    assert texts.CRISIS not in after and texts.CHECKIN not in after


async def _checkin_shown(harness: Harness, user_id: int) -> list[str]:
    after = await _send(harness, user_id, CHECKIN_WORDS)
    assert after[0] == texts.CHECKIN
    sent = harness.emu.bot_messages(user_id)
    checkin = next(m for m in reversed(sent) if m.text == texts.CHECKIN)  # the newest
    assert checkin.button_texts == [texts.BTN_CHECKIN_HELP, texts.BTN_CHECKIN_OK]
    return after


def _last_prompt(harness: Harness, user_id: int) -> tuple[str, list[str]]:
    message = harness.emu.last_bot_message(user_id)
    assert message is not None
    return message.text or "", message.button_texts


async def _where(harness: Harness, user_id: int) -> tuple[str | None, Any]:
    person = await harness.record(user_id)
    return (person.state, person.draft) if person is not None else (None, None)


async def _im_ok_returns_them_where_they_were(harness: Harness, user_id: int) -> None:
    prompt = _last_prompt(harness, user_id)
    where = await _where(harness, user_id)
    after = await _checkin_shown(harness, user_id)
    assert texts.CRISIS not in after, "a check-in is not the urgent reply"
    assert await _where(harness, user_id) == where, "a check-in never moves or resets"
    mark = harness.emu.bot_messages(user_id)[-1].message_id
    await harness.press(user_id, texts.BTN_CHECKIN_OK)
    replies = [m for m in harness.emu.bot_messages(user_id) if m.message_id > mark]
    assert replies[0].text == f"{texts.CHECKIN_OK}\n\n{texts.CHECKIN_SEND_AGAIN}"
    # The same question again (it may have come under a few words of introduction).
    asked, buttons = prompt
    assert asked.endswith(replies[-1].text or "?"), "the same question again"
    assert replies[-1].button_texts == buttons, "the same question again"
    assert await _where(harness, user_id) == where
    checkin = next(m for m in harness.emu.bot_messages(user_id) if m.text == texts.CHECKIN)
    assert checkin.button_texts == [], "answered: the buttons go (no second tap)"


@pytest.mark.parametrize("step", PERSON_STEPS, ids=str)
async def test_a_checkin_at_any_step_and_im_ok_returns_them_exactly_there(
    harness: Harness, database_url: str, step: Step
) -> None:
    await reach(harness, ALEX, step)
    await _im_ok_returns_them_where_they_were(harness, ALEX)
    await assert_kept_nowhere(harness, database_url, CHECKIN_WORDS)


@pytest.mark.parametrize("step", MID_REQUEST, ids=str)
async def test_a_checkin_mid_mentor_request_returns_them_exactly_there(
    harness: Harness, database_url: str, step: Step
) -> None:
    await join_as_mentor(harness, SAM, "Sam", office_id=OFFICE)
    await reach_mentor_step(harness, ALEX, step)
    await _im_ok_returns_them_where_they_were(harness, ALEX)
    await assert_kept_nowhere(harness, database_url, CHECKIN_WORDS)


async def test_a_checkin_never_blocks_the_next_answer(harness: Harness) -> None:
    await reach(harness, ALEX, Step.DISCLOSE_OWN_WORDS)
    await _checkin_shown(harness, ALEX)
    await harness.send(ALEX, "I want help with my drinking")
    assert await harness.state(ALEX) == Step.MENU
    assert harness.texts(ALEX)[-1].startswith("✅ Saved")


async def test_i_need_help_now_gives_the_urgent_reply(harness: Harness) -> None:
    await reach(harness, ALEX, Step.DISCLOSE_SUBSTANCES)
    where = await _where(harness, ALEX)
    await _checkin_shown(harness, ALEX)
    await harness.press(ALEX, texts.BTN_CHECKIN_HELP)
    assert harness.last_text(ALEX) == texts.CRISIS
    assert await _where(harness, ALEX) == where
    with pytest.raises(EmulatorUsageError, match="no inline button"):
        await harness.press(ALEX, texts.BTN_CHECKIN_HELP)  # answered: the buttons are gone
    assert harness.texts(ALEX).count(texts.CRISIS) == 1


async def test_a_checkin_answer_keeps_nothing(harness: Harness) -> None:
    await reach(harness, ALEX, Step.MENU)
    await _checkin_shown(harness, ALEX)
    before = await all_rows(harness.services.database)
    await harness.press(ALEX, texts.BTN_CHECKIN_OK)
    after = await all_rows(harness.services.database)
    changed = {name for name in before if before[name] != after[name]}
    # Only the update's id, as every update's (deduplication), and nothing about it.
    assert changed <= {"processed_updates"}


async def test_a_checkin_before_the_notice(harness: Harness) -> None:
    harness.person(ALEX)
    after = await _send(harness, ALEX, CHECKIN_WORDS)
    assert after[0] == texts.CHECKIN
    await harness.press(ALEX, texts.BTN_CHECKIN_OK)
    assert harness.last_text(ALEX).startswith(texts.CHECKIN_OK)
    assert "Before you tell us anything" in harness.last_text(ALEX)
    assert texts.BTN_CONTINUE in harness.emu.button_texts(ALEX)
    assert await harness.record(ALEX) is None, "nothing kept before the notice"


async def test_a_checkin_for_a_mentor_who_is_not_approved_yet(
    database_url: str, ring: KeyRing, tmp_path: Path
) -> None:
    harness = Harness(database_url, ring, tmp_path, mentor_approval=True)
    await harness.start()
    try:
        await join_as_mentor(harness, SAM, "Sam", office_id=OFFICE)
        after = await _send(harness, SAM, CHECKIN_WORDS)
        assert after[0] == texts.CHECKIN
        await harness.press(SAM, texts.BTN_CHECKIN_OK)
        assert harness.last_text(SAM) == texts.CHECKIN_OK, "no privacy notice for a mentor"
        await _send(harness, SAM, CHECKIN_WORDS)
        await harness.press(SAM, texts.BTN_CHECKIN_HELP)
        assert harness.last_text(SAM) == texts.CRISIS
    finally:
        await harness.stop()


async def test_urgent_help_is_on_the_main_menu_and_under_help(harness: Harness) -> None:
    await reach(harness, ALEX, Step.DISCLOSE_DURATION)
    where = await _where(harness, ALEX)
    await harness.send(ALEX, "/help")
    assert texts.BTN_URGENT_HELP in harness.emu.button_texts(ALEX)
    await harness.press(ALEX, texts.BTN_URGENT_HELP)
    assert harness.last_text(ALEX) == texts.CRISIS
    await harness.send(ALEX, "/menu")
    assert texts.BTN_URGENT_HELP in harness.emu.button_texts(ALEX)
    await harness.press(ALEX, texts.BTN_URGENT_HELP)
    assert harness.last_text(ALEX) == texts.CRISIS
    assert texts.BTN_URGENT_HELP in harness.emu.bot_messages(ALEX)[-2].button_texts, (
        "the menu keeps its buttons"
    )
    assert (await _where(harness, ALEX))[1] == where[1]


async def test_urgent_help_under_help_before_the_notice(harness: Harness) -> None:
    harness.person(ALEX)
    await harness.send(ALEX, "/help")
    await harness.press(ALEX, texts.BTN_URGENT_HELP)
    assert harness.last_text(ALEX) == texts.CRISIS
    assert await harness.record(ALEX) is None


async def test_im_ok_offers_to_keep_their_words_and_keeps_them_when_sent_again(
    harness: Harness, database_url: str
) -> None:
    # A message that gets a check-in is not kept. After "I'm OK" the person is told so and
    # may send it again: that once, the check-in stands aside and the words are kept.
    await reach(harness, ALEX, Step.DISCLOSE_OWN_WORDS)
    await _checkin_shown(harness, ALEX)
    await assert_kept_nowhere(harness, database_url, CHECKIN_WORDS)
    await harness.press(ALEX, texts.BTN_CHECKIN_OK)
    assert texts.CHECKIN_SEND_AGAIN in harness.texts(ALEX)[-2]
    after = await _send(harness, ALEX, CHECKIN_WORDS)
    assert texts.CHECKIN not in after and texts.CRISIS_NOT_SAVED not in after
    assert await harness.state(ALEX) == Step.MENU
    assert harness.texts(ALEX)[-1].startswith("✅ Saved")
    assert CHECKIN_WORDS in (await harness.answers(ALEX)).values()


async def test_the_offer_stands_aside_once_and_never_for_urgent_words(harness: Harness) -> None:
    await reach(harness, ALEX, Step.MENU)
    await _checkin_shown(harness, ALEX)
    await harness.press(ALEX, texts.BTN_CHECKIN_OK)
    after = await _send(harness, ALEX, URGENT_WORDS)
    assert after[0] == texts.CRISIS, "urgent words get the urgent reply, offer or not"
    await _checkin_shown(harness, ALEX)
    await harness.press(ALEX, texts.BTN_CHECKIN_OK)
    assert texts.CHECKIN not in await _send(harness, ALEX, CHECKIN_WORDS)
    await _checkin_shown(harness, ALEX)  # the offer was used: the next one is checked again
