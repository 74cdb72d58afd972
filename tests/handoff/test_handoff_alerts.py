"""Coordinator alerts: whatever raised one (a request nobody can take, a mentor who
blocked the bot, the unclaimed ladder, a mentor removed, twice), every coordinator of
the area gets it exactly once, and the delivery worker can read it because it is sealed
under that coordinator's own key, never the person's."""

from __future__ import annotations

from sqlalchemy import select

from conversations import texts
from conversations.mentor.ladder import run_ladder
from storage.models import MentorRole
from storage.repositories.outbox import Kind
from tests.support.handoff import (
    drain,
    join_as_mentor,
    request_mentor,
    revoke,
    run_job,
    services_of,
)
from tests.support.harness import Harness
from tests.support.tables import OUTBOX

DUKE_STREET, WEST_DERBY = "liverpool-duke-street", "west-derby-eaton-road"
DUKE_NAME = "Liverpool Duke Street Jobcentre (city centre)"
CORA, ALL, HUGH, SAM, JO, KIM = (8_800_900_000 + n for n in range(1, 7))
ALEX, BEA, DAN = (7_700_900_000 + n for n in range(1, 4))
COORDINATORS = (CORA, ALL)


def alerts_seen(harness: Harness, chat: int) -> list[str]:
    return [text for text in harness.texts(chat) if text.startswith("⚠️")]


async def accept_from_list(harness: Harness, mentor: int, ref: str) -> None:
    """A mentor of the area takes a request they saw in /referrals (no card of theirs)."""
    await harness.send(mentor, "/referrals")
    shown = harness.emu.last_bot_message(mentor)
    assert shown is not None and ref in (shown.text or "")
    await harness.press(mentor, texts.BTN_ACCEPT_REF.format(ref=ref))
    assert harness.last_text(mentor) == texts.CARD_YOURS.format(ref=ref)


async def test_every_alert_reaches_each_coordinator_once_and_is_readable(
    harness: Harness,
) -> None:
    await join_as_mentor(harness, CORA, "Cora", area="Liverpool", role=MentorRole.COORDINATOR)
    await join_as_mentor(harness, ALL, "Al", role=MentorRole.COORDINATOR)  # every area
    await join_as_mentor(harness, HUGH, "Hugh", area="Hull", role=MentorRole.COORDINATOR)
    expected: list[str] = []

    # 1. Nobody in the area can take a new request.
    bea = await request_mentor(harness, BEA, WEST_DERBY)
    expected.append(
        texts.ALERT_NO_MENTORS.format(
            ref=bea, office="West Derby Jobcentre (Eaton Road)", area="Liverpool"
        )
    )
    await drain(harness)

    # 2. The only mentor has blocked the bot: the card fails with 403.
    await join_as_mentor(harness, SAM, "Sam", office_id=DUKE_STREET)
    alex = await request_mentor(harness, ALEX, DUKE_STREET)
    harness.emu.block_bot(SAM)
    await harness.settle()
    assert (Kind.CARD, "unreachable") in (await drain(harness)).dead
    # The coordinator learns who to call (Sam, at Duke Street) and about which request.
    expected.append(
        texts.ALERT_DELIVERY_TO.format(
            ref=alex,
            office=DUKE_NAME,
            who=texts.ALERT_WHO_MENTOR.format(name="Sam", office=DUKE_NAME),
            reason=texts.ALERT_REASONS_NAMED["unreachable"],
            name="Sam",
        )
    )
    assert "Sam, a mentor at Liverpool Duke Street" in expected[-1]

    # 3. The ladder finds nobody left and goes to the coordinators.
    harness.clock.advance(minutes=241)
    services = services_of(harness)
    moved = await run_ladder(services.database, services.ring, services.settings, harness.clock())
    assert moved == 1
    expected.append(
        texts.ALERT_UNCLAIMED.format(
            ref=alex, office=DUKE_NAME, area="Liverpool", waited="4 hours", free=0
        )
    )
    await drain(harness)

    # 4. A mentor takes a request and is removed; then the next one too (two events).
    await join_as_mentor(harness, JO, "Jo", office_id=WEST_DERBY)
    dan = await request_mentor(harness, DAN, DUKE_STREET)
    await drain(harness)
    await accept_from_list(harness, JO, dan)
    await revoke(harness, JO)
    await drain(harness)
    await join_as_mentor(harness, KIM, "Kim", office_id=DUKE_STREET)
    await accept_from_list(harness, KIM, dan)
    await revoke(harness, KIM)
    left = texts.ALERT_MENTOR_LEFT.format(ref=dan, office=DUKE_NAME, area="Liverpool")
    expected += [left, left]
    await drain(harness)

    for coordinator in COORDINATORS:
        assert alerts_seen(harness, coordinator) == expected, coordinator
        for alert in alerts_seen(harness, coordinator):
            assert "Alex" not in alert  # never the person's details
    assert alerts_seen(harness, HUGH) == []  # another area's coordinator is not bothered

    async with services.database.transaction() as connection:
        rows = (
            await connection.execute(
                select(
                    OUTBOX.c.recipient_id,
                    OUTBOX.c.payload_subject,
                    OUTBOX.c.status,
                    OUTBOX.c.last_error,
                ).where(OUTBOX.c.kind == Kind.ALERT)
            )
        ).all()
    assert len(rows) == len(expected) * len(COORDINATORS)
    for row in rows:
        assert (row.status, row.last_error) == ("sent", None)
        assert row.payload_subject == row.recipient_id  # the coordinator's key


async def test_an_expired_request_alerts_each_coordinator_of_its_area_once(
    harness: Harness,
) -> None:
    await join_as_mentor(harness, CORA, "Cora", area="Liverpool", role=MentorRole.COORDINATOR)
    await join_as_mentor(harness, ALL, "Al", role=MentorRole.COORDINATOR)  # every area
    await join_as_mentor(harness, HUGH, "Hugh", area="Hull", role=MentorRole.COORDINATOR)
    await join_as_mentor(harness, SAM, "Sam", office_id=DUKE_STREET)
    alex = await request_mentor(harness, ALEX, DUKE_STREET)
    await drain(harness)
    harness.clock.advance(days=harness.settings.referral_pending_max_days, minutes=-1)
    await run_job(harness)  # the ladder's last rung: the unclaimed alert
    await drain(harness)
    unclaimed = [alerts_seen(harness, coordinator) for coordinator in COORDINATORS]

    harness.clock.advance(minutes=2)
    await run_job(harness)
    await run_job(harness)  # a second pass finds nothing more to say
    delivered = await drain(harness)
    alerted = sorted(chat for kind, chat in delivered.sent if kind == Kind.ALERT)
    assert alerted == sorted(COORDINATORS)  # one each, Hugh (Hull) none
    expired = texts.ALERT_EXPIRED.format(ref=alex, office=DUKE_NAME)
    for coordinator, before in zip(COORDINATORS, unclaimed, strict=True):
        assert alerts_seen(harness, coordinator) == [*before, expired], coordinator
    assert alerts_seen(harness, HUGH) == []  # another area's coordinator is not bothered
    assert alex in expired and "Alex" not in expired

    async with services_of(harness).database.transaction() as connection:
        rows = (
            await connection.execute(
                select(OUTBOX.c.recipient_id, OUTBOX.c.payload_subject, OUTBOX.c.status).where(
                    OUTBOX.c.kind == Kind.ALERT, OUTBOX.c.dedupe_key.like("alert:expired:%")
                )
            )
        ).all()
    assert len(rows) == len(COORDINATORS)
    for row in rows:
        assert row.status == "sent"
        assert row.payload_subject == row.recipient_id  # the coordinator's key
