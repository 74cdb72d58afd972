"""Referrals: a person's request for a peer mentor, from asking to feedback.

Every change of status is one conditional UPDATE on the status it expects, so two
mentors tapping Accept at once, a withdrawal racing a claim, or a repeated button can
never produce two winners or move a referral backwards. The public reference
(`R-7KQ3XW`) is random and means nothing; it is what mentors and the person see.
"""

from __future__ import annotations

import secrets
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from enum import IntEnum
from typing import Any, cast

from sqlalchemy import Table, bindparam, select, update
from sqlalchemy.ext.asyncio import AsyncConnection

from storage.crypto import FieldCipher
from storage.models import (
    Disclosure,
    OutboxMessage,
    OutboxStatus,
    Person,
    Referral,
    ReferralStatus,
    new_id,
)
from storage.sql import insert_ignore

REFERRALS = cast(Table, Referral.__table__)
OUTBOX = cast(Table, OutboxMessage.__table__)
PEOPLE = cast(Table, Person.__table__)
DISCLOSURES = cast(Table, Disclosure.__table__)

# No 0/O, 1/I/L, 2/Z, 5/S, 8/B: a reference read aloud or copied by hand stays right.
REF_ALPHABET = "ACDEFGHJKMNPQRTUVWXY3479"
REF_LENGTH = 6
REF_PATTERN = rf"R-[{REF_ALPHABET}]{{{REF_LENGTH}}}"

LIVE = (ReferralStatus.PENDING.value, ReferralStatus.ACCEPTED.value)


class Ladder(IntEnum):
    """How far an unclaimed referral has gone (referrals.ladder_step)."""

    OFFICE = 0  # cards went to the office's mentors
    REMINDED = 1  # the office's mentors were reminded
    AREA = 2  # cards went to every mentor in the pilot area
    COORDINATOR = 3  # the coordinators were alerted; nothing more is automatic


class Share:
    NONE = "none"
    CATEGORIES = "categories"


class ContactBy:
    BOT = "bot"
    PHONE = "phone"


def new_public_ref() -> str:
    return "R-" + "".join(secrets.choice(REF_ALPHABET) for _ in range(REF_LENGTH))


@dataclass(frozen=True, slots=True)
class ReferralRow:
    id: str
    public_ref: str
    person_id: str | None
    office_id: str
    pilot_area: str
    status: str
    version: int
    mentor_id: str | None
    contact_by: str
    share: str
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


_COLUMNS = (
    REFERRALS.c.id,
    REFERRALS.c.public_ref,
    REFERRALS.c.person_id,
    REFERRALS.c.office_id,
    REFERRALS.c.pilot_area,
    REFERRALS.c.status,
    REFERRALS.c.version,
    REFERRALS.c.mentor_id,
    REFERRALS.c.contact_by,
    REFERRALS.c.share,
    REFERRALS.c.time_window,
    REFERRALS.c.ladder_step,
    REFERRALS.c.next_ladder_at,
    REFERRALS.c.created_at,
    REFERRALS.c.feedback_helped,
    REFERRALS.c.feedback_next_step,
)


def _row(row: Any) -> ReferralRow:
    return ReferralRow(**{column.name: getattr(row, column.name) for column in _COLUMNS})


async def _one(
    connection: AsyncConnection, statement: Any, parameters: dict[str, Any]
) -> ReferralRow | None:
    row = (await connection.execute(statement, parameters)).first()
    return _row(row) if row is not None else None


async def _many(
    connection: AsyncConnection, statement: Any, parameters: dict[str, Any] | None = None
) -> list[ReferralRow]:
    return [_row(row) for row in await connection.execute(statement, parameters)]


# The reads a person's request makes on its way, built once (the values come as parameters).
_BY_REF = select(*_COLUMNS).where(REFERRALS.c.public_ref == bindparam("public_ref"))
_BY_ID = select(*_COLUMNS).where(REFERRALS.c.id == bindparam("referral_id"))
_LIVE_FOR_PERSON = (
    select(*_COLUMNS)
    .where(REFERRALS.c.person_id == bindparam("person_id"), REFERRALS.c.status.in_(LIVE))
    .order_by(REFERRALS.c.created_at.desc())
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
        connection,
        select(*_COLUMNS).where(REFERRALS.c.person_id == person_id, REFERRALS.c.status.in_(LIVE)),
    )


async def held_by(connection: AsyncConnection, mentor_id: str) -> list[ReferralRow]:
    """Referrals this mentor accepted and has not closed."""
    return await _many(
        connection,
        select(*_COLUMNS)
        .where(
            REFERRALS.c.mentor_id == mentor_id,
            REFERRALS.c.status == ReferralStatus.ACCEPTED.value,
        )
        .order_by(REFERRALS.c.accepted_at),
    )


