"""The outbox: messages to someone other than the sender, written in the business
transaction and delivered later by bot/delivery (at least once, with retries).

Life of a row: `pending` → claimed with a lease (`inflight`) → `sent` (payload dropped)
or back to `pending` with a later `next_attempt_at`, or `dead` with a reason in
`last_error`. A worker that dies mid-send leaves its row `inflight`; once the lease
has run out any worker claims it again, so delivery is at least once and state lives
only in this table.

A payload is JSON sealed under `payload_subject`'s data key — the person the message is
about — so erasing that person makes it unreadable and marks it obsolete. Two ops:

    {"op": "send", "text": str, "markup": dict | None, "protect": bool}
    {"op": "edit", "of": <outbox id of an earlier send>, "text": str, "markup": dict | None}

`markup` is a Bot API reply_markup object (e.g. InlineKeyboardMarkup.to_dict()). Text is
always sent without a parse mode. The recipient's chat id is never in the payload: the
worker decrypts it from the recipient's own row (people or mentors) when sending.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Any, Literal, NamedTuple

from sqlalchemy import ColumnElement, Select, and_, case, delete, or_, select, update
from sqlalchemy.ext.asyncio import AsyncConnection

from storage.crypto import FORMAT_V1, CryptoError, FieldCipher, KeyRing
from storage.models import (
    Mentor,
    MentorRole,
    MentorStatus,
    OutboxMessage,
    OutboxStatus,
    Person,
    Referral,
    ReferralStatus,
    SubjectKey,
    ordered_id,
)
from storage.repositories.subjects import open_subject_key
from storage.sql import insert_ignore

RecipientKind = Literal["person", "mentor"]


class Kind(StrEnum):
    """Message kinds, and when the worker may still deliver them (check-before-send).

    A row with a referral is delivered only while that referral is in one of the kind's
    `LIVE_WHILE` statuses; a row addressed to a person is never delivered once the
    person is erased. Anything else is marked dead with reason "obsolete".
    """

    CARD = "card"  # mentor: a new referral, with Accept / Can't take this
    REMINDER = "reminder"  # mentor: an unclaimed referral, again (ladder)
    CARD_UPDATE = "card_update"  # mentor: edit of a card (taken, withdrawn)
    ACCEPTED = "accepted"  # person: a mentor accepted
    LADDER_UPDATE = "ladder_update"  # person: still looking, honest update
    EXPIRED = "expired"  # person: nobody took it in time, so it was withdrawn
    CLOSED = "closed"  # person: the referral closed; feedback questions
    MENTOR_NOTICE = "mentor_notice"  # mentor: the person ended the chat or withdrew
    ALERT = "alert"  # coordinator: needs a human (unclaimed, unreachable, dead)
    RELAY = "relay"  # either end of a chat: a message passed on (when relays are queued)
    CONTACT = "contact"  # mentor: the number to call, for the mentor who took the request
    RELAY_FAILED = "relay_failed"  # the sender of a relayed message that could not go


LIVE_WHILE: dict[str, frozenset[ReferralStatus] | None] = {
    Kind.CARD: frozenset({ReferralStatus.PENDING}),
    Kind.REMINDER: frozenset({ReferralStatus.PENDING}),
    Kind.LADDER_UPDATE: frozenset({ReferralStatus.PENDING}),
    Kind.EXPIRED: frozenset({ReferralStatus.WITHDRAWN}),
    Kind.ACCEPTED: frozenset({ReferralStatus.ACCEPTED}),
    Kind.CLOSED: frozenset({ReferralStatus.CLOSED}),
    Kind.RELAY: frozenset({ReferralStatus.ACCEPTED}),
    Kind.CONTACT: frozenset({ReferralStatus.ACCEPTED}),
    # None: deliver whatever the referral's status.
    Kind.CARD_UPDATE: None,
    Kind.RELAY_FAILED: None,
    Kind.MENTOR_NOTICE: None,
    Kind.ALERT: None,
}


@dataclass(frozen=True, slots=True)
class Send:
    text: str
    markup: dict[str, Any] | None = None
    protect: bool = False

    def to_json(self) -> dict[str, Any]:
        return {"op": "send", "text": self.text, "markup": self.markup, "protect": self.protect}


@dataclass(frozen=True, slots=True)
class Edit:
    of: str  # outbox id of the earlier Send whose message is edited
    text: str
    markup: dict[str, Any] | None = None

    def to_json(self) -> dict[str, Any]:
        return {"op": "edit", "of": self.of, "text": self.text, "markup": self.markup}


def payload_from_json(data: dict[str, Any]) -> Send | Edit:
    if data.get("op") == "edit":
        return Edit(of=str(data["of"]), text=str(data["text"]), markup=data.get("markup"))
    return Send(
        text=str(data["text"]), markup=data.get("markup"), protect=bool(data.get("protect"))
    )


def _payload_place(row_id: str, recipient_kind: str, recipient_id: str) -> str:
    """The row id bound into a payload's AAD, with its recipient: a pending card whose
    recipient_kind or recipient_id someone rewrote in the database no longer opens, so
    it goes nowhere rather than to the wrong person."""
    return f"{row_id}:{recipient_kind}:{recipient_id}"


def seal_payload(
    cipher: FieldCipher, row_id: str, recipient_kind: str, recipient_id: str, payload: Send | Edit
) -> bytes:
    return cipher.seal(
        OutboxMessage.__tablename__,
        "payload_ct",
        _payload_place(row_id, recipient_kind, recipient_id),
        json.dumps(payload.to_json()).encode(),
    )


def open_payload(
    cipher: FieldCipher, row_id: str, recipient_kind: str, recipient_id: str, blob: bytes
) -> Send | Edit:
    """Format 1 payloads were sealed before the recipient was bound (row id only); they
    are short-lived (sent or dead within the delivery window), so they are still read."""
    place = row_id
    if blob[:1] != bytes([FORMAT_V1]):
        place = _payload_place(row_id, recipient_kind, recipient_id)
    return payload_from_json(
        json.loads(cipher.open(OutboxMessage.__tablename__, "payload_ct", place, blob))
    )


async def enqueue(
    connection: AsyncConnection,
    *,
    dedupe_key: str,
    kind: Kind,
    recipient_kind: RecipientKind,
    recipient_id: str,
    payload: Send | Edit,
    sealed_by: FieldCipher,
    now: datetime,
    referral_id: str | None = None,
    delay: timedelta = timedelta(0),
) -> str | None:
    """Queue one message inside the caller's transaction; None if the dedupe key exists.

    `sealed_by` is the cipher of the subject the message is about (usually the person);
    its subject id is recorded so erasure can find and cancel the row.
    """
    row_id = ordered_id()  # so rows for one chat with equal times keep their order
    inserted = await insert_ignore(
        connection,
        OutboxMessage,
        {
            "id": row_id,
            "dedupe_key": dedupe_key,
            "kind": kind,
            "referral_id": referral_id,
            "recipient_kind": recipient_kind,
            "recipient_id": recipient_id,
            "payload_subject": sealed_by.subject_id,
            "payload_ct": seal_payload(sealed_by, row_id, recipient_kind, recipient_id, payload),
            "status": OutboxStatus.PENDING,
            "attempts": 0,
            "next_attempt_at": now + delay,
            "created_at": now,
        },
    )
    return row_id if inserted else None


# ---------------------------------------------------------------------------------------
# Delivery: claim, check, decrypt and record. Used by bot/delivery; one call per step,
# each inside the caller's (short) transaction. Nothing here talks to Telegram.
# ---------------------------------------------------------------------------------------

OPEN = (OutboxStatus.PENDING, OutboxStatus.INFLIGHT)


class Reason(StrEnum):
    """`last_error` values. Short, fixed words: never an exception's text."""

    OBSOLETE = "obsolete"  # referral no longer live, or a subject erased
    UNREACHABLE = "unreachable"  # recipient blocked the bot (now or earlier)
    UNKNOWN_KIND = "unknown_kind"
    UNDECRYPTABLE = "undecryptable"
    BAD_REQUEST = "bad_request"
    GAVE_UP = "gave_up"  # transient errors until delivery_max_attempts
    RETRY_AFTER = "retry_after"
    TIMED_OUT = "timed_out"
    NETWORK = "network"
    WAITING = "waiting"  # an edit waits for the message it edits to be sent
    ERROR = "error"  # anything else (a bug): retried with backoff, then given up
    # An earlier attempt may have reached Telegram: a dead process's send journal says the
    # call went and no answer came. Kept through retries until the row is sent or dead,
    # so the send again can say so (bot/delivery/resend.py).
    UNCERTAIN = "uncertain"


