"""The retention schedule, enforced: what goes when (see docs/dpia-notes.md).

Each class of data is purged in its own transaction, so a failure in one leaves the
others done and the next run finishes the job (every step is idempotent):

- people_inactive:    a person with no referral, `inactive_days` after their last message;
- people_after_close: a person whose referrals have all ended, `after_close_days` after the
                      last one ended (and never sooner than `inactive_days` after their
                      last message: someone still talking to us is not erased under them);
- referrals:          referral metadata no longer linked to anyone, `referral_days` after
                      it ended; folded into aggregate counters first ("aggregate, then
                      delete"), so the pilot report keeps its figures;
- outbox:             delivery metadata of sent or dead messages after `outbox_days`,
                      except while their referral is still live (a card may still be
                      edited);
- processed_updates:  update ids after `processed_update_hours` (Telegram redelivers for
                      24 hours at most);
- join_attempts:      wrong-invite-code counters after `processed_update_hours` (their
                      window is one hour);
- request_drafts:     a contact detail (phone number) in an unfinished mentor request,
                      `request_draft_hours` after the person last wrote
                      (`storage.repositories.request_drafts`; needs the key ring to keep the rest);
- web_chats:          a web chat (bot/webchat) unused for `inactive_days` whose person is
                      gone or never accepted the notice, with what it kept for replay.

People are erased exactly as /forget erases them (`storage.repositories.people.erase_person`): rows
deleted, data key shredded, subject journaled, and the write-ahead logs checkpointed.

On PostgreSQL every real run ends by rewriting the tables erasure touches (VACUUM FULL,
`ERASURE_TABLES`): a deleted row keeps its bytes in the table's files until then, and
/forget erases between runs, so this happens whether or not this run erased anyone.
"""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Protocol

from sqlalchemy import ColumnElement, Select, delete, exists, func, insert, not_, or_, select
from sqlalchemy.ext.asyncio import AsyncConnection

from storage.crypto import KeyRing
from storage.db import Database
from storage.models import (
    KEYSTORE_SCHEMA,
    Disclosure,
    JoinAttempt,
    Mentor,
    OperatorNote,
    OutboxMessage,
    OutboxStatus,
    Person,
    ProcessedUpdate,
    Referral,
    ReferralStatus,
    SubjectKey,
    WebChat,
    WebEvent,
)
from storage.repositories.people import erase_person
from storage.repositories.request_drafts import lapse_request_drafts
from storage.repositories.updates import record_event
from storage.repositories.webchat import purge_idle

LAST_PURGE = "last_purge"
# Where erasure deletes a person's or a mentor's bytes (sealed values, pseudonyms, wrapped
# data keys, payloads): rewritten on PostgreSQL after every purge.
ERASURE_TABLES = (
    f"{KEYSTORE_SCHEMA}.{SubjectKey.__tablename__}",
    *(
        model.__tablename__
        for model in (
            Person,
            Disclosure,
            Referral,
            OutboxMessage,
            Mentor,
            JoinAttempt,
            WebChat,
            WebEvent,
        )
    ),
)

LIVE = (ReferralStatus.PENDING, ReferralStatus.ACCEPTED)
FINISHED_OUTBOX = (OutboxStatus.SENT, OutboxStatus.DEAD)

CLASSES = (
    "people_inactive",
    "people_after_close",
    "referrals",
    "outbox",
    "processed_updates",
    "join_attempts",
    "request_drafts",
    "web_chats",
)

# Counters written when unlinked referrals are deleted, read by storage/operations/report.py.
ARCHIVED_REFERRAL = "archived.referral"
ARCHIVED_LADDER = "archived.ladder:{step}"
ARCHIVED_HELPED = "archived.helped:{value}"
ARCHIVED_NEXT_STEP = "archived.next:{value}"


