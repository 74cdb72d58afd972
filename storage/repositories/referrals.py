"""Referrals: a person's request for a peer mentor, from asking to feedback.

Every change of status is one conditional UPDATE on the status it expects, so two
mentors tapping Accept at once, a withdrawal racing a claim, or a repeated button can
never produce two winners or move a referral backwards. The public reference
(`R-7KQ3XW`) is random and means nothing; it is what mentors and the person see.
"""

from __future__ import annotations

import secrets
from collections.abc import Awaitable, Callable, Iterable, Sequence
from dataclasses import dataclass, fields
from datetime import datetime, timedelta
from enum import IntEnum
from typing import Any

from sqlalchemy import Row, Select, bindparam, func, select, update
from sqlalchemy.ext.asyncio import AsyncConnection

from storage.crypto import FieldCipher
from storage.db import Database
from storage.models import ContactBy as ContactBy
from storage.models import (
    Disclosure,
    OutboxMessage,
    OutboxStatus,
    Person,
    Referral,
    ReferralStatus,
    new_id,
)
from storage.models import Share as Share
from storage.repositories.outbox import Kind, Reason
from storage.sql import insert_ignore

# No 0/O, 1/I/L, 2/Z, 5/S, 8/B: a reference read aloud or copied by hand stays right.
REF_ALPHABET = "ACDEFGHJKMNPQRTUVWXY3479"
REF_LENGTH = 6
REF_PATTERN = rf"R-[{REF_ALPHABET}]{{{REF_LENGTH}}}"

LIVE = (ReferralStatus.PENDING, ReferralStatus.ACCEPTED)


class Ladder(IntEnum):
    """How far an unclaimed referral has gone (referrals.ladder_step)."""

    OFFICE = 0  # cards went to the office's mentors
    REMINDED = 1  # the office's mentors were reminded
    AREA = 2  # cards went to every mentor in the pilot area
    COORDINATOR = 3  # the coordinators were alerted; nothing more is automatic


def new_public_ref() -> str:
    return "R-" + "".join(secrets.choice(REF_ALPHABET) for _ in range(REF_LENGTH))


@dataclass(frozen=True, slots=True)
class ReferralRow:
    """A referral as the flows and jobs see it (its columns, in this order, are read)."""

    id: str
    public_ref: str
    person_id: str | None
    office_id: str
    pilot_area: str
    status: ReferralStatus
    version: int
    mentor_id: str | None
    contact_by: ContactBy
    share: Share
    time_window: str
    ladder_step: int
    next_ladder_at: datetime | None
    created_at: datetime
    feedback_helped: str | None
    feedback_next_step: str | None

    def may_be_taken_by(self, office_id: str | None, pilot_area: str | None) -> bool:
        """Its own office's mentors, or the whole pilot area's once the ladder widened."""
        if office_id is not None and office_id == self.office_id:
            return True
        return (
            self.ladder_step >= Ladder.AREA
            and pilot_area is not None
            and pilot_area == self.pilot_area
        )


# The mapped attributes of ReferralRow's fields, in its order: a row is the record.
_COLUMNS = tuple(getattr(Referral, field.name) for field in fields(ReferralRow))
_SELECT: Select[*tuple[Any, ...]] = select(*_COLUMNS)


def _row(row: Row[*tuple[Any, ...]]) -> ReferralRow:
    return ReferralRow(*row)


async def _one(
    connection: AsyncConnection,
    statement: Select[*tuple[Any, ...]],
    parameters: dict[str, Any],
) -> ReferralRow | None:
    row = (await connection.execute(statement, parameters)).first()
    return _row(row) if row is not None else None


async def _many(
    connection: AsyncConnection,
    statement: Select[*tuple[Any, ...]],
    parameters: dict[str, Any] | None = None,
) -> list[ReferralRow]:
    return [_row(row) for row in await connection.execute(statement, parameters)]


# The reads a person's request makes on its way, built once (the values come as parameters).
_BY_REF = _SELECT.where(Referral.public_ref == bindparam("public_ref"))
_BY_ID = _SELECT.where(Referral.id == bindparam("referral_id"))
_LIVE_FOR_PERSON = (
    _SELECT.where(Referral.person_id == bindparam("person_id"), Referral.status.in_(LIVE))
    .order_by(Referral.created_at.desc())
    .limit(1)
)
_LATEST_CLOSED = (
    _SELECT.where(
        Referral.person_id == bindparam("person_id"),
        Referral.status == ReferralStatus.CLOSED,
    )
    .order_by(Referral.closed_at.desc())
    .limit(1)
)