@dataclass(frozen=True, slots=True)
class Claimed:
    """One row this worker holds until `lease_until`. `attempts` counts this attempt."""

    id: str
    kind: str
    referral_id: str | None
    recipient_kind: str
    recipient_id: str
    payload_subject: str | None
    payload_ct: bytes | None = field(repr=False)
    attempts: int
    next_attempt_at: datetime
    lease_until: datetime
    # A card shown without its buttons by an earlier attempt (its buttons come next).
    sent_message_id: int | None = None
    # An earlier attempt may have reached Telegram (Reason.UNCERTAIN): this is a send again.
    uncertain: bool = False


async def claim_due(
    connection: AsyncConnection, *, now: datetime, lease: timedelta, limit: int
) -> list[Claimed]:
    """Lease up to `limit` due rows in one statement; counts an attempt on each.

    A row is due when pending, or inflight with a lease that ran out (its worker died).
    SQLite serialises writers (BEGIN IMMEDIATE), so one UPDATE … RETURNING is atomic;
    on PostgreSQL the inner SELECT takes row locks with SKIP LOCKED, so two workers
    never lease the same row.
    """
    due = (
        select(OutboxMessage.id)
        .where(
            OutboxMessage.status.in_(OPEN),
            OutboxMessage.next_attempt_at <= now,
            or_(OutboxMessage.lease_until.is_(None), OutboxMessage.lease_until < now),
        )
        .order_by(OutboxMessage.next_attempt_at, OutboxMessage.id)
        .limit(limit)
    )
    if connection.dialect.name == "postgresql":
        due = due.with_for_update(skip_locked=True)
    lease_until = now + lease
    statement = (
        update(OutboxMessage)
        .where(OutboxMessage.id.in_(due.scalar_subquery()))
        .values(
            status=OutboxStatus.INFLIGHT,
            lease_until=lease_until,
            attempts=OutboxMessage.attempts + 1,
        )
        .returning(
            OutboxMessage.id,
            OutboxMessage.kind,
            OutboxMessage.referral_id,
            OutboxMessage.recipient_kind,
            OutboxMessage.recipient_id,
            OutboxMessage.payload_subject,
            OutboxMessage.payload_ct,
            OutboxMessage.attempts,
            OutboxMessage.next_attempt_at,
            OutboxMessage.lease_until,
            OutboxMessage.sent_message_id,
            OutboxMessage.last_error,
        )
    )
    claimed = [
        Claimed(
            id=row.id,
            kind=row.kind,
            referral_id=row.referral_id,
            recipient_kind=row.recipient_kind,
            recipient_id=row.recipient_id,
            payload_subject=row.payload_subject,
            payload_ct=row.payload_ct,
            attempts=row.attempts,
            next_attempt_at=row.next_attempt_at,
            lease_until=row.lease_until,
            sent_message_id=row.sent_message_id,
            uncertain=row.last_error == Reason.UNCERTAIN,
        )
        for row in await connection.execute(statement)
    ]
    return sorted(claimed, key=lambda row: (row.next_attempt_at, row.id))


