"""The person's side of storage: one business transaction per step of their journey.

`person_transaction` opens exactly one database transaction for one incoming update:
find the person by pseudonym, then register, move to the next step (with a version
check, so a duplicate or stale update cannot move them backwards), save what they
disclosed, or erase them. Decrypted values live only inside the returned objects,
whose reprs never show them.
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator, Mapping
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, NamedTuple

from sqlalchemy import bindparam, delete, func, insert, select, update
from sqlalchemy.ext.asyncio import AsyncConnection

from storage.crypto import CryptoError, FieldCipher, KeyRing, Role, pseudonym_candidates
from storage.db import Database
from storage.models import (
    Disclosure,
    OutboxMessage,
    OutboxStatus,
    Person,
    Referral,
    ReferralStatus,
    SubjectKey,
    new_id,
)
from storage.repositories import webchat
from storage.repositories.outbox import Reason, unlink_erased
from storage.repositories.person_draft import Draft
from storage.repositories.subjects import create_subject_key, open_subject_key, shred_subject_key
from storage.sql import upsert

USER_ROLE = Role.USER


@dataclass(slots=True, repr=False)
class PersonRecord:
    """A person as one update sees them. `draft` holds decrypted step data: never log it."""

    id: str
    state: str
    state_version: int
    notice_accepted: bool
    draft: Draft
    cipher: FieldCipher
    unreachable: bool = False

    def __repr__(self) -> str:
        return f"PersonRecord(id={self.id[:6]}…, state={self.state!r}, v={self.state_version})"


class PersonReferral(NamedTuple):
    """One of the person's referrals as `/mydata` shows it: every column that says
    something about them (the ladder's bookkeeping and the mentor's id do not)."""

    public_ref: str
    office_id: str
    status: ReferralStatus
    share: str
    contact_by: str
    time_window: str
    feedback_helped: str | None
    feedback_next_step: str | None


@dataclass(frozen=True, slots=True)
class ErasureSummary:
    """What `/forget` removed, in counts only, to tell the person."""

    disclosures: int
    referrals_withdrawn: int
    notifications_cancelled: int
    mentor_ids_to_tell: tuple[str, ...] = field(default=())


class StaleStep(Exception):
    """The person's state moved on since it was read (a duplicate or stale update)."""


# The statements every update runs, built once (building one costs more than SQLite
# takes to run it); the values come as parameters.
_LOAD = (
    select(
        Person.id,
        Person.pseudonym,
        Person.state,
        Person.state_version,
        Person.notice_accepted_at,
        Person.draft_ct,
        Person.unreachable,
        Person.chat_ref_ct,
        # None when the key was shredded but the row was left behind (outer join).
        SubjectKey.wrapped_dek,
    )
    .select_from(Person)
    .outerjoin(SubjectKey, SubjectKey.subject_id == Person.id)
    .where(Person.pseudonym.in_(bindparam("pseudonyms", expanding=True)))
)
_LOAD_LOCKED = _LOAD.with_for_update(of=Person)  # PostgreSQL: one update at a time each
_ANSWERS = select(Disclosure.id, Disclosure.field, Disclosure.value_ct).where(
    Disclosure.person_id == bindparam("person_id")
)
# An answer is one row per (person, field); a new answer replaces the old one's value.
_ANSWER_KEY = ("person_id", "field")
_ANSWER_REPLACED = ("id", "value_ct", "updated_at")
# SET columns come from the parameters' other keys.
_MOVE = update(Person).where(
    Person.id == bindparam("person_id"),
    Person.state_version == bindparam("expected_version"),
)
_TOUCH = update(Person).where(Person.id == bindparam("person_id"))
_REGISTER = insert(Person)  # the values come as parameters
_REFERRALS = (
    select(
        Referral.public_ref,
        Referral.office_id,
        Referral.status,
        Referral.share,
        Referral.contact_by,
        Referral.time_window,
        Referral.feedback_helped,
        Referral.feedback_next_step,
    )
    .where(Referral.person_id == bindparam("person_id"))
    .order_by(Referral.created_at.desc())
)


