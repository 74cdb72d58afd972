"""The mentor side: joining with an invite, cards, claiming, availability, closing.

Routing: `mentor_gate` runs in handler group 0 for every message and button press. It
handles the update — and stops it there — when the sender is a mentor or coordinator
(one indexed lookup by their mentor pseudonym), is joining (`/join CODE`,
`/start join-CODE`), or pressed a card or list button (`mc:`). Everyone else goes on
to the person flows in group 1.

Claiming is ONE conditional UPDATE (`storage.repositories.referrals.claim`) after checking
the caller is an active mentor allowed for that referral; the same transaction queues the
"accepted" message to the person and the edits of every card out for it (the winner's
say it is theirs, everyone else's that it is taken).
A request card carries `mc:acc:<ref>` and `mc:no:<ref>`; the /referrals list carries
`mc:take:<ref>` per waiting request. Taking from a card turns that card into the
confirmation; taking from the list confirms in a message of its own and redraws the list
as it stands now, so the other requests keep their buttons.
Callback data is never trusted: a malformed, foreign or stale button changes nothing
and is always answered.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum

from telegram import CallbackQuery, InlineKeyboardMarkup, Message, Update
from telegram.error import BadRequest
from telegram.ext import ApplicationHandlerStop, TypeHandler

from conversations import keyboards, texts
from conversations.common import answer, chat_id_of, event
from conversations.context import Context, Services
from conversations.flow import Reply
from conversations.mentor import notices
from conversations.person import feedback
from conversations.person.ask_mentor import with_mentor_keyboard
from conversations.relay import PendingRelay, from_mentor, pass_on
from conversations.safety.replies import reply_for
from conversations.safety.urgent_help import crisis_verdict
from conversations.steps import Step
from storage.crypto import FieldCipher, KeyRing
from storage.db import Connection
from storage.models import MentorRole, MentorStatus, ReferralStatus
from storage.repositories import mentors, referrals
from storage.repositories.mentors import JoinResult, MentorRecord
from storage.repositories.outbox import Kind, Send, alert_coordinators, enqueue
from storage.repositories.referrals import REF_PATTERN, ContactBy, ReferralRow
from storage.repositories.subjects import open_subject_key
from storage.repositories.updates import mark_processed, record_event

JOIN_COMMAND = re.compile(r"^/join(?:@\w+)?(?:\s+(\S*))?\s*$")
START_JOIN = re.compile(r"^/start(?:@\w+)?\s+join-(\S+)\s*$")
CARD_DATA = re.compile(rf"^mc:(acc|no|take):({REF_PATTERN})$")
MAX_LIST_BUTTONS = 5
COMMAND = re.compile(r"^/([A-Za-z_]+)(?:@\w+)?(?:\s+(.*))?$", re.DOTALL)
REF_IN_TEXT = re.compile(REF_PATTERN)
TO_ARGS = re.compile(rf"^({REF_PATTERN})\s+(.+)$", re.DOTALL)
NAME_SHAPE = re.compile(r"^[^\W\d_]+(?:[ '’-][^\W\d_]+)?$")
MAX_NAME = 24
MENTOR_ONLY_COMMANDS = frozenset({"available", "away", "referrals", "close", "to"})


@dataclass(slots=True)
class MentorOutcome:
    """What the gate decided for a mentor's update; sent after the transaction commits."""

    replies: list[Reply] = field(default_factory=list)
    toast: str | None = None
    # Replace the pressed card's text (its buttons go with it).
    card_text: str | None = None
    # Redraw the pressed /referrals list (text and buttons) as it stands now.
    list_now: Reply | None = None
    relay: PendingRelay | None = None

    @classmethod
    def say(cls, *replies: Reply | str) -> MentorOutcome:
        return cls(replies=[r if isinstance(r, Reply) else Reply(r) for r in replies])


# ------------------------------------------------------------------------------ joining


def join_code(text: str | None) -> str | None:
    """The code of `/join CODE` or `/start join-CODE` ("" for a bare /join), else None."""
    if not text:
        return None
    match = JOIN_COMMAND.match(text) or START_JOIN.match(text)
    if match is None:
        return None
    return match.group(1) or ""


def clean_name(text: str) -> str | None:
    """A first name: letters (any alphabet), at most one space, hyphen or apostrophe."""
    name = " ".join(text.split())
    if not name or len(name) > MAX_NAME or not NAME_SHAPE.match(name):
        return None
    return name[0].upper() + name[1:]


