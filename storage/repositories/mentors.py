"""Mentors and coordinators: invites, joining, the first name people see, availability.

A mentor is a subject like a person: found by a keyed pseudonym (role "mentor", so it
cannot be linked to the same account's person pseudonym), with their own data key that
seals their chosen first name and their chat id. Invite codes are kept only as SHA-256;
a code works once (one conditional UPDATE), until it expires, and wrong guesses are
throttled per account. Nothing here knows about Telegram.
"""

from __future__ import annotations

import hashlib
import re
import secrets
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Any

from sqlalchemy import ColumnElement, bindparam, delete, insert, select, update
from sqlalchemy.ext.asyncio import AsyncConnection

from storage.crypto import FieldCipher, KeyRing, Role, pseudonym_candidates
from storage.db import Database
from storage.models import Invite, JoinAttempt, Mentor, MentorRole, MentorStatus, new_id
from storage.repositories.subjects import create_subject_key, open_subject_key
from storage.sql import insert_ignore

CODE_BYTES = 16  # 128 bits: guessing is hopeless, and the throttle makes it slower still
CODE_SHAPE = re.compile(r"^[A-Za-z0-9_-]{22}$")  # base64url of 16 bytes, no padding
JOIN_WINDOW = timedelta(hours=1)


def new_invite_code() -> str:
    return secrets.token_urlsafe(CODE_BYTES)


def code_hash(code: str) -> bytes:
    """Codes are random and long, so a plain SHA-256 is enough (no pepper needed)."""
    return hashlib.sha256(code.encode()).digest()


@dataclass(frozen=True, slots=True, repr=False)
class NewInvite:
    """A code as made: printed once for the coordinator, never stored."""

    code: str
    role: MentorRole
    office_id: str | None
    pilot_area: str | None
    expires_at: datetime

    def __repr__(self) -> str:
        return f"NewInvite(role={self.role!r}, office={self.office_id!r}, code=…)"


@dataclass(slots=True, repr=False)
class MentorRecord:
    """A mentor as one update sees them. `display_name` is decrypted: never log it."""

    id: str
    role: MentorRole
    office_id: str | None
    pilot_area: str | None
    status: MentorStatus
    available: bool
    unreachable: bool
    cipher: FieldCipher
    display_name: str | None

    def __repr__(self) -> str:
        return f"MentorRecord(id={self.id[:6]}…, role={self.role!r}, status={self.status!r})"

    @property
    def active(self) -> bool:
        return self.status == MentorStatus.ACTIVE

    @property
    def is_coordinator(self) -> bool:
        return self.role == MentorRole.COORDINATOR


@dataclass(frozen=True, slots=True)
class MentorSummary:
    """What an operator may see in `firststep mentors list`: never a Telegram id or name."""

    id: str
    role: MentorRole
    office_id: str | None
    pilot_area: str | None
    status: MentorStatus
    available: bool
    unreachable: bool
    created_at: datetime


class JoinResult(StrEnum):
    JOINED = "joined"
    INVALID = "invalid"  # wrong, used or expired: the same answer, so nothing leaks
    THROTTLED = "throttled"
    ALREADY = "already"


@dataclass(frozen=True, slots=True)
class JoinOutcome:
    result: JoinResult
    mentor: MentorRecord | None = None


class MentorLookupError(LookupError):
    """No mentor, or more than one, matches an id prefix given on the command line."""


# ----------------------------------------------------------------------------- invites


async def create_invite(
    connection: AsyncConnection,
    *,
    role: MentorRole,
    office_id: str | None,
    pilot_area: str | None,
    now: datetime,
    ttl: timedelta,
) -> NewInvite:
    """Store the hash of a fresh one-time code and return the code itself."""
    code = new_invite_code()
    expires_at = now + ttl
    await connection.execute(
        insert(Invite).values(
            id=new_id(),
            code_hash=code_hash(code),
            role=role,
            office_id=office_id,
            pilot_area=pilot_area,
            expires_at=expires_at,
            created_at=now,
        )
    )
    return NewInvite(code, role, office_id, pilot_area, expires_at)


