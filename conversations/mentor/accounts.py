"""What the operator's `firststep mentors approve|revoke` do in the chats.

Approving tells the mentor they can start. Revoking ends their access and leaves nobody
alone: each chat they held goes back to the mentors of its pilot area (fresh cards), the
person is told honestly, and the coordinators are alerted.
"""

from __future__ import annotations

from datetime import datetime

from conversations import texts
from conversations.i18n import _
from conversations.mentor import notices
from conversations.steps import Step
from storage.crypto import FieldCipher, KeyRing
from storage.db import Connection
from storage.models import MentorRole
from storage.repositories import mentors, referrals
from storage.repositories.outbox import Kind, Send, alert_coordinators, enqueue
from storage.repositories.referrals import ReferralRow
from storage.repositories.subjects import open_subject_key


async def approve_mentor(
    connection: Connection, ring: KeyRing, mentor_id: str, now: datetime
) -> bool:
    """`firststep mentors approve`: active, and told so in their chat."""
    if not await mentors.approve(connection, mentor_id):
        return False
    cipher = await open_subject_key(connection, ring, mentor_id)
    label = await mentors.label_of(connection, ring, mentor_id)
    approved = (
        _(texts.COORDINATOR_APPROVED)
        if label is not None and label.role == MentorRole.COORDINATOR
        else _(texts.MENTOR_APPROVED)
    )
    if cipher is not None:
        await enqueue(
            connection,
            dedupe_key=f"approved:{mentor_id}:{int(now.timestamp())}",
            kind=Kind.MENTOR_NOTICE,
            recipient_kind="mentor",
            recipient_id=mentor_id,
            payload=Send(text=approved),
            sealed_by=cipher,
            now=now,
        )
    return True


async def reopen_cards(
    connection: Connection,
    reopened: ReferralRow,
    left: str,
    offered: list[str],
    *,
    cipher: FieldCipher,
    now: datetime,
) -> None:
    """A handed-back request's old cards stop saying someone has it: they point to the
    new card (or to /referrals for a mentor who gets none, e.g. away). The mentor who
    left keeps theirs: nothing reaches a revoked mentor."""
    fresh = _(texts.CARD_REOPENED).format(ref=reopened.public_ref)
    ask = _(texts.CARD_REOPENED_ASK).format(ref=reopened.public_ref)

    def text_for(mentor_id: str) -> str | None:
        if mentor_id == left:
            return None
        return fresh if mentor_id in offered else ask

    await notices.update_cards(
        connection, reopened, text_for=text_for, cipher=cipher, now=now, tag="reopened"
    )


async def revoke_mentor(
    connection: Connection, ring: KeyRing, mentor_id: str, now: datetime
) -> int | None:
    """`firststep mentors revoke`: no more cards or actions; nobody they held is left alone.

    Each accepted referral the mentor held goes back to the mentors of its pilot area,
    the person is told honestly, and the coordinators are alerted. Returns how many
    referrals were handed back, or None when the mentor was already revoked.
    """
    if not await mentors.revoke(connection, mentor_id):
        return None
    handed_back = 0
    for referral in await referrals.held_by(connection, mentor_id):
        await referrals.lock_person(connection, referral.person_id)
        if not await referrals.reopen(connection, referral):
            continue
        reopened = await referrals.by_id(connection, referral.id)
        cipher = await notices.person_cipher(connection, ring, referral)
        if reopened is None or cipher is None:
            continue
        handed_back += 1
        # The reopened version names this handback: a request handed back again later
        # (another mentor removed) gets fresh cards, not ones deduped against these.
        handback = f"back{reopened.version}"
        area = await mentors.mentors_in_area(connection, reopened.pilot_area)
        await reopen_cards(connection, reopened, mentor_id, area, cipher=cipher, now=now)
        await notices.offer(connection, reopened, area, cipher=cipher, now=now, tag=handback)
        await alert_coordinators(
            connection,
            ring,
            about=f"mentor_left:{mentor_id}:{reopened.id}",
            text=_(texts.ALERT_MENTOR_LEFT).format(
                ref=reopened.public_ref,
                office=notices.office_name(reopened.office_id),
                area=reopened.pilot_area,
            ),
            now=now,
            referral_id=reopened.id,
        )
        await notices.tell_person(
            connection,
            reopened,
            kind=Kind.LADDER_UPDATE,
            dedupe=f"ladder:left:{reopened.id}:{handback}",
            text=_(texts.LADDER_MENTOR_LEFT).format(
                ref=reopened.public_ref, area=reopened.pilot_area
            ),
            markup=notices.support_and_withdraw(reopened.public_ref),
            cipher=cipher,
            now=now,
        )
        if reopened.person_id is not None:
            await referrals.move_person(
                connection,
                reopened.person_id,
                from_states=(Step.WITH_MENTOR,),
                to_state=Step.WAITING_FOR_MENTOR,
            )
    return handed_back