def ask_name(mentor: MentorRecord) -> Reply:
    if mentor.is_coordinator:
        area = mentor.pilot_area or texts.COORDINATOR_ALL_AREAS
        return Reply(texts.JOIN_ASK_NAME_COORDINATOR.format(area=area))
    return Reply(texts.JOIN_ASK_NAME.format(office=notices.office_name(mentor.office_id or "")))


async def on_join(
    connection: Connection,
    services: Services,
    mentor: MentorRecord | None,
    update: Update,
    code: str,
) -> MentorOutcome:
    if mentor is not None and mentor.status != MentorStatus.REVOKED:
        return MentorOutcome.say(texts.JOIN_ALREADY)
    if not code:
        return MentorOutcome.say(texts.JOIN_HOW)
    user = update.effective_user
    assert user is not None
    now = services.clock()
    joined = await mentors.redeem_invite(
        connection,
        services.ring,
        telegram_id=user.id,
        chat_id=chat_id_of(update),
        code=code,
        now=now,
        attempts_per_hour=services.settings.join_attempts_per_hour,
    )
    event("mentor.join", result=joined.result.value)
    if joined.result == JoinResult.JOINED and joined.mentor is not None:
        # Known from now on: a redelivery of this update must find it already handled.
        await mark_processed(connection, update.update_id, now)
        await record_event(connection, f"{joined.mentor.role}_joined", now)
        return MentorOutcome(replies=[ask_name(joined.mentor)])
    return MentorOutcome.say(
        {
            JoinResult.INVALID: texts.JOIN_INVALID,
            JoinResult.THROTTLED: texts.JOIN_THROTTLED,
            JoinResult.ALREADY: texts.JOIN_ALREADY,
        }[joined.result]
    )


async def on_name(
    connection: Connection, services: Services, mentor: MentorRecord, text: str
) -> MentorOutcome:
    name = clean_name(text) if not text.startswith("/") else None
    if name is None:
        return MentorOutcome(replies=[Reply(texts.NAME_BAD), ask_name(mentor)])
    status = await mentors.set_display_name(
        connection, mentor, name, needs_approval=services.settings.mentor_approval
    )
    if status == MentorStatus.PENDING_APPROVAL:
        return MentorOutcome.say(texts.NAME_PENDING.format(name=name))
    if mentor.is_coordinator:
        return MentorOutcome.say(texts.NAME_ACTIVE_COORDINATOR.format(name=name))
    office = notices.office_name(mentor.office_id or "")
    return MentorOutcome.say(texts.NAME_ACTIVE.format(name=name, office=office))


# ----------------------------------------------------------------------------- claiming


class AcceptResult(StrEnum):
    WON = "won"
    TAKEN = "taken"  # another mentor got there first
    YOURS = "yours"  # this mentor took it already (from another of their cards)
    ENDED = "ended"  # withdrawn or closed
    NOT_ALLOWED = "not_allowed"  # not an active mentor of this office/area, or no such ref


async def accept(
    connection: Connection,
    ring: KeyRing,
    mentor: MentorRecord | None,
    public_ref: str,
    now: datetime,
    *,
    pressed_message_id: int | None = None,
) -> AcceptResult:
    """Accept a referral: the business transaction behind the Accept button."""
    if mentor is None or not mentor.active or mentor.role != MentorRole.MENTOR:
        return AcceptResult.NOT_ALLOWED
    referral = await referrals.by_ref(connection, public_ref)
    if referral is None or not referral.may_be_taken_by(mentor.office_id, mentor.pilot_area):
        return AcceptResult.NOT_ALLOWED
    await referrals.lock_person(connection, referral.person_id)
    if not await referrals.claim(connection, referral, mentor.id, now):
        current = await referrals.by_id(connection, referral.id)
        if current is not None and current.status == ReferralStatus.ACCEPTED:
            return AcceptResult.YOURS if current.mentor_id == mentor.id else AcceptResult.TAKEN
        return AcceptResult.ENDED
    await after_claim(connection, ring, mentor, referral, now, pressed_message_id)
    return AcceptResult.WON