async def _throttled(
    connection: AsyncConnection, pseudonyms: list[bytes], now: datetime, limit: int
) -> bool:
    row = (
        await connection.execute(
            select(JoinAttempt.window_start, JoinAttempt.failures).where(
                JoinAttempt.pseudonym.in_(pseudonyms)
            )
        )
    ).first()
    return row is not None and now - row.window_start < JOIN_WINDOW and row.failures >= limit


async def _record_failure(
    connection: AsyncConnection, pseudonyms: list[bytes], now: datetime
) -> None:
    row = (
        await connection.execute(
            select(JoinAttempt.pseudonym, JoinAttempt.window_start).where(
                JoinAttempt.pseudonym.in_(pseudonyms)
            )
        )
    ).first()
    if row is None:
        await insert_ignore(
            connection,
            JoinAttempt,
            {"pseudonym": pseudonyms[0], "window_start": now, "failures": 1},
        )
        return
    values: dict[str, Any] = (
        {"window_start": now, "failures": 1}
        if now - row.window_start >= JOIN_WINDOW
        else {"failures": JoinAttempt.failures + 1}
    )
    await connection.execute(
        update(JoinAttempt).where(JoinAttempt.pseudonym == row.pseudonym).values(**values)
    )


async def redeem_invite(
    connection: AsyncConnection,
    ring: KeyRing,
    *,
    telegram_id: int,
    chat_id: int,
    code: str,
    now: datetime,
    attempts_per_hour: int,
) -> JoinOutcome:
    """Turn a valid code into a mentor waiting to choose their first name.

    The code is spent by one conditional UPDATE (unused and unexpired), so two accounts
    racing for one code get exactly one winner. A wrong code counts against the
    account; past `attempts_per_hour` the code is not even looked at.
    """
    existing = await load_mentor(connection, ring, telegram_id)
    if existing is not None and existing.status != MentorStatus.REVOKED:
        return JoinOutcome(JoinResult.ALREADY, existing)
    pseudonyms = [value for _, value in pseudonym_candidates(ring, Role.MENTOR, telegram_id)]
    if await _throttled(connection, pseudonyms, now, attempts_per_hour):
        return JoinOutcome(JoinResult.THROTTLED)
    digest = code_hash(code) if CODE_SHAPE.match(code) else None
    spent = 0
    if digest is not None:
        result = await connection.execute(
            update(Invite)
            .where(
                Invite.code_hash == digest,
                Invite.used_at.is_(None),
                Invite.expires_at > now,
            )
            .values(used_at=now)
        )
        spent = result.rowcount
    if spent != 1:
        await _record_failure(connection, pseudonyms, now)
        return JoinOutcome(JoinResult.INVALID)
    invite = (
        await connection.execute(
            select(Invite.id, Invite.role, Invite.office_id, Invite.pilot_area).where(
                Invite.code_hash == digest
            )
        )
    ).one()
    mentor = await _enrol(
        connection,
        ring,
        existing=existing,
        telegram_id=telegram_id,
        chat_id=chat_id,
        role=invite.role,
        office_id=invite.office_id,
        pilot_area=invite.pilot_area,
        now=now,
    )
    await connection.execute(update(Invite).where(Invite.id == invite.id).values(used_by=mentor.id))
    await connection.execute(delete(JoinAttempt).where(JoinAttempt.pseudonym.in_(pseudonyms)))
    return JoinOutcome(JoinResult.JOINED, mentor)