class RetentionSettings(Protocol):
    """The settings purge reads (bot.settings.Settings satisfies it)."""

    @property
    def retention_inactive_days(self) -> int: ...
    @property
    def retention_after_close_days(self) -> int: ...
    @property
    def retention_referral_days(self) -> int: ...
    @property
    def retention_outbox_days(self) -> int: ...
    @property
    def retention_processed_update_hours(self) -> int: ...
    @property
    def request_draft_max_hours(self) -> int: ...


@dataclass(frozen=True, slots=True)
class RetentionPolicy:
    inactive_days: int = 30
    after_close_days: int = 90
    referral_days: int = 365
    outbox_days: int = 30
    processed_update_hours: int = 48
    request_draft_hours: int = 24

    @classmethod
    def from_settings(cls, settings: RetentionSettings) -> RetentionPolicy:
        return cls(
            inactive_days=settings.retention_inactive_days,
            after_close_days=settings.retention_after_close_days,
            referral_days=settings.retention_referral_days,
            outbox_days=settings.retention_outbox_days,
            processed_update_hours=settings.retention_processed_update_hours,
            request_draft_hours=settings.request_draft_max_hours,
        )


class _DryRun(Exception):
    """Raised inside a class's transaction to roll it back after counting."""


def _ended_at() -> ColumnElement[datetime]:
    """When a referral ended (or began, for one that never closed but lost its person)."""
    return func.coalesce(Referral.closed_at, Referral.created_at)


def inactive_people(now: datetime, policy: RetentionPolicy) -> Select[str]:
    """People with no referral at all, silent for `inactive_days`."""
    has_referral = exists().where(Referral.person_id == Person.id)
    return select(Person.id).where(
        Person.last_seen_at <= now - timedelta(days=policy.inactive_days),
        not_(has_referral),
    )


def people_after_close(now: datetime, policy: RetentionPolicy) -> Select[str]:
    """People with referrals, none live, the last ended `after_close_days` ago."""
    theirs = Referral.person_id == Person.id
    live = exists().where(theirs, Referral.status.in_(LIVE))
    recent = exists().where(theirs, _ended_at() > now - timedelta(days=policy.after_close_days))
    return select(Person.id).where(
        Person.last_seen_at <= now - timedelta(days=policy.inactive_days),
        exists().where(theirs),
        not_(live),
        not_(recent),
    )


async def _erase_people(connection: AsyncConnection, query: Select[str], now: datetime) -> int:
    if connection.dialect.name == "postgresql":
        # Lock the rows; a person writing at this moment is re-checked after their commit.
        query = query.with_for_update(of=Person, skip_locked=True)
    ids = [str(row[0]) for row in (await connection.execute(query)).all()]
    for person_id in ids:
        await erase_person(connection, person_id, now)
    return len(ids)


async def _purge_referrals(connection: AsyncConnection, now: datetime, days: int) -> int:
    """Unlinked referral metadata past its time: counted into aggregates, then deleted."""
    cutoff = now - timedelta(days=days)
    rows = (
        await connection.execute(
            select(
                Referral.id,
                Referral.office_id,
                Referral.created_at,
                Referral.ladder_step,
                Referral.feedback_helped,
                Referral.feedback_next_step,
            ).where(Referral.person_id.is_(None), _ended_at() <= cutoff)
        )
    ).all()
    for row in rows:
        office = row.office_id
        day = row.created_at
        await record_event(connection, ARCHIVED_REFERRAL, day, office)
        await record_event(connection, ARCHIVED_LADDER.format(step=int(row.ladder_step)), day)
        if row.feedback_helped:
            await record_event(connection, ARCHIVED_HELPED.format(value=row.feedback_helped), day)
        if row.feedback_next_step:
            value = row.feedback_next_step
            await record_event(connection, ARCHIVED_NEXT_STEP.format(value=value), day)
    if rows:
        await connection.execute(delete(Referral).where(Referral.id.in_([r.id for r in rows])))
    return len(rows)


