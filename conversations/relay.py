"""Passing messages between a person and the mentor who accepted them.

Bodies are never stored: a relayed message is read from the incoming update, checked
against the referral (the sender really is one end of an accepted referral), and sent
as NEW text after the transaction committed — never forwarded or copied, so nothing of
the sender's account travels with it. The person's text reaches the mentor labelled
with the reference ("R-7KQ3XW: …"); the mentor's reply reaches the person labelled with
the mentor's chosen first name. If a send fails, the sender is told kindly.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

from telegram import Update
from telegram.error import TelegramError
from telegram.ext import MessageHandler, filters

from conversations import texts
from conversations.common import chat_id_of, event
from conversations.context import Context
from conversations.flow import (
    FlowFn,
    Outcome,
    Reply,
    flow_callback,
    menu_replies,
    run_flow,
    step_router,
)
from conversations.person.ask_mentor import settled_draft
from conversations.steps import Step, step_of
from storage.crypto import KeyRing
from storage.db import Connection
from storage.models import MentorStatus, ReferralStatus
from storage.repositories import mentors, referrals
from storage.repositories.mentors import MentorRecord
from storage.repositories.people import PersonTransaction
from storage.repositories.people import chat_id_of as person_chat_id

MAX_MESSAGE = 4096  # Telegram's limit for one text message


@dataclass(frozen=True, slots=True, repr=False)
class PendingRelay:
    """One message to pass on once the transaction committed. Holds text: never log it."""

    chat_id: int
    text: str
    protect: bool
    failed: Reply
    sent: list[Reply] = field(default_factory=list)

    def __repr__(self) -> str:
        return "PendingRelay(…)"


async def pass_on(update: Update, context: Context, relay: PendingRelay) -> bool:
    """Send the relayed text; on any Telegram error tell the sender instead."""
    try:
        await context.bot.send_message(
            chat_id=relay.chat_id,
            text=relay.text,
            parse_mode=None,
            protect_content=relay.protect,
        )
    except TelegramError as error:
        event("relay.failed", kind=type(error).__name__)
        await context.bot.send_message(
            chat_id=chat_id_of(update),
            text=relay.failed.text,
            reply_markup=relay.failed.markup,
            parse_mode=None,
        )
        return False
    event("relay.sent")
    for reply in relay.sent:
        await context.bot.send_message(
            chat_id=chat_id_of(update), text=reply.text, reply_markup=reply.markup, parse_mode=None
        )
    return True


# ------------------------------------------------------------------- person → mentor


async def from_person(
    context: Context, tx: PersonTransaction, text: str
) -> tuple[Outcome, PendingRelay | None]:
    """The person's text at Step.WITH_MENTOR: to their mentor, labelled with the reference."""
    person = tx.person
    assert person is not None
    connection, ring = tx.connection, context.services.ring
    live = await referrals.live_for_person(connection, person.id)
    if live is None or live.status != ReferralStatus.ACCEPTED or live.mentor_id is None:
        await tx.move(Step.MENU, draft=settled_draft(person))
        return Outcome(replies=[Reply(texts.RELAY_ENDED), *menu_replies()]), None
    if await mentors.status_of(connection, live.mentor_id) != MentorStatus.ACTIVE:
        return Outcome.say(texts.RELAY_ENDED), None
    target = await mentors.mentor_chat_id(connection, ring, live.mentor_id)
    name = await mentors.display_name_of(connection, ring, live.mentor_id) or ""
    labelled = texts.MENTOR_RELAY.format(ref=live.public_ref, text=text)
    if len(labelled) > MAX_MESSAGE:
        limit = MAX_MESSAGE - len(labelled) + len(text)
        return Outcome.say(texts.RELAY_TOO_LONG.format(limit=limit)), None
    failed = Reply(texts.RELAY_FAILED.format(name=name))
    if target is None:
        return Outcome.say(failed), None
    sent: list[Reply] = []
    if not person.draft.get("relayed"):
        await tx.move(
            Step.WITH_MENTOR, draft=settled_draft(person, ref=live.public_ref, relayed=True)
        )
        sent.append(Reply(texts.RELAY_SENT_FIRST.format(name=name)))
    return Outcome(), PendingRelay(target[0], labelled, True, failed, sent)


def build_person_text_handler(
    steps: Mapping[Step, FlowFn], fallback: FlowFn
) -> MessageHandler[Context, None]:
    """Free text, routed by the person's step; at Step.WITH_MENTOR it is relayed.

    The same as `conversations.flow.text_router`, plus the relay: the message to the
    mentor is sent after the person's transaction committed. A message that signals
    danger is passed on too (the urgent-help reply went first, in group -1): the person
    is talking to someone who can help, and nothing of it is kept.
    """
    by_step = step_router(steps, fallback)

    @flow_callback  # the update is claimed in the person's transaction, not apart
    async def callback(update: Update, context: Context) -> None:
        pending: list[PendingRelay] = []

        async def route(update: Update, context: Context, tx: PersonTransaction) -> Outcome:
            assert tx.person is not None
            message = update.message
            if (
                step_of(tx.person.state) == Step.WITH_MENTOR
                and message is not None
                and message.text is not None
            ):
                outcome, relay = await from_person(context, tx, message.text)
                if relay is not None:
                    pending.append(relay)
                return outcome
            return await by_step(update, context, tx)

        await run_flow(update, context, route)
        for relay in pending:
            await pass_on(update, context, relay)

    return MessageHandler(filters.ChatType.PRIVATE & filters.TEXT & ~filters.COMMAND, callback)


# ------------------------------------------------------------------- mentor → person


async def from_mentor(
    connection: Connection,
    ring: KeyRing,
    mentor: MentorRecord,
    public_ref: str,
    text: str,
) -> tuple[list[Reply], PendingRelay | None]:
    """A mentor's reply: only on a referral they accepted and that is still open."""
    referral = await referrals.by_ref(connection, public_ref)
    if referral is None or referral.mentor_id != mentor.id:
        return [Reply(texts.MENTOR_NO_CHAT.format(ref=public_ref))], None
    ended = [Reply(texts.MENTOR_CHAT_ENDED.format(ref=public_ref))]
    if referral.status != ReferralStatus.ACCEPTED or referral.person_id is None:
        return ended, None
    target = await person_chat_id(connection, ring, referral.person_id)
    if target is None:
        return ended, None
    labelled = texts.RELAY_FROM_MENTOR.format(name=mentor.display_name or "", text=text)
    if len(labelled) > MAX_MESSAGE:
        limit = MAX_MESSAGE - len(labelled) + len(text)
        return [Reply(texts.RELAY_TOO_LONG.format(limit=limit))], None
    failed = Reply(texts.MENTOR_RELAY_FAILED.format(ref=public_ref))
    return [], PendingRelay(target[0], labelled, False, failed)