# ------------------------------------------------------------------------------ reads


async def by_ref(connection: AsyncConnection, public_ref: str) -> ReferralRow | None:
    return await _one(connection, _BY_REF, {"public_ref": public_ref})


async def by_id(connection: AsyncConnection, referral_id: str) -> ReferralRow | None:
    return await _one(connection, _BY_ID, {"referral_id": referral_id})


async def live_for_person(connection: AsyncConnection, person_id: str) -> ReferralRow | None:
    """The person's open request (waiting or with a mentor), newest first."""
    rows = await _many(connection, _LIVE_FOR_PERSON, {"person_id": person_id})
    return rows[0] if rows else None


async def all_live_for_person(connection: AsyncConnection, person_id: str) -> list[ReferralRow]:
    return await _many(
        connection, _SELECT.where(Referral.person_id == person_id, Referral.status.in_(LIVE))
    )


async def latest_closed_for_person(
    connection: AsyncConnection, person_id: str
) -> ReferralRow | None:
    """The person's most recently closed referral (the one feedback is about)."""
    return await _one(connection, _LATEST_CLOSED, {"person_id": person_id})


async def held_by(connection: AsyncConnection, mentor_id: str) -> list[ReferralRow]:
    """Referrals this mentor accepted and has not closed."""
    return await _many(
        connection,
        _SELECT.where(
            Referral.mentor_id == mentor_id,
            Referral.status == ReferralStatus.ACCEPTED,
        ).order_by(Referral.accepted_at),
    )


async def waiting_for(
    connection: AsyncConnection,
    *,
    office_id: str | None,
    pilot_area: str | None,
    limit: int = 10,
) -> list[ReferralRow]:
    """Pending referrals a mentor of this office/area may take, oldest first."""
    mine = Referral.office_id == office_id
    if pilot_area is not None:
        mine = mine | (
            (Referral.pilot_area == pilot_area) & (Referral.ladder_step >= int(Ladder.AREA))
        )
    return await _many(
        connection,
        _SELECT.where(Referral.status == ReferralStatus.PENDING, mine)
        .order_by(Referral.created_at)
        .limit(limit),
    )


async def waiting_in_area(
    connection: AsyncConnection, pilot_area: str | None, limit: int = 20
) -> list[ReferralRow]:
    """Pending referrals in a pilot area (every area when None), for coordinators."""
    statement = _SELECT.where(Referral.status == ReferralStatus.PENDING)
    if pilot_area is not None:
        statement = statement.where(Referral.pilot_area == pilot_area)
    return await _many(connection, statement.order_by(Referral.created_at).limit(limit))


async def due_on_ladder(connection: AsyncConnection, now: datetime, limit: int) -> list[str]:
    """Ids of pending referrals whose next ladder step is due."""
    rows = await connection.execute(
        select(Referral.id)
        .where(
            Referral.status == ReferralStatus.PENDING,
            Referral.next_ladder_at.is_not(None),
            Referral.next_ladder_at <= now,
        )
        .order_by(Referral.next_ladder_at)
        .limit(limit)
    )
    return list(rows.scalars())


async def next_on_ladder(database: Database, pending_max_days: float) -> datetime | None:
    """When the unclaimed ladder next has something to do: the earliest next rung of a
    pending referral, or the moment the oldest one is withdrawn unclaimed, whichever
    comes first; None when nothing is pending."""
    async with database.transaction() as connection:
        step, oldest = (
            await connection.execute(
                select(
                    func.min(Referral.next_ladder_at),
                    func.min(Referral.created_at),
                ).where(Referral.status == ReferralStatus.PENDING)
            )
        ).one()
    candidates = [step] if step is not None else []
    if oldest is not None:
        candidates.append(oldest + timedelta(days=pending_max_days))
    return min(candidates, default=None)


async def pending_since(
    connection: AsyncConnection, made_before: datetime, limit: int
) -> list[str]:
    """Ids of referrals still unclaimed that were made before `made_before`, oldest first."""
    rows = await connection.execute(
        select(Referral.id)
        .where(
            Referral.status == ReferralStatus.PENDING,
            Referral.created_at <= made_before,
        )
        .order_by(Referral.created_at)
        .limit(limit)
    )
    return list(rows.scalars())


# ------------------------------------------------------------------------------- jobs

# One referral's business transaction in a job (the unclaimed ladder, expiry): it gets the
# open transaction and the referral as it stands in it, and says whether it changed it.
ReferralWork = Callable[[AsyncConnection, ReferralRow], Awaitable[bool]]