async def after_claim(
    connection: Connection,
    ring: KeyRing,
    mentor: MentorRecord,
    referral: ReferralRow,
    now: datetime,
    pressed_message_id: int | None,
) -> None:
    """The rest of the winner's transaction: tell the person, update everyone's cards."""
    cipher = await notices.person_cipher(connection, ring, referral)
    name = mentor.display_name or ""
    if cipher is not None:
        template = (
            texts.MENTOR_ACCEPTED_PHONE
            if referral.contact_by == ContactBy.PHONE
            else texts.MENTOR_ACCEPTED
        )
        text = template.format(
            name=name, office=notices.office_name(referral.office_id), ref=referral.public_ref
        )
        await notices.tell_person(
            connection,
            referral,
            kind=Kind.ACCEPTED,
            # The version claimed: a request handed back and taken again is news again.
            dedupe=f"accepted:{referral.id}:{referral.version}",
            text=text,
            markup=with_mentor_keyboard(name),
            cipher=cipher,
            now=now,
        )
    if referral.person_id is not None:
        await referrals.move_person(
            connection,
            referral.person_id,
            from_states=(Step.WAITING_FOR_MENTOR, Step.MENU),
            to_state=Step.WITH_MENTOR,
        )
    pressed = frozenset(
        card.outbox_id
        for card in await referrals.cards_of(connection, referral.id, notices.CARD_KINDS)
        if card.recipient_id == mentor.id and card.sent_message_id == pressed_message_id
    )
    yours = texts.CARD_YOURS.format(ref=referral.public_ref)
    taken = texts.CARD_TAKEN.format(ref=referral.public_ref)
    await notices.update_cards(
        connection,
        referral,
        text_for=lambda mentor_id: yours if mentor_id == mentor.id else taken,
        cipher=cipher,
        ring=ring,
        now=now,
        tag="taken",
        skip=pressed,
    )
    await referrals.drop_unsent(connection, referral.id, (Kind.LADDER_UPDATE, Kind.ALERT))
    await record_event(connection, "referral_accepted", now, referral.office_id)
    event("mentor.accepted")


async def on_card(
    connection: Connection,
    services: Services,
    mentor: MentorRecord | None,
    update: Update,
) -> MentorOutcome:
    """`mc:acc:<ref>` / `mc:no:<ref>` / `mc:take:<ref>` from anyone: rights are checked,
    nothing trusted."""
    query = update.callback_query
    assert query is not None
    match = CARD_DATA.match(query.data or "")
    if mentor is None or mentor.status == MentorStatus.REVOKED:
        return MentorOutcome(toast=texts.TOAST_MENTORS_ONLY)
    if match is None:
        return MentorOutcome(toast=texts.UNKNOWN_BUTTON)
    action, public_ref = match.groups()
    if action == "no":
        referral = await referrals.by_ref(connection, public_ref)
        if (
            referral is None
            or not mentor.active
            or not referral.may_be_taken_by(mentor.office_id, mentor.pilot_area)
        ):
            return MentorOutcome(toast=texts.TOAST_NOT_YOURS)
        event("mentor.declined")
        return MentorOutcome(card_text=texts.CARD_DECLINED.format(ref=public_ref))
    if action == "take" or (action == "acc" and is_old_list(query.message, public_ref)):
        return await take_from_list(connection, services, mentor, public_ref)
    pressed = query.message.message_id if isinstance(query.message, Message) else None
    result = await accept(
        connection,
        services.ring,
        mentor,
        public_ref,
        services.clock(),
        pressed_message_id=pressed,
    )
    if result == AcceptResult.WON:
        return MentorOutcome(
            toast=texts.TOAST_ACCEPTED, card_text=texts.CARD_YOURS.format(ref=public_ref)
        )
    if result == AcceptResult.YOURS:
        return MentorOutcome(
            toast=texts.TOAST_YOURS_ALREADY, card_text=texts.CARD_YOURS.format(ref=public_ref)
        )
    if result == AcceptResult.TAKEN:
        return MentorOutcome(
            toast=texts.TOAST_TAKEN, card_text=texts.CARD_TAKEN.format(ref=public_ref)
        )
    if result == AcceptResult.ENDED:
        return MentorOutcome(toast=texts.TOAST_ENDED)
    return MentorOutcome(toast=texts.TOAST_NOT_YOURS)


def is_old_list(message: object, public_ref: str) -> bool:
    """A /referrals list sent before list buttons had their own data: it shows
    `mc:acc:<ref>` without the "Can't take this" every request card has."""
    return (
        isinstance(message, Message)
        and shows_button(message, f"mc:acc:{public_ref}")
        and not shows_button(message, f"mc:no:{public_ref}")
    )


