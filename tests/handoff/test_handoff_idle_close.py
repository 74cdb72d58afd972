"""A chat nobody closes still ends: with no message either way for
FIRSTSTEP_CHAT_IDLE_CLOSE_DAYS (28) it is closed, both sides are told, the person is
asked the feedback questions, and the after-close retention clock takes the person's data
in its time (before this, a chat its mentor never closed kept everything for ever)."""

from __future__ import annotations

from datetime import timedelta

from conversations import texts
from conversations.mentor.idle import JOB_NAME, close_idle_chats
from conversations.steps import Step
from storage.operations.retention import RetentionPolicy, purge
from storage.repositories import referrals
from storage.repositories.outbox import Kind
from tests.support.handoff import drain, join_as_mentor, request_mentor, services_of
from tests.support.harness import Harness

OFFICE = "portsmouth-arundel-street"
SAM = 8_800_720_001
ALEX = 7_700_720_001
IDLE_DAYS = 28


async def connected(harness: Harness) -> str:
    await join_as_mentor(harness, SAM, "Sam", office_id=OFFICE)
    ref = await request_mentor(harness, ALEX, OFFICE)
    await drain(harness)
    await harness.press(SAM, texts.BTN_ACCEPT)
    await drain(harness)
    return ref


async def close_quiet(harness: Harness) -> int:
    services = services_of(harness)
    return await close_idle_chats(
        services.database, services.ring, services.settings, harness.clock()
    )


async def status_of(harness: Harness, ref: str) -> str:
    async with services_of(harness).database.transaction() as connection:
        row = await referrals.by_ref(connection, ref)
    assert row is not None
    return row.status.value


async def test_a_quiet_chat_is_closed_both_sides_told_then_the_data_goes(
    harness: Harness,
) -> None:
    assert harness.app is not None and harness.app.job_queue is not None
    assert harness.app.job_queue.get_jobs_by_name(JOB_NAME)  # `firststep run` checks
    assert harness.settings.chat_idle_close_days == IDLE_DAYS  # the default
    ref = await connected(harness)
    await harness.send(ALEX, "hello")
    await harness.send(SAM, "Hi, I'm Sam.")
    await drain(harness)

    harness.clock.advance(days=IDLE_DAYS, minutes=-1)
    assert await close_quiet(harness) == 0
    assert await status_of(harness, ref) == "accepted"

    harness.clock.advance(minutes=2)
    assert await close_quiet(harness) == 1
    assert await close_quiet(harness) == 0  # once
    closed_at = harness.clock()
    assert await status_of(harness, ref) == "closed"
    sent = (await drain(harness)).sent
    assert sorted(sent) == sorted([(Kind.MENTOR_NOTICE, SAM), (Kind.CLOSED, ALEX)])
    assert harness.last_text(SAM) == texts.MENTOR_NOTICE_IDLE.format(ref=ref, days=IDLE_DAYS)
    told = texts.CHAT_CLOSED_IDLE.format(name="Sam", ref=ref, days=IDLE_DAYS)
    assert harness.last_text(ALEX) == f"{told}\n\n{texts.FEEDBACK_HELPED}"
    assert texts.FEEDBACK_HELPED_LABELS["yes"] in harness.emu.button_texts(ALEX)
    assert await harness.state(ALEX) == Step.FEEDBACK_HELPED

    # The chat is over for both: the person's next words are not passed on.
    await harness.send(SAM, f"/to {ref} still there?")
    assert harness.last_text(SAM) == texts.MENTOR_CHAT_ENDED.format(ref=ref)

    # The after-close clock runs from the close: the person goes 90 days later.
    services = services_of(harness)
    policy = RetentionPolicy.from_settings(harness.settings)
    after = harness.settings.retention_after_close_days
    early = await purge(services.database, closed_at + _days(after - 1), policy, ring=services.ring)
    assert early["people_after_close"] == 0
    assert await harness.record(ALEX) is not None
    due = await purge(services.database, closed_at + _days(after), policy, ring=services.ring)
    assert due["people_after_close"] == 1
    assert await harness.record(ALEX) is None


async def test_a_message_either_way_keeps_the_chat_open(harness: Harness) -> None:
    ref = await connected(harness)

    harness.clock.advance(days=20)
    await harness.send(SAM, "How are you doing?")  # the mentor writes on day 20
    await drain(harness)
    harness.clock.advance(days=20)  # day 40: 40 days since the accept, 20 since Sam wrote
    assert await close_quiet(harness) == 0
    await harness.send(ALEX, "better, thanks")  # the person writes on day 40
    await drain(harness)
    harness.clock.advance(days=IDLE_DAYS - 1)  # day 67: 27 quiet days
    assert await close_quiet(harness) == 0
    assert await status_of(harness, ref) == "accepted"
    harness.clock.advance(days=1, minutes=1)
    assert await close_quiet(harness) == 1
    assert await status_of(harness, ref) == "closed"


def _days(n: int) -> timedelta:
    return timedelta(days=n)