async def _enrol(
    connection: AsyncConnection,
    ring: KeyRing,
    *,
    existing: MentorRecord | None,
    telegram_id: int,
    chat_id: int,
    role: MentorRole,
    office_id: str | None,
    pilot_area: str | None,
    now: datetime,
) -> MentorRecord:
    """A new mentor row (or a revoked one, re-invited), waiting for its first name."""
    if existing is not None:
        cipher = existing.cipher
        mentor_id = existing.id
        await connection.execute(
            update(Mentor)
            .where(Mentor.id == mentor_id)
            .values(
                role=role,
                office_id=office_id,
                pilot_area=pilot_area,
                status=MentorStatus.PENDING_NAME,
                available=True,
                unreachable=False,
                display_name_ct=None,
                chat_ref_ct=cipher.seal_text(
                    Mentor.__tablename__, "chat_ref_ct", mentor_id, str(chat_id)
                ),
            )
        )
    else:
        mentor_id = new_id()
        cipher = await create_subject_key(connection, ring, mentor_id, now)
        version, value = pseudonym_candidates(ring, Role.MENTOR, telegram_id)[0]
        await connection.execute(
            insert(Mentor).values(
                id=mentor_id,
                pseudonym=value,
                pseudonym_version=version,
                role=role,
                office_id=office_id,
                pilot_area=pilot_area,
                status=MentorStatus.PENDING_NAME,
                available=True,
                unreachable=False,
                chat_ref_ct=cipher.seal_text(
                    Mentor.__tablename__, "chat_ref_ct", mentor_id, str(chat_id)
                ),
                created_at=now,
            )
        )
    return MentorRecord(
        id=mentor_id,
        role=role,
        office_id=office_id,
        pilot_area=pilot_area,
        status=MentorStatus.PENDING_NAME,
        available=True,
        unreachable=False,
        cipher=cipher,
        display_name=None,
    )


async def set_display_name(
    connection: AsyncConnection, mentor: MentorRecord, name: str, *, needs_approval: bool
) -> MentorStatus | None:
    """Seal the chosen first name; the mentor becomes active (or waits for approval).

    Returns the new status, or None when the mentor was not waiting for a name.
    """
    status = MentorStatus.PENDING_APPROVAL if needs_approval else MentorStatus.ACTIVE
    result = await connection.execute(
        update(Mentor)
        .where(Mentor.id == mentor.id, Mentor.status == MentorStatus.PENDING_NAME)
        .values(
            status=status,
            display_name_ct=mentor.cipher.seal_text(
                Mentor.__tablename__, "display_name_ct", mentor.id, name
            ),
        )
    )
    if result.rowcount != 1:
        return None
    mentor.status = status
    mentor.display_name = name
    return status


async def enrol_mentor(
    connection: AsyncConnection,
    ring: KeyRing,
    *,
    telegram_id: int,
    chat_id: int,
    role: MentorRole,
    office_id: str | None,
    pilot_area: str | None,
    display_name: str,
    now: datetime,
) -> MentorRecord:
    """An active mentor in one step, for the sandbox's demo accounts and for tests.

    Goes through the same invite and naming as `/join`, so it creates nothing a real
    mentor could not.
    """
    invite = await create_invite(
        connection,
        role=role,
        office_id=office_id,
        pilot_area=pilot_area,
        now=now,
        ttl=timedelta(minutes=1),
    )
    joined = await redeem_invite(
        connection,
        ring,
        telegram_id=telegram_id,
        chat_id=chat_id,
        code=invite.code,
        now=now,
        attempts_per_hour=1,
    )
    if joined.mentor is None or joined.result != JoinResult.JOINED:
        raise MentorLookupError("that account is already a mentor")
    await set_display_name(connection, joined.mentor, display_name, needs_approval=False)
    return joined.mentor


# ----------------------------------------------------------------------------- lookups


async def load_mentor(
    connection: AsyncConnection, ring: KeyRing, telegram_id: int
) -> MentorRecord | None:
    """The mentor behind this Telegram account, if any: one indexed lookup by pseudonym."""
    candidates = pseudonym_candidates(ring, Role.MENTOR, telegram_id)
    row = (
        await connection.execute(
            select(
                Mentor.id,
                Mentor.pseudonym,
                Mentor.role,
                Mentor.office_id,
                Mentor.pilot_area,
                Mentor.status,
                Mentor.available,
                Mentor.unreachable,
                Mentor.display_name_ct,
            ).where(Mentor.pseudonym.in_([value for _, value in candidates]))
        )
    ).first()
    if row is None:
        return None
    cipher = await open_subject_key(connection, ring, row.id)
    if cipher is None:
        return None
    primary_version, primary_value = candidates[0]
    if row.pseudonym != primary_value:
        await connection.execute(
            update(Mentor)
            .where(Mentor.id == row.id)
            .values(pseudonym=primary_value, pseudonym_version=primary_version)
        )
    name = (
        cipher.open_text(Mentor.__tablename__, "display_name_ct", row.id, row.display_name_ct)
        if row.display_name_ct is not None
        else None
    )
    return MentorRecord(
        id=row.id,
        role=row.role,
        office_id=row.office_id,
        pilot_area=row.pilot_area,
        status=row.status,
        available=bool(row.available),
        unreachable=bool(row.unreachable),
        cipher=cipher,
        display_name=name,
    )


