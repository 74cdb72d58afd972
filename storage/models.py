"""What is kept, as SQLAlchemy 2.0 typed models.

Rules this schema enforces by construction: no raw Telegram id, name, username, phone
number, location, postcode or file id has a column. People and mentors are found by a
keyed pseudonym; anything we must read back later (a chat id to message, what a person
disclosed) is an AES-GCM blob sealed under that subject's own data key (`*_ct` columns).
Ids are random hex strings made before the INSERT, so they can be bound into the AAD.
"""

from __future__ import annotations

import enum
import secrets
import time
from datetime import UTC, date, datetime
from typing import Any

from sqlalchemy import (
    BigInteger,
    Boolean,
    CheckConstraint,
    Date,
    DateTime,
    Enum,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    MetaData,
    String,
    Text,
    TypeDecorator,
    UniqueConstraint,
)
from sqlalchemy.engine import Dialect
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

NAMING = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


def new_id() -> str:
    """A random 128-bit id as hex: known before the INSERT, meaningless outside."""
    return secrets.token_hex(16)


_last_ordered = 0


def ordered_id() -> str:
    """A 128-bit hex id that sorts in the order this process made it: 64 bits of wall-clock
    nanoseconds (never repeated, never going back) then 64 random bits.

    For outbox rows: two messages queued for one chat in the same instant (or under a
    frozen test clock) still go out in the order they were written.
    """
    global _last_ordered
    _last_ordered = max(_last_ordered + 1, time.time_ns())
    return f"{_last_ordered:016x}{secrets.token_hex(8)}"


class UTCDateTime(TypeDecorator[datetime]):
    """Timestamps stored as naive UTC and always read back timezone-aware (SQLite drops tz)."""

    impl = DateTime
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given to a UTC column")
        return value.astimezone(UTC).replace(tzinfo=None)

    def process_result_value(self, value: Any, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        assert isinstance(value, datetime)
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING)


class ReferralStatus(enum.StrEnum):
    PENDING = "pending"
    ACCEPTED = "accepted"
    CLOSED = "closed"
    WITHDRAWN = "withdrawn"


class MentorStatus(enum.StrEnum):
    PENDING_NAME = "pending_name"
    PENDING_APPROVAL = "pending_approval"
    ACTIVE = "active"
    REVOKED = "revoked"


class MentorRole(enum.StrEnum):
    MENTOR = "mentor"
    COORDINATOR = "coordinator"


class OutboxStatus(enum.StrEnum):
    PENDING = "pending"
    INFLIGHT = "inflight"
    SENT = "sent"
    DEAD = "dead"


class ContactBy(enum.StrEnum):
    """How a person asked their mentor to get in touch (referrals.contact_by)."""

    BOT = "bot"
    PHONE = "phone"


class Share(enum.StrEnum):
    """What a person let mentors see (referrals.share): nothing, or their button answers."""

    NONE = "none"
    CATEGORIES = "categories"


def _check_in(column: str, values: type[enum.StrEnum]) -> str:
    listed = ", ".join(f"'{member.value}'" for member in values)
    return f"{column} IN ({listed})"


def _values(members: type[enum.StrEnum]) -> list[str]:
    return [member.value for member in members]


def stored_as_value(members: type[enum.StrEnum], length: int) -> Enum:
    """A StrEnum column stored as its members' values in a plain VARCHAR(`length`), the
    same strings as before the column was typed (no data migration, no database enum
    type), and read back as members. A string that is no member is refused before it
    reaches the database; the CHECK constraints (`_check_in`) refuse it there too."""
    return Enum(
        members,
        native_enum=False,
        create_constraint=False,
        length=length,
        values_callable=_values,
        validate_strings=True,
    )


KEYSTORE_SCHEMA = "keystore"


