"""The outbox: messages to someone other than the sender, written in the business
transaction and delivered later by bot/delivery (at least once, with retries).

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
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Literal, cast

from sqlalchemy import Table
from sqlalchemy.ext.asyncio import AsyncConnection

from storage.crypto import FieldCipher
from storage.models import OutboxMessage, OutboxStatus, new_id
from storage.sql import insert_ignore

OUTBOX = cast(Table, OutboxMessage.__table__)

RecipientKind = Literal["person", "mentor"]


class Kind:
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
    CLOSED = "closed"  # person: the referral closed; feedback questions
    MENTOR_NOTICE = "mentor_notice"  # mentor: the person ended the chat or withdrew
    ALERT = "alert"  # coordinator: needs a human (unclaimed, unreachable, dead)


LIVE_WHILE: dict[str, frozenset[str] | None] = {
    Kind.CARD: frozenset({"pending"}),
    Kind.REMINDER: frozenset({"pending"}),
    Kind.LADDER_UPDATE: frozenset({"pending"}),
    Kind.ACCEPTED: frozenset({"accepted"}),
    Kind.CLOSED: frozenset({"closed"}),
    # None: deliver whatever the referral's status.
    Kind.CARD_UPDATE: None,
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


def seal_payload(cipher: FieldCipher, row_id: str, payload: Send | Edit) -> bytes:
    return cipher.seal(OUTBOX.name, "payload_ct", row_id, json.dumps(payload.to_json()).encode())


def open_payload(cipher: FieldCipher, row_id: str, blob: bytes) -> Send | Edit:
    return payload_from_json(json.loads(cipher.open(OUTBOX.name, "payload_ct", row_id, blob)))


async def enqueue(
    connection: AsyncConnection,
    *,
    dedupe_key: str,
    kind: str,
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
    row_id = new_id()
    inserted = await insert_ignore(
        connection,
        OUTBOX,
        {
            "id": row_id,
            "dedupe_key": dedupe_key,
            "kind": kind,
            "referral_id": referral_id,
            "recipient_kind": recipient_kind,
            "recipient_id": recipient_id,
            "payload_subject": sealed_by.subject_id,
            "payload_ct": seal_payload(sealed_by, row_id, payload),
            "status": OutboxStatus.PENDING.value,
            "attempts": 0,
            "next_attempt_at": now + delay,
            "created_at": now,
        },
    )
    return row_id if inserted else None