async def _each(
    database: Database,
    ids: list[str],
    still_due: Callable[[ReferralRow], bool],
    work: ReferralWork,
) -> int:
    """`work` on each referral in a transaction of its own, read again inside it and
    skipped when it is no longer due (claimed, withdrawn or moved since the ids were
    listed). How many `work` changed."""
    changed = 0
    for referral_id in ids:
        async with database.transaction() as connection:
            referral = await by_id(connection, referral_id)
            if referral is not None and still_due(referral):
                changed += await work(connection, referral)
    return changed


async def each_due_on_ladder(
    database: Database, now: datetime, limit: int, work: ReferralWork
) -> int:
    """`work` on up to `limit` pending referrals whose next ladder step is due, each in
    its own transaction; how many it changed."""
    async with database.transaction() as connection:
        due = await due_on_ladder(connection, now, limit)

    def still_due(referral: ReferralRow) -> bool:
        return (
            referral.status == ReferralStatus.PENDING
            and referral.next_ladder_at is not None
            and referral.next_ladder_at <= now
        )

    return await _each(database, due, still_due, work)


async def each_pending_since(
    database: Database, made_before: datetime, limit: int, work: ReferralWork
) -> int:
    """`work` on up to `limit` referrals still unclaimed that were made before
    `made_before`, oldest first, each in its own transaction; how many it changed."""
    async with database.transaction() as connection:
        due = await pending_since(connection, made_before, limit)

    def still_due(referral: ReferralRow) -> bool:
        return referral.created_at <= made_before

    return await _each(database, due, still_due, work)


def _quiet_since() -> Any:
    """When an accepted chat last had a message either way (its acceptance, if none)."""
    return func.coalesce(Referral.last_message_at, Referral.accepted_at)


async def each_idle(
    database: Database, quiet_before: datetime, limit: int, work: ReferralWork
) -> int:
    """`work` on up to `limit` accepted referrals with no message either way since
    `quiet_before`, quietest first, each in its own transaction; how many it changed."""
    async with database.transaction() as connection:
        rows = await connection.execute(
            select(Referral.id)
            .where(Referral.status == ReferralStatus.ACCEPTED, _quiet_since() <= quiet_before)
            .order_by(_quiet_since())
            .limit(limit)
        )
        due = list(rows.scalars())

    def still_due(referral: ReferralRow) -> bool:
        return referral.status == ReferralStatus.ACCEPTED

    return await _each(database, due, still_due, work)


# ----------------------------------------------------------------------------- writes


async def create(
    connection: AsyncConnection,
    *,
    person_id: str,
    office_id: str,
    pilot_area: str,
    contact_by: ContactBy,
    share: Share,
    time_window: str,
    ladder_step: Ladder,
    next_ladder_at: datetime | None,
    now: datetime,
) -> ReferralRow:
    """Insert a pending referral with a fresh, unique public reference."""
    referral_id = new_id()
    for _ in range(8):
        public_ref = new_public_ref()
        inserted = await insert_ignore(
            connection,
            Referral,
            {
                "id": referral_id,
                "public_ref": public_ref,
                "person_id": person_id,
                "office_id": office_id,
                "pilot_area": pilot_area,
                "status": ReferralStatus.PENDING,
                "version": 0,
                "contact_by": contact_by,
                "share": share,
                "time_window": time_window,
                "ladder_step": int(ladder_step),
                "next_ladder_at": next_ladder_at,
                "created_at": now,
            },
        )
        if inserted:
            row = await by_id(connection, referral_id)
            assert row is not None
            return row
    raise RuntimeError("could not find an unused reference")  # 24**6 choices: never in practice


async def claim(
    connection: AsyncConnection, referral: ReferralRow, mentor_id: str, now: datetime
) -> bool:
    """Accept: ONE conditional UPDATE. True only for the one caller that changed the row."""
    result = await connection.execute(
        update(Referral)
        .where(
            Referral.id == referral.id,
            Referral.status == ReferralStatus.PENDING,
        )
        .values(
            status=ReferralStatus.ACCEPTED,
            mentor_id=mentor_id,
            accepted_at=now,
            last_message_at=None,  # a new chat: quiet since now
            next_ladder_at=None,
            version=Referral.version + 1,
        )
    )
    return bool(result.rowcount == 1)


def _withdrawn(now: datetime) -> dict[str, Any]:
    """What a referral's row says once it ended without a mentor's chat (stopped or expired)."""
    return {
        "status": ReferralStatus.WITHDRAWN,
        "closed_at": now,
        "next_ladder_at": None,
        "version": Referral.version + 1,
        "phone_ct": None,
    }


