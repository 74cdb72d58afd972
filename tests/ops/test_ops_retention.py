"""The retention clock: each class of data goes on its day and not a day before.

The clock is moved, not waited for: purge(database, now=...) is given the moment. Every
test runs on SQLite and, when FIRSTSTEP_TEST_DATABASE_URL is set, on PostgreSQL.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select

from bot.housekeeping import CATCH_UP_JOB, PURGE_JOB, schedule_purge
from storage.crypto import KeyRing
from storage.db import Database
from storage.models import EventCount, JoinAttempt, ProcessedUpdate
from storage.operations.retention import (
    ARCHIVED_REFERRAL,
    CLASSES,
    RetentionPolicy,
    last_purge_at,
    purge,
)
from storage.repositories.subjects import open_subject_key
from tests.support.harness import Harness
from tests.support.ops import (
    T0,
    cli_env,
    count,
    days,
    firststep,
    make_outbox,
    make_person,
    make_referral,
    touch_person,
)
from tests.support.tables import DISCLOSURES, JOURNAL, KEYS, OUTBOX, PEOPLE, REFERRALS

POLICY = RetentionPolicy()  # the defaults: 30 / 90 / 365 / 30 days, 48 hours


async def purged(database: Database, now: datetime, name: str) -> int:
    counts = await purge(database, now, POLICY)
    assert set(counts) == set(CLASSES)
    return counts[name]


async def test_person_without_referral_goes_30_days_after_last_message(
    database: Database, ring: KeyRing
) -> None:
    person = await make_person(database, ring, 501, now=T0)
    await touch_person(database, ring, 501, T0 + days(10))  # last message: day 10
    last = T0 + days(10)

    assert await purged(database, last + days(29), "people_inactive") == 0
    assert await purged(database, last + days(30) - timedelta(minutes=1), "people_inactive") == 0
    assert await count(database, PEOPLE, id=person) == 1

    assert await purged(database, last + days(30), "people_inactive") == 1
    assert await count(database, PEOPLE, id=person) == 0
    assert await count(database, DISCLOSURES, person_id=person) == 0
    # Erased exactly as /forget erases: key shredded, subject journaled.
    assert await count(database, KEYS, subject_id=person) == 0
    assert await count(database, JOURNAL, subject_id=person) == 1
    async with database.engine.connect() as connection:
        assert await open_subject_key(connection, ring, person) is None


async def test_person_goes_90_days_after_their_referral_closed(
    database: Database, ring: KeyRing
) -> None:
    person = await make_person(database, ring, 502, now=T0)
    closed = T0 + days(20)
    await make_referral(
        database, person, status="closed", accepted_at=T0 + days(1), closed_at=closed
    )

    # Past the 30-day inactivity clock, but a referral keeps them to day 90 after close.
    assert await purged(database, T0 + days(45), "people_inactive") == 0
    assert await purged(database, closed + days(89), "people_after_close") == 0
    assert await count(database, PEOPLE, id=person) == 1

    assert await purged(database, closed + days(90), "people_after_close") == 1
    assert await count(database, PEOPLE, id=person) == 0
    assert await count(database, KEYS, subject_id=person) == 0
    assert await count(database, JOURNAL, subject_id=person) == 1
    # The referral stays as unlinked metadata for the evaluation.
    async with database.engine.connect() as connection:
        linked = (await connection.execute(REFERRALS.select())).one()
    assert linked.person_id is None
    assert linked.status == "closed"


async def test_live_referral_and_recent_messages_keep_a_person(
    database: Database, ring: KeyRing
) -> None:
    waiting = await make_person(database, ring, 503, now=T0)
    await make_referral(database, waiting, status="pending")
    talking = await make_person(database, ring, 504, now=T0)
    await make_referral(database, talking, status="withdrawn", closed_at=T0)
    await touch_person(database, ring, 504, T0 + days(100))  # back after the close

    counts = await purge(database, T0 + days(120), POLICY)
    assert counts["people_inactive"] == counts["people_after_close"] == 0
    assert await count(database, PEOPLE, id=waiting) == 1
    assert await count(database, PEOPLE, id=talking) == 1

    # Once they fall silent, the 30-day clock applies from their last message.
    assert await purged(database, T0 + days(129), "people_after_close") == 0
    assert await purged(database, T0 + days(130), "people_after_close") == 1
    assert await count(database, PEOPLE, id=talking) == 0
    assert await count(database, PEOPLE, id=waiting) == 1


async def test_unlinked_referral_metadata_goes_365_days_after_it_ended_into_aggregates(
    database: Database,
) -> None:
    ended = T0 + days(3)
    await make_referral(
        database,
        None,
        office_id="hull",
        status="closed",
        accepted_at=T0 + days(1),
        closed_at=ended,
        ladder_step=1,
        helped="yes",
        next_step="training",
    )
    assert await purged(database, ended + days(364), "referrals") == 0
    assert await count(database, REFERRALS) == 1

    assert await purged(database, ended + days(365), "referrals") == 1
    assert await count(database, REFERRALS) == 0
    async with database.engine.connect() as connection:
        rows = (
            await connection.execute(
                select(EventCount.event, EventCount.office_id, EventCount.count)
            )
        ).all()
    events = {(event, office_id): n for event, office_id, n in rows}
    assert events[(ARCHIVED_REFERRAL, "hull")] == 1
    assert events[("archived.ladder:1", "")] == 1
    assert events[("archived.helped:yes", "")] == 1
    assert events[("archived.next:training", "")] == 1


async def test_linked_referral_is_never_purged_as_metadata(
    database: Database, ring: KeyRing
) -> None:
    person = await make_person(database, ring, 505, now=T0)
    await make_referral(database, person, status="pending")
    # A live referral, years on: still linked, so not "metadata" yet.
    assert await purged(database, T0 + days(800), "referrals") == 0
    assert await count(database, REFERRALS) == 1


async def test_outbox_metadata_goes_30_days_after_sending_unless_its_referral_is_live(
    database: Database, ring: KeyRing
) -> None:
    sent = T0 + days(1)
    done = await make_outbox(database, status="sent", created_at=T0, sent_at=sent)
    dead = await make_outbox(database, status="dead", created_at=T0)
    person = await make_person(database, ring, 506, now=T0)
    live = await make_referral(database, person, status="pending")
    card = await make_outbox(database, status="sent", created_at=T0, sent_at=sent, referral_id=live)
    waiting = await make_outbox(database, status="pending", created_at=T0)

    assert await purged(database, T0 + days(29), "outbox") == 0
    assert await purged(database, T0 + days(30), "outbox") == 1  # the dead row (no sent_at)
    assert await count(database, OUTBOX, id=dead) == 0
    assert await purged(database, sent + days(30) - timedelta(seconds=1), "outbox") == 0
    assert await purged(database, sent + days(30), "outbox") == 1
    assert await count(database, OUTBOX, id=done) == 0
    # Kept: a card whose referral is still live, and anything not yet delivered.
    assert await count(database, OUTBOX, id=card) == 1
    assert await count(database, OUTBOX, id=waiting) == 1


async def test_processed_updates_and_join_attempts_go_after_48_hours(database: Database) -> None:
    async with database.transaction() as connection:
        await connection.execute(
            ProcessedUpdate.__table__.insert().values(update_id=1, processed_at=T0)  # type: ignore[attr-defined]
        )
        await connection.execute(
            JoinAttempt.__table__.insert().values(  # type: ignore[attr-defined]
                pseudonym=b"\x01" * 32, window_start=T0, failures=3
            )
        )
    counts = await purge(database, T0 + timedelta(hours=47), POLICY)
    assert counts["processed_updates"] == counts["join_attempts"] == 0
    counts = await purge(database, T0 + timedelta(hours=48), POLICY)
    assert counts["processed_updates"] == counts["join_attempts"] == 1


async def test_dry_run_counts_exactly_and_removes_nothing(
    database: Database, ring: KeyRing
) -> None:
    first = await make_person(database, ring, 507, now=T0)
    second = await make_person(database, ring, 508, now=T0)
    later = T0 + days(31)

    dry = await purge(database, later, POLICY, dry_run=True)
    assert dry["people_inactive"] == 2
    assert await count(database, PEOPLE) == 2
    assert await count(database, KEYS) == 2
    assert await count(database, JOURNAL) == 0

    real = await purge(database, later, POLICY)
    assert real == dry
    assert await count(database, PEOPLE, id=first) == 0
    assert await count(database, PEOPLE, id=second) == 0
    # And a second run finds nothing left to do.
    assert set((await purge(database, later, POLICY)).values()) == {0}


async def test_custom_policy_is_respected(database: Database, ring: KeyRing) -> None:
    person = await make_person(database, ring, 509, now=T0)
    short = RetentionPolicy(inactive_days=7)
    assert (await purge(database, T0 + days(6), short))["people_inactive"] == 0
    assert (await purge(database, T0 + days(7), short))["people_inactive"] == 1
    assert await count(database, PEOPLE, id=person) == 0


async def test_the_clock_test_catches_an_off_by_one_schedule(
    database: Database, ring: KeyRing, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A deliberately broken schedule (one day late): the clock test must reject it."""
    from storage.operations import retention

    original = retention.inactive_people

    def one_day_late(now: datetime, policy: RetentionPolicy) -> Any:
        return original(now - timedelta(days=1), policy)

    monkeypatch.setattr(retention, "inactive_people", one_day_late)
    with pytest.raises(AssertionError):
        await test_person_without_referral_goes_30_days_after_last_message(database, ring)