async def take_from_list(
    connection: Connection, services: Services, mentor: MentorRecord, public_ref: str
) -> MentorOutcome:
    """An Accept button of the /referrals list. The list is not a card: it is redrawn
    rather than replaced, and a request taken is confirmed in a message of its own."""
    result = await accept(connection, services.ring, mentor, public_ref, services.clock())
    if result == AcceptResult.NOT_ALLOWED:
        return MentorOutcome(toast=texts.TOAST_NOT_YOURS)
    outcome = MentorOutcome(
        toast={
            AcceptResult.WON: texts.TOAST_ACCEPTED,
            AcceptResult.YOURS: texts.TOAST_YOURS_ALREADY,
            AcceptResult.TAKEN: texts.TOAST_TAKEN,
            AcceptResult.ENDED: texts.TOAST_ENDED,
        }[result],
        list_now=await waiting_list(connection, mentor),
    )
    if result == AcceptResult.WON:
        outcome.replies.append(Reply(texts.CARD_YOURS.format(ref=public_ref)))
    return outcome


# ----------------------------------------------------------------------------- commands


def referral_line(referral: ReferralRow) -> str:
    return texts.MENTOR_REFERRAL_LINE.format(
        ref=referral.public_ref,
        office=notices.office_name(referral.office_id),
        time=notices.time_label(referral.time_window),
    )


async def waiting_list(connection: Connection, mentor: MentorRecord) -> Reply:
    """What waits for this mentor, with an Accept button for each of the oldest few."""
    waiting = await referrals.waiting_for(
        connection, office_id=mentor.office_id, pilot_area=mentor.pilot_area
    )
    if not waiting:
        return Reply(texts.MENTOR_NONE_WAITING)
    lines = "\n".join(referral_line(r) for r in waiting)
    markup = keyboards.rows(
        keyboards.button(texts.BTN_ACCEPT_REF.format(ref=r.public_ref), f"mc:take:{r.public_ref}")
        for r in waiting[:MAX_LIST_BUTTONS]
    )
    return Reply(texts.MENTOR_WAITING_LIST.format(lines=lines), markup)


async def list_referrals(connection: Connection, mentor: MentorRecord) -> MentorOutcome:
    """/referrals: a mentor's open chats and what waits; a coordinator's area queue."""
    if mentor.is_coordinator:
        waiting = await referrals.waiting_in_area(connection, mentor.pilot_area)
        if not waiting:
            return MentorOutcome.say(texts.MENTOR_NONE_WAITING)
        lines = "\n".join(referral_line(r) for r in waiting)
        return MentorOutcome.say(texts.MENTOR_WAITING_LIST.format(lines=lines))
    held = await referrals.held_by(connection, mentor.id)
    replies = [
        Reply(
            texts.MENTOR_CHATS.format(lines="\n".join(referral_line(r) for r in held))
            if held
            else texts.MENTOR_NO_CHATS
        ),
        await waiting_list(connection, mentor),
    ]
    if not mentor.available:
        replies.append(Reply(texts.MENTOR_STATUS_AWAY))
    return MentorOutcome(replies=replies)


