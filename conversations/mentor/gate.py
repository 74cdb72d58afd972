"""The mentor gate: which updates belong to the mentor side, and where each goes.

`mentor_gate` runs in handler group 0 for every message and button press. It handles
the update — and stops it there — when the sender is a mentor or coordinator (one
indexed lookup by their mentor pseudonym), is joining (`/join CODE`,
`/start join-CODE`), or pressed a card or list button (`callbacks.Family.CARD`).
Everyone else goes on to the person flows in group 1.

What it does lives beside it: join.py (the invite and the first name), cards.py
(cards, claiming, the /referrals list), chats.py (replies passed on, /close) and
accounts.py (the operator's approve and revoke). Each returns an `Outcome`, carried out
by `conversations.outcome.deliver` once the gate's transaction committed.
"""

from __future__ import annotations

import re

from telegram import Message, Update
from telegram.ext import ApplicationHandlerStop, TypeHandler

from conversations import callbacks, texts
from conversations.common import event
from conversations.context import Context, Services
from conversations.flow import DuplicateUpdate, claim_deferred, release_claim
from conversations.i18n import _
from conversations.mentor.cards import list_referrals, on_card
from conversations.mentor.chats import REF_IN_TEXT, TO_ARGS, ask_close, relay_to, replied_ref
from conversations.mentor.join import join_code, on_join, on_name
from conversations.outcome import Outcome, Reply, deliver, queue_relay
from conversations.safety.replies import reply_for
from conversations.safety.urgent_help import crisis_verdict
from storage.db import Connection
from storage.models import MentorStatus
from storage.repositories import mentors, referrals
from storage.repositories.mentors import MentorRecord

COMMAND = re.compile(r"^/([A-Za-z_]+)(?:@\w+)?(?:\s+(.*))?$", re.DOTALL)
MENTOR_ONLY_COMMANDS = frozenset({"available", "away", "referrals", "close", "to"})


async def on_command(
    connection: Connection,
    services: Services,
    mentor: MentorRecord,
    name: str,
    args: str,
) -> Outcome:
    help_text = _(texts.COORDINATOR_HELP) if mentor.is_coordinator else _(texts.MENTOR_HELP)
    if name == "referrals":
        return await list_referrals(connection, mentor)
    if mentor.is_coordinator:
        return Outcome.say(help_text)
    if name in ("available", "away"):
        await mentors.set_available(connection, mentor.id, name == "available")
        event("mentor.availability", available=int(name == "available"))
        return Outcome.say(
            _(texts.MENTOR_AVAILABLE) if name == "available" else _(texts.MENTOR_AWAY)
        )
    if name == "close":
        found = REF_IN_TEXT.fullmatch(args.strip().upper())
        if found is None:
            return Outcome.say(_(texts.MENTOR_CLOSE_USAGE))
        return await ask_close(connection, mentor, found.group(0))
    if name == "to":
        to = TO_ARGS.match(args.strip())
        if to is None:
            return Outcome.say(_(texts.MENTOR_TO_USAGE))
        return await relay_to(connection, services, mentor, to.group(1), to.group(2))
    return Outcome.say(help_text)


def urgent_help_first(text: str | None, outcome: Outcome) -> Outcome:
    """Words of danger from an approved mentor or coordinator that are passed on to no one.

    The crisis check in group -1 leaves approved mentors and coordinators alone: what they
    pass on ("if you ever want to end it all, call 999") is their job. Words that reach
    nobody may be about themselves (mentors have lived experience, and relapse happens),
    so they get the urgent-help reply first, as anyone else would. Those not approved
    yet got it in group -1 already.
    """
    verdict = crisis_verdict(text)
    if verdict is None:
        return outcome
    event("crisis.reply", tier=verdict.tier.value, kind=verdict.kind.value)
    return outcome.first(Reply(*reply_for(verdict.tier, verdict.kind)))


