"""A mentor's chats: passing a reply on to the person, and closing a chat.

A mentor answers by replying to a relayed message (or to the card), with
`/to R-… text`, or, holding exactly one chat, by writing; the words go to the person
through conversations/relay.py. `/close R-…` asks first (Yes, end the chat / No, keep
it); yes ends the chat and asks the person the feedback questions.
"""

from __future__ import annotations

import re
from datetime import datetime

from telegram import Message

from conversations import keyboards, texts
from conversations.callbacks import Card, CardAction
from conversations.common import event
from conversations.context import Services
from conversations.i18n import _
from conversations.mentor import notices
from conversations.outcome import DROP_BUTTONS, Outcome, Reply, Rewrite
from conversations.person import feedback
from conversations.relay import from_mentor
from conversations.steps import Step
from storage.crypto import KeyRing
from storage.db import Connection
from storage.models import ReferralStatus
from storage.repositories import referrals
from storage.repositories.mentors import MentorRecord
from storage.repositories.outbox import Kind
from storage.repositories.referrals import REF_PATTERN, ReferralRow
from storage.repositories.updates import record_event

REF_IN_TEXT = re.compile(REF_PATTERN)
TO_ARGS = re.compile(rf"^({REF_PATTERN})\s+(.+)$", re.DOTALL)


async def ask_close(connection: Connection, mentor: MentorRecord, public_ref: str) -> Outcome:
    """/close REF: ending a live chat asks first (Yes, end the chat / No, keep it). The
    buttons carry the chat's version, so an answer to an out-of-date question (the chat
    ended meanwhile, or was handed back and taken again) closes nothing."""
    referral = await referrals.by_ref(connection, public_ref)
    if referral is None or referral.mentor_id != mentor.id:
        return Outcome.say(_(texts.MENTOR_NO_CHAT).format(ref=public_ref))
    if referral.status != ReferralStatus.ACCEPTED:
        return Outcome.say(_(texts.MENTOR_CHAT_ENDED).format(ref=public_ref))
    ask = Reply(
        _(texts.MENTOR_CLOSE_ASK).format(ref=referral.public_ref),
        keyboards.rows(
            [
                keyboards.button(
                    _(texts.BTN_CLOSE_YES),
                    Card(CardAction.CLOSE, referral.public_ref, referral.version),
                ),
                keyboards.button(
                    _(texts.BTN_CLOSE_NO),
                    Card(CardAction.KEEP, referral.public_ref, referral.version),
                ),
            ],
            per_row=2,
        ),
    )
    return Outcome.say(ask)


async def answer_close(
    connection: Connection, services: Services, mentor: MentorRecord, button: Card
) -> Outcome:
    """Yes, end the chat / No, keep it, under the question /close asked. A second tap,
    or a tap after the chat ended some other way, closes nothing and says so."""
    referral = await referrals.by_ref(connection, button.ref)
    if referral is None or referral.mentor_id != mentor.id or button.version is None:
        return Outcome.toast_only(_(texts.TOAST_NOT_YOURS), pressed=DROP_BUTTONS)
    if referral.status == ReferralStatus.CLOSED and referral.version == button.version + 1:
        # The first tap closed it (or the person ended it meanwhile): nothing more to do.
        return Outcome.toast_only(_(texts.TOAST_CLOSED_ALREADY), pressed=DROP_BUTTONS)
    if referral.status != ReferralStatus.ACCEPTED or referral.version != button.version:
        # Asked about an earlier chat under this reference (handed back, taken again).
        return Outcome(pressed=Rewrite(_(texts.MENTOR_CLOSE_STALE)))
    if button.action == CardAction.KEEP:
        event("mentor.close_kept")
        return Outcome(pressed=Rewrite(_(texts.MENTOR_CLOSE_KEPT).format(ref=button.ref)))
    if not await close_referral(connection, services, mentor, referral):
        return Outcome.toast_only(_(texts.TOAST_CLOSED_ALREADY), pressed=DROP_BUTTONS)
    return Outcome(pressed=Rewrite(_(texts.MENTOR_CLOSED).format(ref=button.ref)))


async def close_referral(
    connection: Connection,
    services: Services,
    mentor: MentorRecord,
    referral: ReferralRow,
) -> bool:
    """The mentor ends the chat (they said yes); the person is asked for feedback. False
    when it was no longer theirs to end."""
    now = services.clock()
    await referrals.lock_person(connection, referral.person_id)
    if not await referrals.close(connection, referral, now, mentor_id=mentor.id):
        return False
    await referrals.drop_unsent(connection, referral.id, (Kind.ACCEPTED,))
    await notices.take_number_back(connection, services.ring, referral, now)
    closed = _(texts.MENTOR_CLOSED_BY_MENTOR).format(
        name=mentor.display_name or "", ref=referral.public_ref
    )
    await tell_person_closed(connection, services.ring, referral, closed, now)
    await record_event(connection, "referral_closed", now, referral.office_id)
    event("mentor.closed")
    return True


async def relay_to(
    connection: Connection,
    services: Services,
    mentor: MentorRecord,
    public_ref: str,
    text: str,
) -> Outcome:
    return await from_mentor(connection, services.ring, mentor, public_ref, text, services.clock())


def replied_ref(message: Message, bot_id: int) -> str | None:
    """The reference in the bot message being replied to (a relayed message or a card)."""
    target = message.reply_to_message
    if target is None or target.from_user is None or target.from_user.id != bot_id:
        return None
    found = REF_IN_TEXT.search(target.text or "")
    return found.group(0) if found else None


async def tell_person_closed(
    connection: Connection, ring: KeyRing, referral: ReferralRow, closed: str, now: datetime
) -> None:
    """The chat has ended (closed by the mentor, or quiet too long): the person is told,
    asked the feedback question, and moved on to it."""
    cipher = await notices.person_cipher(connection, ring, referral)
    if cipher is None or referral.person_id is None:
        return
    await notices.tell_person(
        connection,
        referral,
        kind=Kind.CLOSED,
        dedupe=f"closed:{referral.id}",
        text=f"{closed}\n\n{_(texts.FEEDBACK_HELPED)}",
        markup=feedback.helped_keyboard(),
        cipher=cipher,
        now=now,
    )
    await referrals.move_person(
        connection,
        referral.person_id,
        from_states=(Step.WITH_MENTOR, Step.WAITING_FOR_MENTOR),
        to_state=Step.FEEDBACK_HELPED,
    )