class PersonTransaction:
    """One unit of work on one person, bound to one open transaction."""

    def __init__(
        self, connection: AsyncConnection, ring: KeyRing, telegram_id: int, now: datetime
    ) -> None:
        self._connection = connection
        self._ring = ring
        self._telegram_id = telegram_id
        self.now = now
        self.person: PersonRecord | None = None
        self._seen_written = False
        self.erased = False  # the write-ahead logs are scrubbed once this commits

    def __repr__(self) -> str:
        return f"PersonTransaction(person={self.person!r})"

    @property
    def ring(self) -> KeyRing:
        """The key ring, for what the same business transaction seals for others."""
        return self._ring

    async def load(self) -> PersonRecord | None:
        """Find the person and their data key in one statement; unwrap the key once."""
        candidates = pseudonym_candidates(self._ring, USER_ROLE, self._telegram_id)
        statement = _LOAD_LOCKED if self._connection.dialect.name == "postgresql" else _LOAD
        pseudonyms = [value for _, value in candidates]
        row = (await self._connection.execute(statement, {"pseudonyms": pseudonyms})).first()
        if row is None:
            return None
        if row.wrapped_dek is None:
            # Key shredded but rows left behind (e.g. a crash mid-erasure): finish the job.
            await self._connection.execute(delete(Person).where(Person.id == row.id))
            return None
        cipher = FieldCipher.from_wrapped(self._ring, row.wrapped_dek, row.id)
        self._check_owner(cipher, row.id, row.chat_ref_ct)
        primary_version, primary_value = candidates[0]
        if row.pseudonym != primary_value:
            await self._connection.execute(
                update(Person)
                .where(Person.id == row.id)
                .values(
                    pseudonym=primary_value,
                    pseudonym_version=primary_version,
                    **self._seen(bool(row.unreachable)),
                )
            )
            self._seen_written = True
        draft = Draft.from_stored(open_draft(cipher, row.id, row.draft_ct))
        self.person = PersonRecord(
            id=row.id,
            state=row.state,
            state_version=row.state_version,
            notice_accepted=row.notice_accepted_at is not None,
            draft=draft,
            cipher=cipher,
            unreachable=bool(row.unreachable) and not self._seen_written,
        )
        return self.person

    def _check_owner(self, cipher: FieldCipher, person_id: str, chat_ref_ct: bytes | None) -> None:
        """Refuse a row that is not this Telegram account's, though its pseudonym says so.

        The pseudonym column is not sealed: someone who can write the database could swap
        two people's pseudonyms, and each would be shown the other's answers. A person's
        private chat id is their Telegram user id, and it is sealed in their row under
        their own key (bound to the row), so it says whose row this is: a swapped row
        fails here, as if it had failed its integrity check, and nothing is shown.
        """
        if chat_ref_ct is None:
            return
        sealed_for = cipher.open_text(Person.__tablename__, "chat_ref_ct", person_id, chat_ref_ct)
        if sealed_for != str(self._telegram_id):
            raise CryptoError("stored data failed its integrity check")

    def _seen(self, unreachable: bool) -> dict[str, Any]:
        """The columns an update from the person refreshes: when we last heard from them,
        and, if a 403 marked them unreachable, that they can be reached again (they wrote
        to us, so they unblocked the bot)."""
        values: dict[str, Any] = {"last_seen_at": self.now}
        if unreachable:
            values["unreachable"] = False
        return values

    async def touch(self) -> None:
        """Record the contact (retention counts from it) unless a write this update did.

        `move` and `register` write `last_seen_at` (and clear `unreachable`) in their own
        statement, so most updates pay nothing extra for it; an update that changed
        nothing writes it here.
        """
        if self.person is None or self._seen_written:
            return
        await self._connection.execute(
            _TOUCH, {**self._seen(self.person.unreachable), "person_id": self.person.id}
        )
        self._seen_written = True
        self.person.unreachable = False

    async def register(
        self, *, state: str, chat_id: int, draft: Draft | None = None
    ) -> PersonRecord:
        """Create the person once they accepted the privacy notice (idempotent)."""
        if self.person is not None:
            return self.person
        version, value = pseudonym_candidates(self._ring, USER_ROLE, self._telegram_id)[0]
        person_id = new_id()
        cipher = await create_subject_key(self._connection, self._ring, person_id, self.now)
        await self._connection.execute(
            _REGISTER,
            {
                "id": person_id,
                "pseudonym": value,
                "pseudonym_version": version,
                "state": state,
                "state_version": 0,
                "draft_ct": seal_draft(cipher, person_id, (draft or Draft()).to_stored()),
                "chat_ref_ct": cipher.seal_text(
                    Person.__tablename__, "chat_ref_ct", person_id, str(chat_id)
                ),
                "notice_accepted_at": self.now,
                "created_at": self.now,
                "last_seen_at": self.now,
            },
        )
        self._seen_written = True
        self.person = PersonRecord(
            id=person_id,
            state=state,
            state_version=0,
            notice_accepted=True,
            draft=draft or Draft(),
            cipher=cipher,
        )
        return self.person

    async def move(
        self,
        state: str,
        *,
        draft: Draft | None = None,
        disclosures: Mapping[str, str] | None = None,
    ) -> PersonRecord:
        """Write the next step, its draft (None: unchanged) and any answers; raise StaleStep
        on a race."""
        person = self._require()
        values: dict[str, Any] = {
            "state": state,
            "state_version": person.state_version + 1,
            **self._seen(person.unreachable),
        }
        if draft is not None:
            values["draft_ct"] = seal_draft(person.cipher, person.id, draft.to_stored())
        result = await self._connection.execute(
            _MOVE,
            {**values, "person_id": person.id, "expected_version": person.state_version},
        )
        if result.rowcount != 1:
            raise StaleStep
        self._seen_written = True
        person.unreachable = False
        for name, value in (disclosures or {}).items():
            await self._save_disclosure(person, name, value)
        person.state = state
        person.state_version += 1
        if draft is not None:
            person.draft = draft
        return person

    async def _save_disclosure(self, person: PersonRecord, name: str, value: str) -> None:
        """Insert or replace one answer in one statement.

        The sealed value is bound to its row id, so a replaced answer takes the new id
        with it (nothing refers to disclosure ids).
        """
        row_id = new_id()
        sealed = person.cipher.seal_text(
            Disclosure.__tablename__, f"value_ct:{name}", row_id, value
        )
        row = {
            "id": row_id,
            "person_id": person.id,
            "field": name,
            "value_ct": sealed,
            "created_at": self.now,
            "updated_at": self.now,
        }
        await upsert(self._connection, Disclosure, row, _ANSWER_KEY, _ANSWER_REPLACED)

    async def disclosures(self) -> dict[str, str]:
        """Everything the person told us, decrypted, for their own eyes (`/mydata`)."""
        person = self._require()
        rows = (await self._connection.execute(_ANSWERS, {"person_id": person.id})).all()
        return {
            row.field: person.cipher.open_text(
                Disclosure.__tablename__, f"value_ct:{row.field}", row.id, row.value_ct
            )
            for row in rows
        }

    async def referrals(self) -> list[PersonReferral]:
        """The person's referrals, newest first."""
        person = self._require()
        rows = await self._connection.execute(_REFERRALS, {"person_id": person.id})
        return [PersonReferral(*row) for row in rows]

    async def messages_waiting(self) -> int:
        """Messages about the person still to be sent (to them or to their mentor): each
        holds its text, locked, until it goes (`/mydata` counts them)."""
        person = self._require()
        waiting = (OutboxMessage.payload_subject == person.id) & OutboxMessage.status.in_(
            [OutboxStatus.PENDING, OutboxStatus.INFLIGHT]
        )
        count = select(func.count()).select_from(OutboxMessage).where(waiting)
        return int((await self._connection.execute(count)).scalar_one())

    async def erase(self) -> ErasureSummary:
        """Crypto-shred the person: rows gone, key gone, pending notices cancelled, journaled."""
        person = self._require()
        summary = await erase_person(self._connection, person.id, self.now)
        self.person = None
        self.erased = True
        return summary

    @property
    def connection(self) -> AsyncConnection:
        """For other repositories joining this same business transaction."""
        return self._connection

    def _require(self) -> PersonRecord:
        if self.person is None:
            raise LookupError("no person in this transaction")
        return self.person


