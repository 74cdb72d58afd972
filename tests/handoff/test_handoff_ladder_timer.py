"""The unclaimed ladder keeps its times to the second: each pass sleeps until the next
step is due (not a once-a-minute tick), a new request wakes it, and a restart takes the
steps that fell due while the bot was down. Sub-minute settings, the real JobQueue and a
wall clock: nothing here calls the ladder by hand."""

from __future__ import annotations

import asyncio
import time
from datetime import datetime, timedelta
from pathlib import Path

from storage.crypto import KeyRing
from storage.models import MentorRole
from storage.repositories import referrals
from storage.repositories.referrals import Ladder, ReferralRow
from tests.support.handoff import join_as_mentor, request_mentor, services_of
from tests.support.harness import Harness

DUKE_STREET, WEST_DERBY = "liverpool-duke-street", "west-derby-eaton-road"
SAM, JO, CORA = 8_800_510_001, 8_800_510_002, 8_800_510_003
ALEX = 7_700_510_001
# Minutes, counted from the request: 1.8 s, 3.6 s, 5.4 s.
REMIND, AREA, TEAM = 0.03, 0.06, 0.09
LATE = timedelta(seconds=1.0)  # the most a step may be late (a tick a minute: up to 60 s)


def ladder_harness(database_url: str, ring: KeyRing, tmp_path: Path) -> Harness:
    return Harness(
        database_url,
        ring,
        tmp_path,
        wall_clock=True,
        ladder_office_reminder_minutes=REMIND,
        ladder_area_minutes=AREA,
        ladder_coordinator_minutes=TEAM,
    )


async def referral(harness: Harness, ref: str) -> ReferralRow:
    async with services_of(harness).database.transaction() as connection:
        row = await referrals.by_ref(connection, ref)
    assert row is not None
    return row


async def watch_rungs(
    harness: Harness, ref: str, until: Ladder, timeout: float
) -> dict[int, datetime]:
    """When each rung was first seen (polled every 50 ms), up to `until`."""
    seen: dict[int, datetime] = {}
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        row = await referral(harness, ref)
        now = harness.clock()
        seen.setdefault(row.ladder_step, now)
        if row.ladder_step >= until:
            break
        await asyncio.sleep(0.05)
    return seen


async def test_each_step_is_taken_when_due_not_at_the_next_minute(
    database_url: str, ring: KeyRing, tmp_path: Path
) -> None:
    harness = ladder_harness(database_url, ring, tmp_path)
    await harness.start()
    try:
        await join_as_mentor(harness, SAM, "Sam", office_id=DUKE_STREET)
        await join_as_mentor(harness, JO, "Jo", office_id=WEST_DERBY)  # same pilot area
        await join_as_mentor(harness, CORA, "Cora", area="Liverpool", role=MentorRole.COORDINATOR)
        ref = await request_mentor(harness, ALEX, DUKE_STREET)
        made = (await referral(harness, ref)).created_at

        seen = await watch_rungs(harness, ref, Ladder.COORDINATOR, timeout=TEAM * 60 + 10)

        for rung, minutes in (
            (Ladder.REMINDED, REMIND),
            (Ladder.AREA, AREA),
            (Ladder.COORDINATOR, TEAM),
        ):
            due = made + timedelta(minutes=minutes)
            assert rung in seen, f"{rung.name} never reached; seen {sorted(seen)}"
            assert due <= seen[rung] <= due + LATE, (rung.name, seen[rung] - due)
    finally:
        await harness.stop()


async def test_a_step_that_fell_due_while_down_is_taken_soon_after_start(
    database_url: str, ring: KeyRing, tmp_path: Path
) -> None:
    harness = ladder_harness(database_url, ring, tmp_path)
    await harness.start()
    try:
        await join_as_mentor(harness, SAM, "Sam", office_id=DUKE_STREET)
        ref = await request_mentor(harness, ALEX, DUKE_STREET)
        await harness.stop()
        harness.clock.advance(minutes=REMIND)  # the reminder fell due while it was down
        started = harness.clock()
        await harness.start()
        seen = await watch_rungs(harness, ref, Ladder.REMINDED, timeout=10)
        assert Ladder.REMINDED in seen, "the overdue reminder was not sent after the restart"
        assert seen[Ladder.REMINDED] <= started + timedelta(seconds=1) + LATE
    finally:
        await harness.stop()