@dataclass(frozen=True, slots=True)
class Ready:
    """Everything needed to send one row. Holds decrypted text: its repr shows none."""

    chat_id: int
    payload: Send | Edit
    edit_message_id: int | None = None

    def __repr__(self) -> str:
        return f"Ready(op={type(self.payload).__name__})"


@dataclass(frozen=True, slots=True)
class Skip:
    """The row must not be sent: mark it dead with this reason."""

    reason: Reason


@dataclass(frozen=True, slots=True)
class Wait:
    """Not yet: an edit whose message is not sent yet. Try again soon, no attempt counted."""


async def prepare(
    connection: AsyncConnection, ring: KeyRing, rows: Sequence[Claimed]
) -> dict[str, Ready | Skip | Wait]:
    """Check-before-send, then decrypt, for a claimed batch (a few queries in all, not a
    few per row). A row is Ready only when its referral is still live for its kind, its
    recipient exists, is not erased and not unreachable, and the subject its payload is
    about is not erased; otherwise Skip (never notify about an erased person). An edit
    waits (Wait) until the message it edits has been sent.
    """
    facts = await _Facts.load(connection, ring, rows)
    verdicts: dict[str, Ready | Skip | Wait] = {}
    edits: dict[str, tuple[int, Edit]] = {}
    for row in rows:
        verdict = facts.verdict(row)
        if isinstance(verdict, tuple):
            edits[row.id] = verdict
        else:
            verdicts[row.id] = verdict
    if edits:
        targets = await _rows_by_id(connection, [edit.of for _, edit in edits.values()])
        for row_id, (chat_id, edit) in edits.items():
            row = next(row for row in rows if row.id == row_id)
            verdicts[row_id] = _edit_verdict(row, chat_id, edit, targets.get(edit.of))
    return verdicts