def seal_draft(cipher: FieldCipher, person_id: str, draft: dict[str, Any]) -> bytes:
    """Seal a draft's stored form (`Draft.to_stored()`)."""
    return cipher.seal(Person.__tablename__, "draft_ct", person_id, json.dumps(draft).encode())


def open_draft(cipher: FieldCipher, person_id: str, sealed: bytes | None) -> dict[str, Any]:
    """A draft's stored form, decrypted (an empty one when none is stored); read it with
    `Draft.from_stored`."""
    if sealed is None:
        return {}
    draft = json.loads(cipher.open(Person.__tablename__, "draft_ct", person_id, sealed))
    return draft if isinstance(draft, dict) else {}


async def erase_person(
    connection: AsyncConnection, person_id: str, now: datetime
) -> ErasureSummary:
    """Crypto-shred one person by id inside the caller's transaction: live referrals
    withdrawn, pending notices about them cancelled, outbox rows unlinked from them,
    answers and row deleted (referrals lose the link with it), data key shredded and the
    erasure journaled. Shared by /forget and the retention purge."""
    disclosures = (
        await connection.execute(
            select(func.count()).select_from(Disclosure).where(Disclosure.person_id == person_id)
        )
    ).scalar_one()
    live = [ReferralStatus.PENDING, ReferralStatus.ACCEPTED]
    referral_rows = (
        await connection.execute(
            select(Referral.id, Referral.mentor_id).where(
                Referral.person_id == person_id, Referral.status.in_(live)
            )
        )
    ).all()
    referral_ids = [row.id for row in referral_rows]
    if referral_ids:
        await connection.execute(
            update(Referral)
            .where(Referral.id.in_(referral_ids))
            .values(
                status=ReferralStatus.WITHDRAWN,
                closed_at=now,
                next_ladder_at=None,
                version=Referral.version + 1,
            )
        )
    # A shared phone number goes with the person, whatever their requests' state.
    await connection.execute(
        update(Referral).where(Referral.person_id == person_id).values(phone_ct=None)
    )
    about_person = (OutboxMessage.payload_subject == person_id) | (
        OutboxMessage.recipient_id == person_id
    )
    if referral_ids:
        about_person = about_person | OutboxMessage.referral_id.in_(referral_ids)
    cancelled = await connection.execute(
        update(OutboxMessage)
        .where(OutboxMessage.status == OutboxStatus.PENDING, about_person)
        .values(status=OutboxStatus.DEAD, last_error=Reason.OBSOLETE, payload_ct=None)
    )
    # A row a worker holds is being sent right now: erasing cannot stop that. Its payload
    # goes, but it stays the worker's, so the worker still records the message it sent
    # and a card that reached a mentor can be edited (its Accept button taken away). If
    # the worker dies instead, the row is claimed again and, with no payload, goes dead.
    await connection.execute(
        update(OutboxMessage)
        .where(OutboxMessage.status == OutboxStatus.INFLIGHT, about_person)
        .values(payload_ct=None)
    )
    await unlink_erased(connection, [person_id])
    held = select(Person.pseudonym).where(Person.id == person_id)
    person_pseudonym = (await connection.execute(held)).scalar_one_or_none()
    if person_pseudonym is not None:
        await webchat.erase_for(connection, person_pseudonym)
    await connection.execute(delete(Disclosure).where(Disclosure.person_id == person_id))
    await connection.execute(delete(Person).where(Person.id == person_id))
    await shred_subject_key(connection, person_id, now)
    return ErasureSummary(
        disclosures=int(disclosures),
        referrals_withdrawn=len(referral_ids),
        notifications_cancelled=int(cancelled.rowcount),
        mentor_ids_to_tell=tuple(row.mentor_id for row in referral_rows if row.mentor_id),
    )


@asynccontextmanager
async def person_transaction(
    database: Database, ring: KeyRing, telegram_id: int, now: datetime
) -> AsyncIterator[PersonTransaction]:
    """Open one transaction for one update of one person, with the person loaded.

    After an erasure commits, the write-ahead logs that still hold the person's older
    page images are checkpointed and truncated (`Database.scrub_wal`)."""
    async with database.transaction() as connection:
        transaction = PersonTransaction(connection, ring, telegram_id, now)
        await transaction.load()
        yield transaction
        await transaction.touch()
    if transaction.erased:
        await database.scrub_wal()


async def chat_id_of(
    connection: AsyncConnection, ring: KeyRing, person_id: str
) -> tuple[int, FieldCipher] | None:
    """Decrypt a person's chat id for a message sent later; None once they are erased."""
    cipher = await open_subject_key(connection, ring, person_id)
    if cipher is None:
        return None
    sealed = (
        await connection.execute(select(Person.chat_ref_ct).where(Person.id == person_id))
    ).scalar_one_or_none()
    if sealed is None:
        return None
    return int(cipher.open_text(Person.__tablename__, "chat_ref_ct", person_id, sealed)), cipher