async def _purge_outbox(connection: AsyncConnection, now: datetime, days: int) -> int:
    cutoff = now - timedelta(days=days)
    live_referral = exists().where(
        Referral.id == OutboxMessage.referral_id, Referral.status.in_(LIVE)
    )
    finished_at = func.coalesce(OutboxMessage.sent_at, OutboxMessage.created_at)
    result = await connection.execute(
        delete(OutboxMessage).where(
            OutboxMessage.status.in_(FINISHED_OUTBOX),
            finished_at <= cutoff,
            or_(OutboxMessage.referral_id.is_(None), not_(live_referral)),
        )
    )
    return int(result.rowcount)


async def _purge_processed(connection: AsyncConnection, now: datetime, hours: int) -> int:
    result = await connection.execute(
        delete(ProcessedUpdate).where(ProcessedUpdate.processed_at <= now - timedelta(hours=hours))
    )
    return int(result.rowcount)


async def _purge_join_attempts(connection: AsyncConnection, now: datetime, hours: int) -> int:
    result = await connection.execute(
        delete(JoinAttempt).where(JoinAttempt.window_start <= now - timedelta(hours=hours))
    )
    return int(result.rowcount)


Step = Callable[[AsyncConnection], Awaitable[int]]


def _steps(now: datetime, policy: RetentionPolicy, ring: KeyRing | None) -> dict[str, Step]:
    return {
        "people_inactive": lambda c: _erase_people(c, inactive_people(now, policy), now),
        "people_after_close": lambda c: _erase_people(c, people_after_close(now, policy), now),
        "referrals": lambda c: _purge_referrals(c, now, policy.referral_days),
        "outbox": lambda c: _purge_outbox(c, now, policy.outbox_days),
        "processed_updates": lambda c: _purge_processed(c, now, policy.processed_update_hours),
        "join_attempts": lambda c: _purge_join_attempts(c, now, policy.processed_update_hours),
        "request_drafts": lambda c: lapse_request_drafts(c, now, policy.request_draft_hours, ring),
        "web_chats": lambda c: purge_idle(c, now - timedelta(days=policy.inactive_days)),
    }


async def purge(
    database: Database,
    now: datetime,
    policy: RetentionPolicy,
    *,
    ring: KeyRing | None = None,
    dry_run: bool = False,
) -> dict[str, int]:
    """Apply the schedule at `now`; returns how many rows (or people) each class lost.

    With `dry_run` every class runs and is then rolled back, so the counts are exactly
    what a real run would remove at this moment. Without the key ring an unfinished
    request loses all it held, not only its contact detail (see
    storage.repositories.request_drafts).
    """
    counts: dict[str, int] = {}
    for name, step in _steps(now, policy, ring).items():
        try:
            async with database.transaction() as connection:
                counts[name] = await step(connection)
                if dry_run:
                    raise _DryRun
        except _DryRun:
            pass
    erased = ("people_inactive", "people_after_close", "request_drafts")
    if not dry_run and any(counts.get(name) for name in erased):
        await database.scrub_wal()  # as after /forget: no older page images left behind
    if not dry_run:
        await database.vacuum_full(ERASURE_TABLES)  # PostgreSQL: dead rows out of the files
    return counts


async def record_purge(database: Database, now: datetime, counts: dict[str, int]) -> None:
    """Note when the schedule last ran and what it removed (counts only)."""
    value = json.dumps({"at": now.isoformat(), "counts": counts}, sort_keys=True)
    async with database.transaction() as connection:
        await connection.execute(delete(OperatorNote).where(OperatorNote.name == LAST_PURGE))
        await connection.execute(insert(OperatorNote).values(name=LAST_PURGE, value=value))


async def last_purge_at(database: Database) -> datetime | None:
    async with database.engine.connect() as connection:
        value = (
            await connection.execute(
                select(OperatorNote.value).where(OperatorNote.name == LAST_PURGE)
            )
        ).scalar_one_or_none()
    if value is None:
        return None
    try:
        return datetime.fromisoformat(json.loads(value)["at"])
    except (ValueError, KeyError, TypeError):
        return None