@dataclass(frozen=True, slots=True)
class MentorTransaction:
    """One update on the mentor side: its open transaction, and the mentor or
    coordinator behind the account (None for someone joining, or a person)."""

    connection: AsyncConnection = field(repr=False)
    mentor: MentorRecord | None


@asynccontextmanager
async def mentor_transaction(
    database: Database, ring: KeyRing, telegram_id: int
) -> AsyncIterator[MentorTransaction]:
    """One transaction for one update on the mentor side, with the mentor loaded: it
    commits when the block ends, and rolls back if the block raises."""
    async with database.transaction() as connection:
        yield MentorTransaction(connection, await load_mentor(connection, ring, telegram_id))


# Every update from a person asks this (the mentor gate): built once.
_STATUS_OF_ACCOUNT = (
    select(Mentor.status)
    .where(Mentor.pseudonym.in_(bindparam("pseudonyms", expanding=True)))
    .limit(1)
)


async def account_status(
    database: Database, ring: KeyRing, telegram_id: int
) -> MentorStatus | None:
    """The status of the mentor or coordinator behind this Telegram account (any status,
    revoked included), or None when it never joined. A look of its own, outside any
    transaction: every update from a person asks it."""
    values = [value for _, value in pseudonym_candidates(ring, Role.MENTOR, telegram_id)]
    rows = await database.look(_STATUS_OF_ACCOUNT, {"pseudonyms": values})
    return rows[0].status if rows else None


async def mentor_chat_id(
    connection: AsyncConnection, ring: KeyRing, mentor_id: str
) -> tuple[int, FieldCipher] | None:
    """Decrypt a mentor's chat id (sealed as mentors.chat_ref_ct under their own key)."""
    cipher = await open_subject_key(connection, ring, mentor_id)
    if cipher is None:
        return None
    sealed = (
        await connection.execute(select(Mentor.chat_ref_ct).where(Mentor.id == mentor_id))
    ).scalar_one_or_none()
    if sealed is None:
        return None
    return int(cipher.open_text(Mentor.__tablename__, "chat_ref_ct", mentor_id, sealed)), cipher


async def display_name_of(connection: AsyncConnection, ring: KeyRing, mentor_id: str) -> str | None:
    cipher = await open_subject_key(connection, ring, mentor_id)
    sealed = (
        await connection.execute(select(Mentor.display_name_ct).where(Mentor.id == mentor_id))
    ).scalar_one_or_none()
    if cipher is None or sealed is None:
        return None
    return cipher.open_text(Mentor.__tablename__, "display_name_ct", mentor_id, sealed)


@dataclass(frozen=True, slots=True)
class MentorLabel:
    """How a coordinator alert names a mentor: the first name people see and where they
    work, nothing else. `name` is decrypted: never log it (the repr leaves it out)."""

    name: str | None = field(repr=False)
    role: MentorRole
    office_id: str | None
    pilot_area: str | None


async def label_of(
    connection: AsyncConnection, ring: KeyRing, mentor_id: str
) -> MentorLabel | None:
    row = (
        await connection.execute(
            select(Mentor.role, Mentor.office_id, Mentor.pilot_area).where(Mentor.id == mentor_id)
        )
    ).first()
    if row is None:
        return None
    name = await display_name_of(connection, ring, mentor_id)
    return MentorLabel(name, MentorRole(row.role), row.office_id, row.pilot_area)