async def test_daily_purge_job_inside_the_running_bot(harness: Harness) -> None:
    """The JobQueue job `firststep run` schedules: daily at purge_at_utc, plus a catch-up
    when the last purge is overdue. Run it with the bot's clock moved 30 days on."""
    assert harness.app is not None
    jobs = await schedule_purge(harness.app, harness.settings)
    assert [job.name for job in jobs] == [PURGE_JOB, CATCH_UP_JOB]
    daily = jobs[0]
    assert daily.next_t is not None
    assert daily.next_t.astimezone(UTC).time() == harness.settings.purge_at_utc

    await harness.onboard(601)
    services = harness.app.bot_data.services
    assert await count(services.database, PEOPLE) == 1

    harness.clock.advance(days=29, hours=23)
    await daily.run(harness.app)
    assert await count(services.database, PEOPLE) == 1
    harness.clock.advance(hours=1)
    await daily.run(harness.app)
    assert await count(services.database, PEOPLE) == 0
    assert await last_purge_at(services.database) == harness.clock.now

    # The person comes back as a stranger: the notice again, nothing remembered.
    await harness.send(601, "/start")
    assert "Before you tell us anything" in harness.last_text(601)

    # A purge ran within the day: no catch-up on the next start.
    for job in jobs:
        job.schedule_removal()
    again = await schedule_purge(harness.app, harness.settings)
    assert [job.name for job in again] == [PURGE_JOB]


async def test_purge_command_dry_run_then_real(
    database: Database, database_url: str, ring: KeyRing, tmp_path: Path
) -> None:
    """`firststep purge` on the real clock: a person silent since January is past 30 days."""
    person = await make_person(database, ring, 602, now=T0)
    env = cli_env(database_url)

    dry = await firststep(tmp_path, env, "purge", "--dry-run")
    assert dry.code == 0, dry.err
    assert "people_inactive: would remove 1" in dry.out
    assert "dry run: nothing was removed" in dry.out
    assert await count(database, PEOPLE, id=person) == 1
    assert await last_purge_at(database) is None

    real = await firststep(tmp_path, env, "purge")
    assert real.code == 0, real.err
    assert "people_inactive: removed 1" in real.out
    assert await count(database, PEOPLE, id=person) == 0
    assert await count(database, JOURNAL, subject_id=person) == 1
    assert await last_purge_at(database) is not None
