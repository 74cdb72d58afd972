"""Urgent help at any step: the crisis reply comes first, the chat carries on, and the
words that triggered it are kept nowhere. (Which phrases trigger: tests/crisis/test_rules.py;
the check-in and the other replies: test_flow_checkin.py.)"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from bot.sandbox import Injected
from conversations import texts
from conversations.safety.check import assess
from conversations.steps import Step
from storage.crypto import KeyRing
from storage.directory import office_by_id
from storage.models import MentorRole
from tests.support.dbscan import all_rows, cells_containing, files_containing, sqlite_files
from tests.support.handoff import drain, join_as_mentor, request_mentor
from tests.support.harness import Harness
from tests.support.journeys import PERSON_STEPS, reach

ALEX = 7_700_000_401
WORDS = "I took all my pills and my mate won't wake up"
NUMBERS = ("999", "Samaritans", "116 123", "85258", "NHS 111")


def first_reply_after(harness: Harness, user_id: int, message_id: int) -> str:
    replies = [m for m in harness.emu.bot_messages(user_id) if m.message_id > message_id]
    assert replies, "no reply"
    return replies[0].text or ""


def replies_after(harness: Harness, user_id: int, message_id: int) -> list[str]:
    """Every bot message in this chat since `message_id`, oldest first."""
    return [m.text or "" for m in harness.emu.bot_messages(user_id) if m.message_id > message_id]


async def assert_kept_nowhere(harness: Harness, database_url: str, words: str) -> None:
    rows = await all_rows(harness.services.database)
    assert cells_containing(rows, words) == []
    assert files_containing(sqlite_files(database_url), words) == []
    assert words not in (await harness.answers(ALEX)).values()


def test_the_crisis_reply_has_every_number() -> None:
    for number in NUMBERS:
        assert number in texts.CRISIS


@pytest.mark.parametrize("step", PERSON_STEPS, ids=str)
async def test_crisis_text_at_any_step_gets_urgent_help_first_and_the_chat_goes_on(
    harness: Harness, database_url: str, step: Step
) -> None:
    await reach(harness, ALEX, step)
    sent = harness.emu.user_sends(ALEX, WORDS)
    await harness.settle()
    assert sent.message_id is not None
    assert first_reply_after(harness, ALEX, sent.message_id) == texts.CRISIS
    assert texts.CRISIS_NOT_SAVED in harness.texts(ALEX)
    assert await harness.state(ALEX) == step, "the conversation carries on where it was"
    await assert_kept_nowhere(harness, database_url, WORDS)

    # …and the next answer still works as the next step.
    if step == Step.DISCLOSE_OWN_WORDS:
        await harness.send(ALEX, "I'm safe now, I want help with drinking")
        assert await harness.state(ALEX) == Step.MENU
        assert harness.texts(ALEX)[-1].startswith("✅ Saved")
    else:
        await harness.send(ALEX, "/menu")
        assert harness.last_text(ALEX) == texts.MENU


async def test_crisis_before_the_notice_gets_urgent_help_and_nothing_is_kept(
    harness: Harness, database_url: str
) -> None:
    harness.person(ALEX)
    sent = harness.emu.user_sends(ALEX, WORDS)
    await harness.settle()
    assert sent.message_id is not None
    assert first_reply_after(harness, ALEX, sent.message_id) == texts.CRISIS
    assert "Before you tell us anything" in harness.last_text(ALEX)
    await assert_kept_nowhere(harness, database_url, WORDS)


async def test_crisis_in_what_the_guards_refuse_still_gets_urgent_help(
    harness: Harness, database_url: str
) -> None:
    await reach(harness, ALEX, Step.DISCLOSE_OWN_WORDS)
    too_long = WORDS + " " + "and I can't stop shaking " * 100
    cases: list[tuple[str, Callable[[], Injected]]] = [
        ("too long", lambda: harness.emu.user_sends(ALEX, too_long)),
        ("caption", lambda: harness.emu.user_sends_media(ALEX, "photo", caption=WORDS)),
    ]
    for name, act in cases:
        sent = act()
        await harness.settle()
        assert sent.message_id is not None
        assert first_reply_after(harness, ALEX, sent.message_id) == texts.CRISIS, name

    calm = harness.emu.user_sends(ALEX, "thinking")
    await harness.settle()
    assert calm.message_id is not None
    mark = harness.emu.bot_messages(ALEX)[-1].message_id
    harness.emu.user_edits(ALEX, calm.message_id, "I want to kill myself")
    await harness.settle()
    assert first_reply_after(harness, ALEX, mark) == texts.CRISIS
    assert harness.last_text(ALEX) == texts.CRISIS, "an edit changes nothing else"
    await assert_kept_nowhere(harness, database_url, "I want to kill myself")
    await assert_kept_nowhere(harness, database_url, too_long)


# -- mentors and coordinators at work ------------------------------------------------------

SAM = 8_800_000_401
CORA = 8_800_000_402
OFFICE = "portsmouth-arundel-street"
# Safety advice a mentor passes on: it reads like a crisis, and it is the mentor's job.
ADVICE = "If you ever feel you want to end it all, call 999"


async def test_mentors_and_coordinators_at_work_get_no_crisis_reply(harness: Harness) -> None:
    office = office_by_id(OFFICE)
    assert office is not None and assess(ADVICE) is not None
    await join_as_mentor(harness, SAM, "Sam", office_id=OFFICE)
    await join_as_mentor(harness, CORA, "Cora", area=office.pilot_area, role=MentorRole.COORDINATOR)
    ref = await request_mentor(harness, ALEX, OFFICE)
    await drain(harness)
    await harness.press(SAM, texts.BTN_ACCEPT)
    await drain(harness)

    await harness.send(SAM, f"/to {ref} {ADVICE}")
    await drain(harness)
    assert harness.last_text(ALEX) == f"Sam: {ADVICE}"
    assert texts.CRISIS not in harness.texts(SAM)  # the check in group -1
    sent = harness.emu.user_sends(SAM, ADVICE)  # plain text: to the one chat Sam holds
    await harness.settle()
    await drain(harness)
    assert harness.last_text(ALEX) == f"Sam: {ADVICE}"
    assert sent.message_id is not None
    harness.emu.user_edits(SAM, sent.message_id, "I want to kill myself, he said")  # guard
    await harness.settle()
    assert harness.last_text(SAM) == texts.EDITS_IGNORED
    assert texts.CRISIS not in harness.texts(SAM)  # passed on: the mentor's job

    # Words that reach no one may be about the coordinator: help comes first.
    said = harness.emu.user_sends(CORA, ADVICE)
    await harness.settle()
    assert said.message_id is not None
    assert replies_after(harness, CORA, said.message_id) == [
        texts.CRISIS,
        texts.COORDINATOR_HELP,
    ]

    # The same words from the person they help do get the urgent reply.
    await harness.send(ALEX, "/menu")
    said = harness.emu.user_sends(ALEX, ADVICE)
    await harness.settle()
    assert said.message_id is not None
    assert first_reply_after(harness, ALEX, said.message_id) == texts.CRISIS


async def test_a_mentors_own_words_of_danger_get_help_when_they_reach_no_one(
    harness: Harness, database_url: str
) -> None:
    """Mentors have lived experience; relapse happens. Words of danger that are passed on
    to no one (no chat to pass them to, or more than one) get the urgent-help reply first,
    then how to pass messages on; words passed on never do."""
    await join_as_mentor(harness, SAM, "Sam", office_id=OFFICE)
    # No chat held: nothing is passed on.
    said = harness.emu.user_sends(SAM, WORDS)
    await harness.settle()
    assert said.message_id is not None
    assert replies_after(harness, SAM, said.message_id) == [texts.CRISIS, texts.MENTOR_RELAY_HOW]
    ordinary = harness.emu.user_sends(SAM, "Is anyone there?")
    await harness.settle()
    assert ordinary.message_id is not None
    assert replies_after(harness, SAM, ordinary.message_id) == [texts.MENTOR_RELAY_HOW]

    # One chat held: the same words are passed on, and the mentor gets no crisis reply.
    ref = await request_mentor(harness, ALEX, OFFICE)
    await drain(harness)
    await harness.press(SAM, texts.BTN_ACCEPT)
    await drain(harness)
    passed = harness.emu.user_sends(SAM, ADVICE)
    await harness.settle()
    await drain(harness)
    assert passed.message_id is not None
    assert harness.last_text(ALEX) == f"Sam: {ADVICE}"
    assert texts.CRISIS not in replies_after(harness, SAM, passed.message_id)
    assert ref in harness.all_text(SAM)
    await assert_kept_nowhere(harness, database_url, WORDS)


async def test_a_mentor_not_yet_approved_still_gets_the_crisis_reply(
    database_url: str, ring: KeyRing, tmp_path: Path
) -> None:
    harness = Harness(database_url, ring, tmp_path, mentor_approval=True)
    await harness.start()
    try:
        await join_as_mentor(harness, SAM, "Sam", office_id=OFFICE)
        assert harness.last_text(SAM) == texts.NAME_PENDING.format(name="Sam")
        sent = harness.emu.user_sends(SAM, WORDS)
        await harness.settle()
        assert sent.message_id is not None
        assert first_reply_after(harness, SAM, sent.message_id) == texts.CRISIS
        assert harness.last_text(SAM) == texts.MENTOR_WAIT_APPROVAL
    finally:
        await harness.stop()