class _Recipient(NamedTuple):
    """What check-before-send needs of a recipient's own row."""

    table: str  # the row's table, bound into its sealed chat id
    unreachable: bool
    revoked: bool
    chat_ref_ct: bytes | None


_PEOPLE_FACTS = select(Person.id, Person.unreachable, Person.chat_ref_ct)
_MENTOR_FACTS = select(Mentor.id, Mentor.unreachable, Mentor.status, Mentor.chat_ref_ct)


@dataclass(slots=True)
class _Facts:
    """What the checks need for one batch, read in one go."""

    ring: KeyRing
    statuses: dict[str, ReferralStatus]
    people: dict[str, _Recipient]
    mentors: dict[str, _Recipient]
    wrapped: dict[str, bytes]
    ciphers: dict[str, FieldCipher | None] = field(default_factory=dict)

    def __repr__(self) -> str:
        return "_Facts(...)"

    @classmethod
    async def load(
        cls, connection: AsyncConnection, ring: KeyRing, rows: Sequence[Claimed]
    ) -> _Facts:
        referral_ids = {row.referral_id for row in rows if row.referral_id}
        person_ids = {row.recipient_id for row in rows if row.recipient_kind == "person"}
        mentor_ids = {row.recipient_id for row in rows if row.recipient_kind == "mentor"}
        subjects = {row.recipient_id for row in rows} | {
            row.payload_subject for row in rows if row.payload_subject
        }
        facts = cls(ring, {}, {}, {}, {})
        if referral_ids:
            statuses = await connection.execute(
                select(Referral.id, Referral.status).where(Referral.id.in_(referral_ids))
            )
            facts.statuses = {referral_id: status for referral_id, status in statuses}
        if person_ids:
            people = await connection.execute(_PEOPLE_FACTS.where(Person.id.in_(person_ids)))
            facts.people = {
                person_id: _Recipient(Person.__tablename__, unreachable, False, chat_ref_ct)
                for person_id, unreachable, chat_ref_ct in people
            }
        if mentor_ids:
            mentors = await connection.execute(_MENTOR_FACTS.where(Mentor.id.in_(mentor_ids)))
            facts.mentors = {
                mentor_id: _Recipient(
                    Mentor.__tablename__, unreachable, status == MentorStatus.REVOKED, chat_ref_ct
                )
                for mentor_id, unreachable, status, chat_ref_ct in mentors
            }
        if subjects:
            keys = await connection.execute(
                select(SubjectKey.subject_id, SubjectKey.wrapped_dek).where(
                    SubjectKey.subject_id.in_(subjects)
                )
            )
            facts.wrapped = {subject_id: wrapped_dek for subject_id, wrapped_dek in keys}
        return facts

    def cipher(self, subject_id: str) -> FieldCipher | None:
        """The subject's cipher, or None when their key was shredded (erased)."""
        if subject_id not in self.ciphers:
            blob = self.wrapped.get(subject_id)
            self.ciphers[subject_id] = (
                None if blob is None else FieldCipher.from_wrapped(self.ring, blob, subject_id)
            )
        return self.ciphers[subject_id]

    def verdict(self, row: Claimed) -> Ready | Skip | tuple[int, Edit]:
        if row.kind not in LIVE_WHILE:
            return Skip(Reason.UNKNOWN_KIND)
        if row.payload_ct is None or row.payload_subject is None:
            return Skip(Reason.OBSOLETE)
        live = LIVE_WHILE[row.kind]
        if live is not None and (
            row.referral_id is None or self.statuses.get(row.referral_id) not in live
        ):
            return Skip(Reason.OBSOLETE)
        if row.recipient_kind == "person":
            recipient = self.people.get(row.recipient_id)
        elif row.recipient_kind == "mentor":
            recipient = self.mentors.get(row.recipient_id)
            if recipient is not None and recipient.revoked:
                return Skip(Reason.OBSOLETE)
        else:
            return Skip(Reason.UNKNOWN_KIND)
        if recipient is None or recipient.chat_ref_ct is None:
            return Skip(Reason.OBSOLETE)
        if recipient.unreachable:
            return Skip(Reason.UNREACHABLE)
        try:
            recipient_cipher = self.cipher(row.recipient_id)
            payload_cipher = self.cipher(row.payload_subject)
            if recipient_cipher is None or payload_cipher is None:
                return Skip(Reason.OBSOLETE)
            chat_id = int(
                recipient_cipher.open_text(
                    recipient.table, "chat_ref_ct", row.recipient_id, recipient.chat_ref_ct
                )
            )
            payload = open_payload(
                payload_cipher, row.id, row.recipient_kind, row.recipient_id, row.payload_ct
            )
        except CryptoError:
            return Skip(Reason.UNDECRYPTABLE)
        if isinstance(payload, Edit):
            return chat_id, payload
        return Ready(chat_id=chat_id, payload=payload)