class SubjectKey(Base):
    """One wrapped data key per subject (person or mentor). Deleting it is crypto-shredding.

    Lives in the key store (its own SQLite file, or its own PostgreSQL schema), so it
    can be backed up on a shorter clock than the main data: once key backups older than
    an erasure have expired, no backup anywhere can decrypt the erased person.
    """

    __tablename__ = "subject_keys"
    __table_args__ = {"schema": KEYSTORE_SCHEMA}

    subject_id: Mapped[str] = mapped_column(String(32), primary_key=True)
    kek_version: Mapped[int] = mapped_column(Integer, index=True)
    wrapped_dek: Mapped[bytes] = mapped_column(LargeBinary)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)


class Person(Base):
    """Someone who messaged the bot: a pseudonym, where they are in the journey, and blobs."""

    __tablename__ = "people"

    id: Mapped[str] = mapped_column(String(32), primary_key=True, default=new_id)
    pseudonym: Mapped[bytes] = mapped_column(LargeBinary(32), unique=True)
    pseudonym_version: Mapped[int] = mapped_column(Integer)
    state: Mapped[str] = mapped_column(String(64))
    state_version: Mapped[int] = mapped_column(Integer, default=0)
    # Step scratch data (answers in progress, chosen office): sealed JSON.
    draft_ct: Mapped[bytes | None] = mapped_column(LargeBinary, nullable=True)
    # Chat id for messages sent later (a mentor accepted, a relayed reply): sealed.
    chat_ref_ct: Mapped[bytes | None] = mapped_column(LargeBinary, nullable=True)
    unreachable: Mapped[bool] = mapped_column(Boolean, default=False)
    notice_accepted_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    last_seen_at: Mapped[datetime] = mapped_column(UTCDateTime, index=True)


class Disclosure(Base):
    """One answer the person chose to give (substances, how long, support, needs, own words)."""

    __tablename__ = "disclosures"
    __table_args__ = (UniqueConstraint("person_id", "field", name="person_field"),)

    id: Mapped[str] = mapped_column(String(32), primary_key=True, default=new_id)
    person_id: Mapped[str] = mapped_column(
        String(32), ForeignKey("people.id", ondelete="CASCADE"), index=True
    )
    field: Mapped[str] = mapped_column(String(32))
    value_ct: Mapped[bytes] = mapped_column(LargeBinary)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime)


class Mentor(Base):
    """A peer mentor or coordinator: pseudonymous like everyone, with a chosen first name."""

    __tablename__ = "mentors"
    __table_args__ = (
        CheckConstraint(_check_in("status", MentorStatus), name="status"),
        CheckConstraint(_check_in("role", MentorRole), name="role"),
    )

    id: Mapped[str] = mapped_column(String(32), primary_key=True, default=new_id)
    pseudonym: Mapped[bytes] = mapped_column(LargeBinary(32), unique=True)
    pseudonym_version: Mapped[int] = mapped_column(Integer)
    role: Mapped[MentorRole] = mapped_column(stored_as_value(MentorRole, 16))
    office_id: Mapped[str | None] = mapped_column(String(64), index=True, nullable=True)
    pilot_area: Mapped[str | None] = mapped_column(String(64), index=True, nullable=True)
    status: Mapped[MentorStatus] = mapped_column(stored_as_value(MentorStatus, 24))
    available: Mapped[bool] = mapped_column(Boolean, default=True)
    unreachable: Mapped[bool] = mapped_column(Boolean, default=False)
    display_name_ct: Mapped[bytes | None] = mapped_column(LargeBinary, nullable=True)
    chat_ref_ct: Mapped[bytes] = mapped_column(LargeBinary)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)