async def close_referral(
    connection: Connection,
    services: Services,
    mentor: MentorRecord,
    public_ref: str,
) -> MentorOutcome:
    """/close REF: the mentor ends the chat; the person is asked for feedback."""
    referral = await referrals.by_ref(connection, public_ref)
    if referral is None or referral.mentor_id != mentor.id:
        return MentorOutcome.say(texts.MENTOR_NO_CHAT.format(ref=public_ref))
    now = services.clock()
    await referrals.lock_person(connection, referral.person_id)
    if not await referrals.close(connection, referral, now, mentor_id=mentor.id):
        return MentorOutcome.say(texts.MENTOR_CHAT_ENDED.format(ref=public_ref))
    await referrals.drop_unsent(connection, referral.id, (Kind.ACCEPTED,))
    cipher = await notices.person_cipher(connection, services.ring, referral)
    if cipher is not None and referral.person_id is not None:
        closed = texts.MENTOR_CLOSED_BY_MENTOR.format(
            name=mentor.display_name or "", ref=referral.public_ref
        )
        await notices.tell_person(
            connection,
            referral,
            kind=Kind.CLOSED,
            dedupe=f"closed:{referral.id}",
            text=f"{closed}\n\n{texts.FEEDBACK_HELPED}",
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
    await record_event(connection, "referral_closed", now, referral.office_id)
    event("mentor.closed")
    return MentorOutcome.say(texts.MENTOR_CLOSED.format(ref=public_ref))


async def relay_to(
    connection: Connection,
    services: Services,
    mentor: MentorRecord,
    public_ref: str,
    text: str,
) -> MentorOutcome:
    replies, relay = await from_mentor(connection, services.ring, mentor, public_ref, text)
    return MentorOutcome(replies=replies, relay=relay)


def replied_ref(message: Message, bot_id: int) -> str | None:
    """The reference in the bot message being replied to (a relayed message or a card)."""
    target = message.reply_to_message
    if target is None or target.from_user is None or target.from_user.id != bot_id:
        return None
    found = REF_IN_TEXT.search(target.text or "")
    return found.group(0) if found else None


async def on_command(
    connection: Connection,
    services: Services,
    mentor: MentorRecord,
    name: str,
    args: str,
) -> MentorOutcome:
    help_text = texts.COORDINATOR_HELP if mentor.is_coordinator else texts.MENTOR_HELP
    if name == "referrals":
        return await list_referrals(connection, mentor)
    if mentor.is_coordinator:
        return MentorOutcome.say(help_text)
    if name in ("available", "away"):
        await mentors.set_available(connection, mentor.id, name == "available")
        event("mentor.availability", available=int(name == "available"))
        return MentorOutcome.say(
            texts.MENTOR_AVAILABLE if name == "available" else texts.MENTOR_AWAY
        )
    if name == "close":
        found = REF_IN_TEXT.fullmatch(args.strip().upper())
        if found is None:
            return MentorOutcome.say(texts.MENTOR_CLOSE_USAGE)
        return await close_referral(connection, services, mentor, found.group(0))
    if name == "to":
        to = TO_ARGS.match(args.strip())
        if to is None:
            return MentorOutcome.say(texts.MENTOR_TO_USAGE)
        return await relay_to(connection, services, mentor, to.group(1), to.group(2))
    return MentorOutcome.say(help_text)


def urgent_help_first(text: str | None, outcome: MentorOutcome) -> MentorOutcome:
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
    outcome.replies.insert(0, Reply(*reply_for(verdict.tier, verdict.kind)))
    return outcome


async def on_message(
    connection: Connection,
    services: Services,
    mentor: MentorRecord,
    message: Message,
    bot_id: int,
) -> MentorOutcome:
    """Any message from a mentor or coordinator who is not revoked."""
    text = message.text
    if text is None:
        return MentorOutcome.say(texts.ONLY_TEXT)
    if mentor.status == MentorStatus.PENDING_NAME:
        return await on_name(connection, services, mentor, text)
    if mentor.status == MentorStatus.PENDING_APPROVAL:
        return MentorOutcome.say(texts.MENTOR_WAIT_APPROVAL)
    if mentor.unreachable:
        await mentors.mark_reachable(connection, mentor.id)
    command = COMMAND.match(text)
    if command is not None:
        return await on_command(
            connection, services, mentor, command.group(1).lower(), command.group(2) or ""
        )
    if mentor.is_coordinator:
        return MentorOutcome.say(texts.COORDINATOR_HELP)
    public_ref = replied_ref(message, bot_id)
    if public_ref is None:
        held = await referrals.held_by(connection, mentor.id)
        if len(held) != 1:
            return MentorOutcome.say(texts.MENTOR_RELAY_HOW)
        public_ref = held[0].public_ref
    return await relay_to(connection, services, mentor, public_ref, text)


def is_mentor_business(message: Message, bot_id: int) -> bool:
    """For a revoked account: which messages were meant for the mentor side."""
    command = COMMAND.match(message.text or "")
    if command is not None:
        return command.group(1).lower() in MENTOR_ONLY_COMMANDS
    return replied_ref(message, bot_id) is not None


# --------------------------------------------------------------------------------- gate


def shows_button(message: Message, data: str) -> bool:
    """Whether the pressed message (as Telegram reports it) has a button with this data:
    a list is redrawn only when its own button was pressed, never for forged data."""
    markup = message.reply_markup
    if markup is None:
        return False
    return any(b.callback_data == data for row in markup.inline_keyboard for b in row)


async def edit_pressed(
    query: CallbackQuery, text: str, markup: InlineKeyboardMarkup | None = None
) -> None:
    """Edit the pressed message; one already as wanted, or gone, is fine."""
    try:
        await query.edit_message_text(text, reply_markup=markup, parse_mode=None)
    except BadRequest as error:
        if "not modified" not in str(error).lower() and "not found" not in str(error).lower():
            raise


async def deliver(update: Update, context: Context, outcome: MentorOutcome) -> None:
    """Answer the button first, then fix the pressed card or list, then reply, then relay."""
    query = update.callback_query
    if query is not None:
        await answer(query, outcome.toast)
        pressed = query.message if isinstance(query.message, Message) else None
        if outcome.card_text is not None and pressed is not None:
            await edit_pressed(query, outcome.card_text)
        listed = outcome.list_now
        if listed is not None and pressed is not None and shows_button(pressed, query.data or ""):
            markup = listed.markup if isinstance(listed.markup, InlineKeyboardMarkup) else None
            await edit_pressed(query, listed.text, markup)
    chat_id = chat_id_of(update)
    for reply in outcome.replies:
        await context.bot.send_message(
            chat_id=chat_id, text=reply.text, reply_markup=reply.markup, parse_mode=None
        )
    if outcome.relay is not None:
        await pass_on(update, context, outcome.relay)


async def mentor_gate(update: Update, context: Context) -> None:
    """Group 0: mentors, joiners and card buttons are handled here and go no further."""
    user = update.effective_user
    query = update.callback_query
    message = update.message
    if user is None or (query is None and message is None):
        return
    services = context.services
    code = join_code(message.text) if message is not None else None
    card_button = query is not None and (query.data or "").startswith("mc:")
    # Most updates come from people: a look without a write lock lets them pass on to
    # their own flow, which commits once.
    if (
        code is None
        and not card_button
        and await mentors.account_status(services.database, services.ring, user.id) is None
    ):
        return
    async with mentors.mentor_transaction(services.database, services.ring, user.id) as tx:
        connection, mentor = tx.connection, tx.mentor
        if query is not None:
            if (query.data or "").startswith("mc:"):
                outcome = await on_card(connection, services, mentor, update)
            elif mentor is not None and mentor.status != MentorStatus.REVOKED:
                outcome = MentorOutcome(toast=texts.TOAST_NOT_IN_MENTOR_MODE)
            else:
                return  # a person's button
        elif code is not None:
            outcome = await on_join(connection, services, mentor, update, code)
        elif mentor is None:
            return  # a person's message
        else:
            assert message is not None
            if mentor.status == MentorStatus.REVOKED:
                if not is_mentor_business(message, context.bot.id):
                    return  # they may still use First Step for themselves
                outcome = MentorOutcome.say(texts.MENTOR_REVOKED)
            else:
                outcome = await on_message(connection, services, mentor, message, context.bot.id)
                if mentor.status == MentorStatus.ACTIVE and outcome.relay is None:
                    outcome = urgent_help_first(message.text, outcome)
    await deliver(update, context, outcome)
    raise ApplicationHandlerStop


def build_mentor_gate() -> TypeHandler[Update, Context, None]:
    return TypeHandler(Update, mentor_gate)


# --------------------------------------------------------------------- operator actions


async def approve_mentor(
    connection: Connection, ring: KeyRing, mentor_id: str, now: datetime
) -> bool:
    """`firststep mentors approve`: active, and told so in their chat."""
    if not await mentors.approve(connection, mentor_id):
        return False
    cipher = await open_subject_key(connection, ring, mentor_id)
    if cipher is not None:
        await enqueue(
            connection,
            dedupe_key=f"approved:{mentor_id}:{int(now.timestamp())}",
            kind=Kind.MENTOR_NOTICE,
            recipient_kind="mentor",
            recipient_id=mentor_id,
            payload=Send(text=texts.MENTOR_APPROVED),
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
    fresh = texts.CARD_REOPENED.format(ref=reopened.public_ref)
    ask = texts.CARD_REOPENED_ASK.format(ref=reopened.public_ref)

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
            text=texts.ALERT_MENTOR_LEFT.format(
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
            text=texts.LADDER_MENTOR_LEFT.format(ref=reopened.public_ref, area=reopened.pilot_area),
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