class _EditTarget(NamedTuple):
    """The earlier send an edit changes, as far as its delivery got."""

    id: str
    status: OutboxStatus
    sent_message_id: int | None
    recipient_kind: str
    recipient_id: str


async def _rows_by_id(connection: AsyncConnection, ids: list[str]) -> dict[str, _EditTarget]:
    result = await connection.execute(
        select(
            OutboxMessage.id,
            OutboxMessage.status,
            OutboxMessage.sent_message_id,
            OutboxMessage.recipient_kind,
            OutboxMessage.recipient_id,
        ).where(OutboxMessage.id.in_(ids))
    )
    return {row.id: _EditTarget(*row) for row in result}


def _edit_verdict(
    row: Claimed, chat_id: int, edit: Edit, target: _EditTarget | None
) -> Ready | Skip | Wait:
    """An edit goes to the message its earlier Send made, for the same recipient."""
    if target is None or (target.recipient_kind, target.recipient_id) != (
        row.recipient_kind,
        row.recipient_id,
    ):
        return Skip(Reason.OBSOLETE)
    if target.status in OPEN:
        return Wait()
    if target.status != OutboxStatus.SENT or target.sent_message_id is None:
        return Skip(Reason.OBSOLETE)
    return Ready(chat_id=chat_id, payload=edit, edit_message_id=int(target.sent_message_id))


async def referral_place(
    connection: AsyncConnection, referral_id: str | None
) -> tuple[str, str] | None:
    """The referral's public reference (e.g. R-7KQ3XW) and office id, for a coordinator
    alert: which request, and where."""
    if referral_id is None:
        return None
    row = (
        await connection.execute(
            select(Referral.public_ref, Referral.office_id).where(Referral.id == referral_id)
        )
    ).first()
    return None if row is None else (str(row.public_ref), str(row.office_id))


def _held(row: Claimed) -> ColumnElement[bool]:
    """Only while this worker still holds the lease: a row reclaimed by another worker
    after our lease ran out, or cancelled by an erasure meanwhile, is left alone."""
    return and_(
        OutboxMessage.id == row.id,
        OutboxMessage.status == OutboxStatus.INFLIGHT,
        OutboxMessage.lease_until == row.lease_until,
    )


async def mark_sent(
    connection: AsyncConnection, row: Claimed, *, now: datetime, message_id: int | None
) -> bool:
    """Delivered: record when and which message (for later edits); drop the payload.

    Unlike the other outcomes this does not need the lease still held: a send slower
    than the lease lets another worker reclaim the row, and the message this one sent
    is real. Its record lands while nobody has recorded the row yet (open); once another
    worker recorded it (sent) or it was cancelled (dead), it is left alone and False.
    """
    result = await connection.execute(
        update(OutboxMessage)
        .where(OutboxMessage.id == row.id, OutboxMessage.status.in_(OPEN))
        .values(
            status=OutboxStatus.SENT,
            sent_at=now,
            sent_message_id=message_id,
            payload_ct=None,
            lease_until=None,
            last_error=None,
        )
    )
    return bool(result.rowcount == 1)