class Invite(Base):
    """A one-time join code; only its SHA-256 is kept."""

    __tablename__ = "invites"
    __table_args__ = (CheckConstraint(_check_in("role", MentorRole), name="role"),)

    id: Mapped[str] = mapped_column(String(32), primary_key=True, default=new_id)
    code_hash: Mapped[bytes] = mapped_column(LargeBinary(32), unique=True)
    role: Mapped[MentorRole] = mapped_column(stored_as_value(MentorRole, 16))
    office_id: Mapped[str | None] = mapped_column(String(64), nullable=True)
    pilot_area: Mapped[str | None] = mapped_column(String(64), nullable=True)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime)
    used_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    used_by: Mapped[str | None] = mapped_column(
        String(32), ForeignKey("mentors.id", ondelete="SET NULL"), nullable=True
    )
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)


class JoinAttempt(Base):
    """Wrong invite codes per account per window, so codes cannot be guessed."""

    __tablename__ = "join_attempts"

    pseudonym: Mapped[bytes] = mapped_column(LargeBinary(32), primary_key=True)
    window_start: Mapped[datetime] = mapped_column(UTCDateTime)
    failures: Mapped[int] = mapped_column(Integer, default=0)


class Referral(Base):
    """A request for a peer mentor. Unlinked from the person (person_id NULL) on erasure."""

    __tablename__ = "referrals"
    __table_args__ = (
        CheckConstraint(_check_in("status", ReferralStatus), name="status"),
        Index("ix_referrals_status_next_ladder_at", "status", "next_ladder_at"),
    )

    id: Mapped[str] = mapped_column(String(32), primary_key=True, default=new_id)
    public_ref: Mapped[str] = mapped_column(String(16), unique=True)
    person_id: Mapped[str | None] = mapped_column(
        String(32), ForeignKey("people.id", ondelete="SET NULL"), nullable=True, index=True
    )
    office_id: Mapped[str] = mapped_column(String(64), index=True)
    pilot_area: Mapped[str] = mapped_column(String(64))
    status: Mapped[ReferralStatus] = mapped_column(stored_as_value(ReferralStatus, 16))
    version: Mapped[int] = mapped_column(Integer, default=0)
    mentor_id: Mapped[str | None] = mapped_column(
        String(32), ForeignKey("mentors.id", ondelete="SET NULL"), nullable=True, index=True
    )
    contact_by: Mapped[ContactBy] = mapped_column(stored_as_value(ContactBy, 16))
    # What the person let mentors see: nothing, or their button answers (read from their
    # own sealed disclosures whenever a card is written).
    share: Mapped[Share] = mapped_column(
        stored_as_value(Share, 16), server_default=Share.NONE.value
    )
    time_window: Mapped[str] = mapped_column(String(32))
    # The number a person shared for a phone call, sealed under their key (bound to this
    # row), while the request is live: the mentor who takes it is sent it, a handback
    # offers it again; it is deleted when the request ends (closed, stopped, erased).
    phone_ct: Mapped[bytes | None] = mapped_column(LargeBinary, nullable=True)
    ladder_step: Mapped[int] = mapped_column(Integer, default=0)
    next_ladder_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    accepted_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    closed_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    # The last message passed on in an accepted chat, either way (when it was, never what):
    # a chat quiet for chat_idle_close_days is closed (conversations/mentor/idle.py).
    last_message_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    feedback_helped: Mapped[str | None] = mapped_column(String(16), nullable=True)
    feedback_next_step: Mapped[str | None] = mapped_column(String(16), nullable=True)