async def waiting_for(
    connection: AsyncConnection,
    *,
    office_id: str | None,
    pilot_area: str | None,
    limit: int = 10,
) -> list[ReferralRow]:
    """Pending referrals a mentor of this office/area may take, oldest first."""
    mine = REFERRALS.c.office_id == office_id
    if pilot_area is not None:
        mine = mine | (
            (REFERRALS.c.pilot_area == pilot_area) & (REFERRALS.c.ladder_step >= int(Ladder.AREA))
        )
    return await _many(
        connection,
        select(*_COLUMNS)
        .where(REFERRALS.c.status == ReferralStatus.PENDING.value, mine)
        .order_by(REFERRALS.c.created_at)
        .limit(limit),
    )


async def waiting_in_area(
    connection: AsyncConnection, pilot_area: str | None, limit: int = 20
) -> list[ReferralRow]:
    """Pending referrals in a pilot area (every area when None), for coordinators."""
    statement = select(*_COLUMNS).where(REFERRALS.c.status == ReferralStatus.PENDING.value)
    if pilot_area is not None:
        statement = statement.where(REFERRALS.c.pilot_area == pilot_area)
    return await _many(connection, statement.order_by(REFERRALS.c.created_at).limit(limit))


async def due_on_ladder(connection: AsyncConnection, now: datetime, limit: int) -> list[str]:
    """Ids of pending referrals whose next ladder step is due."""
    rows = await connection.execute(
        select(REFERRALS.c.id)
        .where(
            REFERRALS.c.status == ReferralStatus.PENDING.value,
            REFERRALS.c.next_ladder_at.is_not(None),
            REFERRALS.c.next_ladder_at <= now,
        )
        .order_by(REFERRALS.c.next_ladder_at)
        .limit(limit)
    )
    return list(rows.scalars())


async def pending_since(
    connection: AsyncConnection, made_before: datetime, limit: int
) -> list[str]:
    """Ids of referrals still unclaimed that were made before `made_before`, oldest first."""
    rows = await connection.execute(
        select(REFERRALS.c.id)
        .where(
            REFERRALS.c.status == ReferralStatus.PENDING.value,
            REFERRALS.c.created_at <= made_before,
        )
        .order_by(REFERRALS.c.created_at)
        .limit(limit)
    )
    return list(rows.scalars())


# ----------------------------------------------------------------------------- writes


