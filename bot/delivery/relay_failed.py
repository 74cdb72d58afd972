"""A relayed message that could not be delivered: its sender is told, as they were when
relays were sent straight after the step (the "✓ Sent" they saw meant "queued")."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncConnection

from conversations import texts
from conversations.i18n import _
from storage.crypto import KeyRing
from storage.repositories import mentors, referrals
from storage.repositories.outbox import Claimed, Kind, RecipientKind, Send, enqueue
from storage.repositories.subjects import open_subject_key


async def tell_relay_sender(
    connection: AsyncConnection, ring: KeyRing, row: Claimed, *, now: datetime
) -> bool:
    """Queue "I couldn't pass that on" to the other end of the referral (sealed under the
    sender's own key); False when there is nobody left to tell."""
    referral = await referrals.by_id(connection, row.referral_id or "")
    if referral is None or referral.mentor_id is None:
        return False
    sender: RecipientKind
    if row.recipient_kind == "mentor":
        if referral.person_id is None:
            return False
        sender, sender_id = "person", referral.person_id
        name = await mentors.display_name_of(connection, ring, referral.mentor_id) or ""
        text = _(texts.RELAY_FAILED).format(name=name)
    else:
        sender, sender_id = "mentor", referral.mentor_id
        text = _(texts.MENTOR_RELAY_FAILED).format(ref=referral.public_ref)
    cipher = await open_subject_key(connection, ring, sender_id)
    if cipher is None:
        return False
    queued = await enqueue(
        connection,
        dedupe_key=f"{Kind.RELAY_FAILED}:{row.id}",
        kind=Kind.RELAY_FAILED,
        recipient_kind=sender,
        recipient_id=sender_id,
        payload=Send(text=text),
        sealed_by=cipher,
        now=now,
        referral_id=referral.id,
    )
    return queued is not None