class OutboxMessage(Base):
    """A message to someone other than the sender, written in the business transaction.

    The payload is sealed under `payload_subject`'s key (the person it is about), so
    erasing that person makes a pending payload unreadable as well as obsolete.
    """

    __tablename__ = "outbox"
    __table_args__ = (
        CheckConstraint(_check_in("status", OutboxStatus), name="status"),
        Index("ix_outbox_status_next_attempt_at", "status", "next_attempt_at"),
    )

    id: Mapped[str] = mapped_column(String(32), primary_key=True, default=new_id)
    dedupe_key: Mapped[str] = mapped_column(String(160), unique=True)
    kind: Mapped[str] = mapped_column(String(32))
    referral_id: Mapped[str | None] = mapped_column(
        String(32), ForeignKey("referrals.id", ondelete="SET NULL"), nullable=True, index=True
    )
    recipient_kind: Mapped[str] = mapped_column(String(16))
    recipient_id: Mapped[str] = mapped_column(String(32), index=True)
    payload_subject: Mapped[str | None] = mapped_column(String(32), nullable=True)
    payload_ct: Mapped[bytes | None] = mapped_column(LargeBinary, nullable=True)
    status: Mapped[OutboxStatus] = mapped_column(stored_as_value(OutboxStatus, 16))
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    next_attempt_at: Mapped[datetime] = mapped_column(UTCDateTime)
    lease_until: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    last_error: Mapped[str | None] = mapped_column(String(64), nullable=True)
    sent_message_id: Mapped[int | None] = mapped_column(BigInteger, nullable=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)


class ProcessedUpdate(Base):
    """Update ids already handled, so a redelivered update changes nothing."""

    __tablename__ = "processed_updates"

    update_id: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)
    processed_at: Mapped[datetime] = mapped_column(UTCDateTime, index=True)


class ErasureJournal(Base):
    """Subjects erased, and when: nothing else. Replayed after any restore from backup.

    Kept in the key store, outside the main data's backup set.
    """

    __tablename__ = "erasure_journal"
    __table_args__ = {"schema": KEYSTORE_SCHEMA}

    subject_id: Mapped[str] = mapped_column(String(32), primary_key=True)
    erased_at: Mapped[datetime] = mapped_column(UTCDateTime)


class EventCount(Base):
    """Aggregate counters for the pilot report: day, event, office, count; never a person."""

    __tablename__ = "event_counts"

    day: Mapped[date] = mapped_column(Date, primary_key=True)
    event: Mapped[str] = mapped_column(String(48), primary_key=True)
    office_id: Mapped[str] = mapped_column(String(64), primary_key=True, default="")
    count: Mapped[int] = mapped_column(Integer, default=0)


class OperatorNote(Base):
    """Key/value facts about this deployment (e.g. last purge), never personal data."""

    __tablename__ = "operator_notes"

    name: Mapped[str] = mapped_column(String(64), primary_key=True)
    value: Mapped[str] = mapped_column(Text)


class WebChat(Base):
    """One web chat (bot/webchat): a chat id from the web range, found by the hash of its
    session token (the token itself is never kept), and the data key its replayable
    messages are sealed with. No address, no browser details. `pseudonym` is the person
    pseudonym this chat id has, so erasing the person (/forget, retention) erases it too.
    """

    __tablename__ = "web_chats"

    chat_id: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)
    token_hash: Mapped[bytes] = mapped_column(LargeBinary(32), unique=True)
    recovery_hash: Mapped[bytes | None] = mapped_column(LargeBinary(32), unique=True, nullable=True)
    pseudonym: Mapped[bytes] = mapped_column(LargeBinary(32), index=True)
    wrapped_key: Mapped[bytes] = mapped_column(LargeBinary)
    next_seq: Mapped[int] = mapped_column(Integer, default=1)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    last_seen_at: Mapped[datetime] = mapped_column(UTCDateTime, index=True)


class WebEvent(Base):
    """One thing the bot did in a web chat (a message, an edit, a deletion), sealed under
    the chat's key, kept so a reconnecting page can replay what it missed (event ids are
    `seq`). `origin` names the outbox row that caused it, so a resend after a crash
    finds the event already there instead of writing it twice."""

    __tablename__ = "web_events"
    __table_args__ = (UniqueConstraint("chat_id", "origin", name="uq_web_events_origin"),)

    chat_id: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)
    seq: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    origin: Mapped[str | None] = mapped_column(String(40), nullable=True)
    body_ct: Mapped[bytes] = mapped_column(LargeBinary)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, index=True)