async def withdraw(
    connection: AsyncConnection, referral: ReferralRow, person_id: str, now: datetime
) -> bool:
    """The person stops a request nobody has taken yet; only theirs. Once a mentor took
    it, stopping it would end a live chat: that is `close`, after the person said yes."""
    result = await connection.execute(
        update(Referral)
        .where(
            Referral.id == referral.id,
            Referral.person_id == person_id,
            Referral.status == ReferralStatus.PENDING,
        )
        .values(**_withdrawn(now))
    )
    return bool(result.rowcount == 1)


async def expire(connection: AsyncConnection, referral: ReferralRow, now: datetime) -> bool:
    """Withdraw a request nobody took in time; only while it is still unclaimed, so a
    mentor's Accept at the same moment either wins or finds it ended, never both."""
    result = await connection.execute(
        update(Referral)
        .where(
            Referral.id == referral.id,
            Referral.status == ReferralStatus.PENDING,
        )
        .values(**_withdrawn(now))
    )
    return bool(result.rowcount == 1)


async def close(
    connection: AsyncConnection,
    referral: ReferralRow,
    now: datetime,
    *,
    mentor_id: str | None = None,
    person_id: str | None = None,
) -> bool:
    """End an accepted referral: by its mentor (/close) or by its person (End chat)."""
    if (mentor_id is None) == (person_id is None):
        raise ValueError("closed by exactly one of mentor_id or person_id")
    owner = (
        Referral.mentor_id == mentor_id
        if mentor_id is not None
        else Referral.person_id == person_id
    )
    result = await connection.execute(
        update(Referral)
        .where(
            Referral.id == referral.id,
            Referral.status == ReferralStatus.ACCEPTED,
            owner,
        )
        .values(
            status=ReferralStatus.CLOSED,
            closed_at=now,
            version=Referral.version + 1,
            phone_ct=None,
        )
    )
    return bool(result.rowcount == 1)


async def keep_phone(
    connection: AsyncConnection, cipher: FieldCipher, referral_id: str, phone: str
) -> None:
    """Keep the number the person shared, sealed under their key, while the request is
    live (for the mentor who takes it, and for a handback)."""
    sealed = cipher.seal_text(Referral.__tablename__, "phone_ct", referral_id, phone)
    await connection.execute(
        update(Referral).where(Referral.id == referral_id).values(phone_ct=sealed)
    )


async def phone_of(
    connection: AsyncConnection, cipher: FieldCipher, referral_id: str
) -> str | None:
    """The number kept for a live request (None: none shared, or the request ended)."""
    sealed = (
        await connection.execute(select(Referral.phone_ct).where(Referral.id == referral_id))
    ).scalar_one_or_none()
    if sealed is None:
        return None
    return cipher.open_text(Referral.__tablename__, "phone_ct", referral_id, sealed)


async def close_idle(
    connection: AsyncConnection, referral: ReferralRow, quiet_before: datetime, now: datetime
) -> bool:
    """End an accepted chat nobody wrote in since `quiet_before`; False when it closed
    meanwhile or a message came (the condition is checked in the UPDATE itself)."""
    result = await connection.execute(
        update(Referral)
        .where(
            Referral.id == referral.id,
            Referral.status == ReferralStatus.ACCEPTED,
            _quiet_since() <= quiet_before,
        )
        .values(
            status=ReferralStatus.CLOSED,
            closed_at=now,
            version=Referral.version + 1,
            phone_ct=None,
        )
    )
    return bool(result.rowcount == 1)


async def touch(connection: AsyncConnection, referral_id: str, now: datetime) -> None:
    """A message was passed on in this chat (either way): its quiet clock starts again."""
    await connection.execute(
        update(Referral).where(Referral.id == referral_id).values(last_message_at=now)
    )


async def reopen(connection: AsyncConnection, referral: ReferralRow) -> bool:
    """Give an accepted referral back (its mentor left the service): open to the whole
    pilot area at once, with the coordinators already told, so no timer is needed."""
    result = await connection.execute(
        update(Referral)
        .where(
            Referral.id == referral.id,
            Referral.status == ReferralStatus.ACCEPTED,
            Referral.mentor_id == referral.mentor_id,
        )
        .values(
            status=ReferralStatus.PENDING,
            mentor_id=None,
            accepted_at=None,
            last_message_at=None,
            ladder_step=int(Ladder.COORDINATOR),
            next_ladder_at=None,
            version=Referral.version + 1,
        )
    )
    return bool(result.rowcount == 1)


FEEDBACK_COLUMNS = {"helped": Referral.feedback_helped, "next": Referral.feedback_next_step}