async def record_journal(
    connection: AsyncConnection,
    sent: dict[str, int | None],
    uncertain: set[str],
    now: datetime,
    shown: dict[str, int] | None = None,
) -> tuple[int, int]:
    """A dead process's send journal (bot/delivery/journal.py): rows Telegram answered
    are recorded sent, unless someone recorded them since; how many, and how many of
    its uncertain rows (the call went or was about to, no answer) are still open, to be
    sent again. Those are marked `Reason.UNCERTAIN`, so the send again says so."""
    recorded = 0
    for row_id, message_id in sent.items():
        result = await connection.execute(
            update(OutboxMessage)
            .where(OutboxMessage.id == row_id, OutboxMessage.status.in_(OPEN))
            .values(
                status=OutboxStatus.SENT,
                sent_at=now,
                sent_message_id=message_id,
                payload_ct=None,
                lease_until=None,
                last_error=None,
            )
        )
        recorded += int(result.rowcount == 1)
    for row_id, message_id in (shown or {}).items():
        if row_id not in sent:
            await mark_shown(connection, row_id, message_id)
    still_open = 0
    if uncertain:
        marked = await connection.execute(
            update(OutboxMessage)
            .where(OutboxMessage.id.in_(sorted(uncertain)), OutboxMessage.status.in_(OPEN))
            .values(last_error=Reason.UNCERTAIN)
        )
        still_open = int(marked.rowcount)
    return recorded, still_open


async def mark_shown(connection: AsyncConnection, row_id: str, message_id: int) -> int | None:
    """A card's text is out, its buttons not yet: keep which message it is (the row stays
    open, payload and all, so a crash from here on adds the buttons to this message
    rather than sending the card again). The message id the row holds afterwards: ours,
    or the one another delivery recorded first; None when the row has an outcome."""
    await connection.execute(
        update(OutboxMessage)
        .where(
            OutboxMessage.id == row_id,
            OutboxMessage.status.in_(OPEN),
            OutboxMessage.sent_message_id.is_(None),
        )
        .values(sent_message_id=message_id)
    )
    found = (
        await connection.execute(
            select(OutboxMessage.sent_message_id).where(
                OutboxMessage.id == row_id, OutboxMessage.status.in_(OPEN)
            )
        )
    ).scalar_one_or_none()
    return None if found is None else int(found)


async def recorded_message(connection: AsyncConnection, row_id: str) -> int | None:
    """The message id another delivery of this row recorded (None unless it is sent)."""
    found = (
        await connection.execute(
            select(OutboxMessage.sent_message_id).where(
                OutboxMessage.id == row_id, OutboxMessage.status == OutboxStatus.SENT
            )
        )
    ).scalar_one_or_none()
    return None if found is None else int(found)


async def mark_dead(connection: AsyncConnection, row: Claimed, reason: Reason) -> bool:
    """Never to be sent: drop the payload, keep the reason."""
    result = await connection.execute(
        update(OutboxMessage)
        .where(_held(row))
        .values(status=OutboxStatus.DEAD, payload_ct=None, lease_until=None, last_error=reason)
    )
    return bool(result.rowcount == 1)


async def retry_later(
    connection: AsyncConnection,
    row: Claimed,
    *,
    at: datetime,
    reason: Reason,
    count_attempt: bool = True,
) -> bool:
    """Back to pending until `at`. `count_attempt=False` gives back the attempt the claim
    counted (flood control, or an edit waiting for its message). A row marked uncertain
    stays so: an earlier attempt may still have reached Telegram."""
    attempts = OutboxMessage.attempts if count_attempt else OutboxMessage.attempts - 1
    still_uncertain = OutboxMessage.last_error == Reason.UNCERTAIN
    result = await connection.execute(
        update(OutboxMessage)
        .where(_held(row))
        .values(
            status=OutboxStatus.PENDING,
            next_attempt_at=at,
            lease_until=None,
            last_error=case((still_uncertain, Reason.UNCERTAIN), else_=reason),
            attempts=attempts,
        )
    )
    return bool(result.rowcount == 1)