async def on_message(
    connection: Connection,
    services: Services,
    mentor: MentorRecord,
    message: Message,
    bot_id: int,
) -> Outcome:
    """Any message from a mentor or coordinator who is not revoked."""
    text = message.text
    if text is None:
        return Outcome.say(_(texts.ONLY_TEXT))
    if mentor.status == MentorStatus.PENDING_NAME:
        return await on_name(connection, services, mentor, text)
    if mentor.status == MentorStatus.PENDING_APPROVAL:
        return Outcome.say(
            _(texts.COORDINATOR_WAIT_APPROVAL)
            if mentor.is_coordinator
            else _(texts.MENTOR_WAIT_APPROVAL)
        )
    if mentor.unreachable:
        await mentors.mark_reachable(connection, mentor.id)
    command = COMMAND.match(text)
    if command is not None:
        return await on_command(
            connection, services, mentor, command.group(1).lower(), command.group(2) or ""
        )
    if mentor.is_coordinator:
        return Outcome.say(_(texts.COORDINATOR_HELP))
    public_ref = replied_ref(message, bot_id)
    if public_ref is None:
        held = await referrals.held_by(connection, mentor.id)
        if len(held) != 1:
            return Outcome.say(_(texts.MENTOR_RELAY_HOW))
        public_ref = held[0].public_ref
    return await relay_to(connection, services, mentor, public_ref, text)


def is_mentor_business(message: Message, bot_id: int) -> bool:
    """For a revoked account: which messages were meant for the mentor side."""
    command = COMMAND.match(message.text or "")
    if command is not None:
        return command.group(1).lower() in MENTOR_ONLY_COMMANDS
    return replied_ref(message, bot_id) is not None


async def mentor_gate(update: Update, context: Context) -> None:
    """Group 0: mentors, joiners and card buttons are handled here and go no further."""
    user = update.effective_user
    query = update.callback_query
    message = update.message
    if user is None or (query is None and message is None):
        return
    services = context.services
    code = join_code(message.text) if message is not None else None
    family = callbacks.family_of(query.data or "") if query is not None else None
    card_button = family == callbacks.Family.CARD
    # Most updates come from people: a look without a write lock lets them pass on to
    # their own flow, which commits once.
    if (
        code is None
        and not card_button
        and await mentors.account_status(services.database, services.ring, user.id) is None
    ):
        return
    try:
        async with mentors.mentor_transaction(services.database, services.ring, user.id) as tx:
            connection, mentor = tx.connection, tx.mentor
            outcome = await _decide(connection, services, mentor, update, code, context.bot.id)
            if outcome is None:
                return  # a person's update: on to their flow, which claims it
            if mentor is not None:
                # Claimed with what it did (a flow handler would have, for a person).
                await claim_deferred(context, connection, update.update_id, services.clock())
            outcome = await queue_relay(
                connection, outcome, update_id=update.update_id, now=services.clock()
            )
    except DuplicateUpdate:
        event("guard.duplicate_update")
        release_claim(context, update.update_id)
        raise ApplicationHandlerStop from None
    release_claim(context, update.update_id)
    await deliver(update, context, outcome)
    raise ApplicationHandlerStop


async def _decide(
    connection: Connection,
    services: Services,
    mentor: MentorRecord | None,
    update: Update,
    code: str | None,
    bot_id: int,
) -> Outcome | None:
    """What the gate does with this update; None when it is a person's."""
    query, message = update.callback_query, update.message
    if query is not None:
        if callbacks.family_of(query.data or "") == callbacks.Family.CARD:
            return await on_card(connection, services, mentor, update, callbacks.parse(query.data))
        if mentor is not None and mentor.status != MentorStatus.REVOKED:
            return Outcome.toast_only(_(texts.TOAST_NOT_IN_MENTOR_MODE))
        return None  # a person's button
    if code is not None:
        return await on_join(connection, services, mentor, update, code)
    if mentor is None or message is None:
        return None  # a person's message
    if mentor.status == MentorStatus.REVOKED:
        if not is_mentor_business(message, bot_id):
            return None  # they may still use First Step for themselves
        return Outcome.say(_(texts.MENTOR_REVOKED))
    outcome = await on_message(connection, services, mentor, message, bot_id)
    if mentor.status == MentorStatus.ACTIVE and outcome.relay is None:
        outcome = urgent_help_first(message.text, outcome)
    return outcome


def build_mentor_gate() -> TypeHandler[Update, Context, None]:
    return TypeHandler(Update, mentor_gate)