async def save_feedback(
    connection: AsyncConnection, referral: ReferralRow, person_id: str, question: str, value: str
) -> bool:
    """One answer, once, on the person's own closed referral."""
    column = FEEDBACK_COLUMNS[question]
    result = await connection.execute(
        update(Referral)
        .where(
            Referral.id == referral.id,
            Referral.person_id == person_id,
            Referral.status == ReferralStatus.CLOSED,
            column.is_(None),
        )
        .values({column: value})
    )
    return bool(result.rowcount == 1)


async def advance_ladder(
    connection: AsyncConnection,
    referral: ReferralRow,
    to_step: Ladder,
    next_ladder_at: datetime | None,
) -> bool:
    """Move an unclaimed referral one rung up; False if it was claimed or moved meanwhile."""
    result = await connection.execute(
        update(Referral)
        .where(
            Referral.id == referral.id,
            Referral.status == ReferralStatus.PENDING,
            Referral.ladder_step == referral.ladder_step,
        )
        .values(ladder_step=int(to_step), next_ladder_at=next_ladder_at)
    )
    return bool(result.rowcount == 1)


# ------------------------------------------------------------- the cards mentors were sent


@dataclass(frozen=True, slots=True)
class CardMessage:
    """One card or reminder queued for a mentor, and how far its delivery got."""

    outbox_id: str
    recipient_id: str
    kind: str
    status: OutboxStatus
    sent_message_id: int | None


async def cards_of(
    connection: AsyncConnection, referral_id: str, kinds: Sequence[Kind]
) -> list[CardMessage]:
    rows = await connection.execute(
        select(
            OutboxMessage.id,
            OutboxMessage.recipient_id,
            OutboxMessage.kind,
            OutboxMessage.status,
            OutboxMessage.sent_message_id,
        )
        .where(OutboxMessage.referral_id == referral_id, OutboxMessage.kind.in_(list(kinds)))
        .order_by(OutboxMessage.created_at, OutboxMessage.id)
    )
    return [CardMessage(*row) for row in rows]


async def drop_unsent(
    connection: AsyncConnection,
    referral_id: str,
    kinds: Iterable[Kind],
    reason: Reason = Reason.OBSOLETE,
) -> int:
    """Cancel queued messages of these kinds that no worker has picked up yet."""
    result = await connection.execute(
        update(OutboxMessage)
        .where(
            OutboxMessage.referral_id == referral_id,
            OutboxMessage.kind.in_(list(kinds)),
            OutboxMessage.status == OutboxStatus.PENDING,
        )
        .values(status=OutboxStatus.DEAD, last_error=reason, payload_ct=None)
    )
    return int(result.rowcount)


# --------------------------------------------------------- the person's step, from outside


async def lock_person(connection: AsyncConnection, person_id: str | None) -> None:
    """Take the person's row lock first, as their own updates do (PersonTransaction.load).

    A mentor's claim or close changes the referral and then the person's step; the
    person's own withdrawal changes them the other way round. Locking people before
    referrals in both keeps PostgreSQL from deadlocking them. (SQLite's BEGIN IMMEDIATE
    already runs one writer at a time.)
    """
    if person_id is None or connection.dialect.name != "postgresql":
        return
    await connection.execute(select(Person.id).where(Person.id == person_id).with_for_update())


async def move_person(
    connection: AsyncConnection,
    person_id: str,
    *,
    from_states: Iterable[str],
    to_state: str,
) -> bool:
    """Move a person's step because of someone else's action (a mentor accepted, closed).

    Only from the steps listed, and with a version bump, so a person's own update that
    read the old step fails its version check instead of overwriting this.
    """
    result = await connection.execute(
        update(Person)
        .where(Person.id == person_id, Person.state.in_(list(from_states)))
        .values(state=to_state, state_version=Person.state_version + 1)
    )
    return bool(result.rowcount == 1)


_SHARED_ANSWERS = select(Disclosure.id, Disclosure.field, Disclosure.value_ct).where(
    Disclosure.person_id == bindparam("person_id"),
    Disclosure.field.in_(bindparam("fields", expanding=True)),
)


async def shared_answers(
    connection: AsyncConnection, cipher: FieldCipher, person_id: str, answers: Iterable[str]
) -> dict[str, str]:
    """The answers a person let mentors see, decrypted with their key, for a card."""
    rows = await connection.execute(
        _SHARED_ANSWERS, {"person_id": person_id, "fields": list(answers)}
    )
    return {
        row.field: cipher.open_text(
            Disclosure.__tablename__, f"value_ct:{row.field}", row.id, row.value_ct
        )
        for row in rows
    }