async def create(
    connection: AsyncConnection,
    *,
    person_id: str,
    office_id: str,
    pilot_area: str,
    contact_by: str,
    share: str,
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
            REFERRALS,
            {
                "id": referral_id,
                "public_ref": public_ref,
                "person_id": person_id,
                "office_id": office_id,
                "pilot_area": pilot_area,
                "status": ReferralStatus.PENDING.value,
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
        update(REFERRALS)
        .where(
            REFERRALS.c.id == referral.id,
            REFERRALS.c.status == ReferralStatus.PENDING.value,
        )
        .values(
            status=ReferralStatus.ACCEPTED.value,
            mentor_id=mentor_id,
            accepted_at=now,
            next_ladder_at=None,
            version=REFERRALS.c.version + 1,
        )
    )
    return bool(result.rowcount == 1)


def _withdrawn(now: datetime) -> dict[str, Any]:
    """What a referral's row says once it ended without a mentor's chat (stopped or expired)."""
    return {
        "status": ReferralStatus.WITHDRAWN.value,
        "closed_at": now,
        "next_ladder_at": None,
        "version": REFERRALS.c.version + 1,
    }


async def withdraw(
    connection: AsyncConnection, referral: ReferralRow, person_id: str, now: datetime
) -> bool:
    """The person stops a live request; only theirs, only while it is live."""
    result = await connection.execute(
        update(REFERRALS)
        .where(
            REFERRALS.c.id == referral.id,
            REFERRALS.c.person_id == person_id,
            REFERRALS.c.status.in_(LIVE),
        )
        .values(**_withdrawn(now))
    )
    return bool(result.rowcount == 1)


async def expire(connection: AsyncConnection, referral: ReferralRow, now: datetime) -> bool:
    """Withdraw a request nobody took in time; only while it is still unclaimed, so a
    mentor's Accept at the same moment either wins or finds it ended, never both."""
    result = await connection.execute(
        update(REFERRALS)
        .where(
            REFERRALS.c.id == referral.id,
            REFERRALS.c.status == ReferralStatus.PENDING.value,
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
        REFERRALS.c.mentor_id == mentor_id
        if mentor_id is not None
        else REFERRALS.c.person_id == person_id
    )
    result = await connection.execute(
        update(REFERRALS)
        .where(
            REFERRALS.c.id == referral.id,
            REFERRALS.c.status == ReferralStatus.ACCEPTED.value,
            owner,
        )
        .values(
            status=ReferralStatus.CLOSED.value,
            closed_at=now,
            version=REFERRALS.c.version + 1,
        )
    )
    return bool(result.rowcount == 1)


async def reopen(connection: AsyncConnection, referral: ReferralRow) -> bool:
    """Give an accepted referral back (its mentor left the service): open to the whole
    pilot area at once, with the coordinators already told, so no timer is needed."""
    result = await connection.execute(
        update(REFERRALS)
        .where(
            REFERRALS.c.id == referral.id,
            REFERRALS.c.status == ReferralStatus.ACCEPTED.value,
            REFERRALS.c.mentor_id == referral.mentor_id,
        )
        .values(
            status=ReferralStatus.PENDING.value,
            mentor_id=None,
            accepted_at=None,
            ladder_step=int(Ladder.COORDINATOR),
            next_ladder_at=None,
            version=REFERRALS.c.version + 1,
        )
    )
    return bool(result.rowcount == 1)


FEEDBACK_COLUMNS = {"helped": "feedback_helped", "next": "feedback_next_step"}


async def save_feedback(
    connection: AsyncConnection, referral: ReferralRow, person_id: str, question: str, value: str
) -> bool:
    """One answer, once, on the person's own closed referral."""
    column = REFERRALS.c[FEEDBACK_COLUMNS[question]]
    result = await connection.execute(
        update(REFERRALS)
        .where(
            REFERRALS.c.id == referral.id,
            REFERRALS.c.person_id == person_id,
            REFERRALS.c.status == ReferralStatus.CLOSED.value,
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
        update(REFERRALS)
        .where(
            REFERRALS.c.id == referral.id,
            REFERRALS.c.status == ReferralStatus.PENDING.value,
            REFERRALS.c.ladder_step == referral.ladder_step,
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
    status: str
    sent_message_id: int | None


async def cards_of(
    connection: AsyncConnection, referral_id: str, kinds: Sequence[str]
) -> list[CardMessage]:
    rows = await connection.execute(
        select(
            OUTBOX.c.id,
            OUTBOX.c.recipient_id,
            OUTBOX.c.kind,
            OUTBOX.c.status,
            OUTBOX.c.sent_message_id,
        )
        .where(OUTBOX.c.referral_id == referral_id, OUTBOX.c.kind.in_(list(kinds)))
        .order_by(OUTBOX.c.created_at, OUTBOX.c.id)
    )
    return [
        CardMessage(row.id, row.recipient_id, row.kind, row.status, row.sent_message_id)
        for row in rows
    ]


async def drop_unsent(
    connection: AsyncConnection, referral_id: str, kinds: Iterable[str], reason: str = "obsolete"
) -> int:
    """Cancel queued messages of these kinds that no worker has picked up yet."""
    result = await connection.execute(
        update(OUTBOX)
        .where(
            OUTBOX.c.referral_id == referral_id,
            OUTBOX.c.kind.in_(list(kinds)),
            OUTBOX.c.status == OutboxStatus.PENDING.value,
        )
        .values(status=OutboxStatus.DEAD.value, last_error=reason, payload_ct=None)
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
    await connection.execute(select(PEOPLE.c.id).where(PEOPLE.c.id == person_id).with_for_update())


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
        update(PEOPLE)
        .where(PEOPLE.c.id == person_id, PEOPLE.c.state.in_(list(from_states)))
        .values(state=to_state, state_version=PEOPLE.c.state_version + 1)
    )
    return bool(result.rowcount == 1)


_SHARED_ANSWERS = select(DISCLOSURES.c.id, DISCLOSURES.c.field, DISCLOSURES.c.value_ct).where(
    DISCLOSURES.c.person_id == bindparam("person_id"),
    DISCLOSURES.c.field.in_(bindparam("fields", expanding=True)),
)


async def shared_answers(
    connection: AsyncConnection, cipher: FieldCipher, person_id: str, fields: Iterable[str]
) -> dict[str, str]:
    """The answers a person let mentors see, decrypted with their key, for a card."""
    rows = await connection.execute(
        _SHARED_ANSWERS, {"person_id": person_id, "fields": list(fields)}
    )
    return {
        row.field: cipher.open_text(DISCLOSURES.name, f"value_ct:{row.field}", row.id, row.value_ct)
        for row in rows
    }