async def release(
    connection: AsyncConnection, rows: list[Claimed], *, not_before: datetime | None = None
) -> None:
    """Hand back claimed rows untouched (e.g. the batch stops for flood control); with
    `not_before`, none of them is due again before then."""
    for row in rows:
        values: dict[str, Any] = {
            "status": OutboxStatus.PENDING,
            "lease_until": None,
            "attempts": OutboxMessage.attempts - 1,
        }
        if not_before is not None:
            values["next_attempt_at"] = max(row.next_attempt_at, not_before)
        await connection.execute(update(OutboxMessage).where(_held(row)).values(**values))


async def hold_behind(connection: AsyncConnection, leader: Claimed, rows: list[Claimed]) -> None:
    """Hand back `rows`, queued for the same chat after `leader`, which is to be tried again
    later: none is due before the leader, so the chat reads in the order it was written.

    A leader still held (its outcome could not be recorded) keeps the rest held with it:
    they were claimed together, so their leases run out together.
    """
    found = (
        await connection.execute(
            select(OutboxMessage.status, OutboxMessage.next_attempt_at).where(
                OutboxMessage.id == leader.id
            )
        )
    ).one_or_none()
    if found is not None and found.status == OutboxStatus.INFLIGHT:
        return
    await release(connection, rows, not_before=None if found is None else found.next_attempt_at)


async def mark_unreachable(
    connection: AsyncConnection, recipient_kind: str, recipient_id: str
) -> None:
    """The recipient blocked the bot: no more messages until they come back."""
    if recipient_kind == "person":
        await connection.execute(
            update(Person).where(Person.id == recipient_id).values(unreachable=True)
        )
    else:
        await connection.execute(
            update(Mentor).where(Mentor.id == recipient_id).values(unreachable=True)
        )


async def unlink_erased(connection: AsyncConnection, subjects: Sequence[str] | Select[str]) -> int:
    """Erasure leaves no outbox row pointing at an erased subject (inside the erasure's
    transaction, after its open rows were cancelled). Messages to them are deleted: there
    is nobody to send them to or to edit them for. Messages about them to others (a card,
    an alert) keep their delivery metadata, which a later edit of that card needs, but
    lose the subject id and the payload sealed under the shredded key. How many rows
    were deleted."""
    deleted = await connection.execute(
        delete(OutboxMessage).where(OutboxMessage.recipient_id.in_(subjects))
    )
    await connection.execute(
        update(OutboxMessage)
        .where(OutboxMessage.payload_subject.in_(subjects))
        .values(payload_subject=None, payload_ct=None)
    )
    return int(deleted.rowcount)


async def alert_coordinators(
    connection: AsyncConnection,
    ring: KeyRing,
    *,
    about: str,
    text: str,
    now: datetime,
    referral_id: str | None = None,
) -> int:
    """Queue an ALERT to the active, reachable coordinators of the referral's pilot area
    and those who cover every area (all of them when there is no referral); how many
    were queued. Inside the caller's transaction: it never commits.

    The one way any alert is queued (a request nobody can take, the unclaimed ladder, a
    mentor leaving, a delivery that failed), so every alert is sealed the same way and
    each coordinator gets one per event. `about` names the event and makes the dedupe
    key (run it twice, get one alert each). The text must hold only a reference, an
    office, an area and a reason: it is sealed under the coordinator's own key, not the
    person's, so it stays readable to the worker whatever happens to the person.
    """
    statement = select(Mentor.id).where(
        Mentor.role == MentorRole.COORDINATOR,
        Mentor.status == MentorStatus.ACTIVE,
        Mentor.unreachable.is_(False),
    )
    if referral_id is not None:
        area = (
            await connection.execute(select(Referral.pilot_area).where(Referral.id == referral_id))
        ).scalar_one_or_none()
        if area is not None:
            statement = statement.where((Mentor.pilot_area == area) | Mentor.pilot_area.is_(None))
    coordinators = (await connection.execute(statement.order_by(Mentor.id))).scalars()
    queued = 0
    for coordinator_id in list(coordinators):
        cipher = await open_subject_key(connection, ring, coordinator_id)
        if cipher is None:
            continue
        row_id = await enqueue(
            connection,
            dedupe_key=f"alert:{about}:{coordinator_id}",
            kind=Kind.ALERT,
            recipient_kind="mentor",
            recipient_id=coordinator_id,
            payload=Send(text=text),
            sealed_by=cipher,
            now=now,
            referral_id=referral_id,
        )
        queued += row_id is not None
    return queued