async def status_of(connection: AsyncConnection, mentor_id: str) -> MentorStatus | None:
    return (
        await connection.execute(select(Mentor.status).where(Mentor.id == mentor_id))
    ).scalar_one_or_none()


def _reachable_mentors() -> ColumnElement[bool]:
    return (
        (Mentor.role == MentorRole.MENTOR)
        & (Mentor.status == MentorStatus.ACTIVE)
        & Mentor.available.is_(True)
        & Mentor.unreachable.is_(False)
    )


# Every sent request asks this: built once.
_AT_OFFICE = (
    select(Mentor.id)
    .where(_reachable_mentors(), Mentor.office_id == bindparam("office_id"))
    .order_by(Mentor.created_at, Mentor.id)
)


async def mentors_at_office(connection: AsyncConnection, office_id: str) -> list[str]:
    """Active, available, reachable mentors of one office (who get its new cards)."""
    rows = await connection.execute(_AT_OFFICE, {"office_id": office_id})
    return list(rows.scalars())


async def mentors_in_area(connection: AsyncConnection, pilot_area: str) -> list[str]:
    """Active, available, reachable mentors anywhere in a pilot area."""
    rows = await connection.execute(
        select(Mentor.id)
        .where(_reachable_mentors(), Mentor.pilot_area == pilot_area)
        .order_by(Mentor.created_at, Mentor.id)
    )
    return list(rows.scalars())


# ------------------------------------------------------------------------- changes


async def set_available(connection: AsyncConnection, mentor_id: str, available: bool) -> None:
    """/available and /away. Writing to the bot also shows the mentor is reachable."""
    await connection.execute(
        update(Mentor).where(Mentor.id == mentor_id).values(available=available, unreachable=False)
    )


async def mark_reachable(connection: AsyncConnection, mentor_id: str) -> None:
    await connection.execute(
        update(Mentor)
        .where(Mentor.id == mentor_id, Mentor.unreachable.is_(True))
        .values(unreachable=False)
    )


_SUMMARY = select(
    Mentor.id,
    Mentor.role,
    Mentor.office_id,
    Mentor.pilot_area,
    Mentor.status,
    Mentor.available,
    Mentor.unreachable,
    Mentor.created_at,
)


async def list_mentors(connection: AsyncConnection) -> list[MentorSummary]:
    rows = await connection.execute(_SUMMARY.order_by(Mentor.role, Mentor.office_id, Mentor.id))
    return [MentorSummary(*row) for row in rows]


async def find_by_prefix(connection: AsyncConnection, prefix: str) -> MentorSummary:
    """The one mentor whose id starts with `prefix` (as `mentors list` shows it)."""
    cleaned = prefix.strip().lower()
    if not re.fullmatch(r"[0-9a-f]{4,32}", cleaned):
        raise MentorLookupError("give at least the first 4 characters of the id, as listed")
    rows = (await connection.execute(_SUMMARY.where(Mentor.id.like(f"{cleaned}%")).limit(2))).all()
    if not rows:
        raise MentorLookupError(f"no mentor id starts with {cleaned}")
    if len(rows) > 1:
        raise MentorLookupError(f"more than one mentor id starts with {cleaned}: give more of it")
    return MentorSummary(*rows[0])


async def approve(connection: AsyncConnection, mentor_id: str) -> bool:
    """pending_approval → active; False when the mentor was not waiting for approval."""
    result = await connection.execute(
        update(Mentor)
        .where(Mentor.id == mentor_id, Mentor.status == MentorStatus.PENDING_APPROVAL)
        .values(status=MentorStatus.ACTIVE)
    )
    return bool(result.rowcount == 1)


async def revoke(connection: AsyncConnection, mentor_id: str) -> bool:
    """Any status → revoked; the mentor gets no more cards and every action is refused."""
    result = await connection.execute(
        update(Mentor)
        .where(Mentor.id == mentor_id, Mentor.status != MentorStatus.REVOKED)
        .values(status=MentorStatus.REVOKED, available=False)
    )
    return bool(result.rowcount == 1)
