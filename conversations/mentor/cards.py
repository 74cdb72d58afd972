"""A mentor's requests to take: the cards with Accept / Can't take this, and the
/referrals list.

Claiming is ONE conditional UPDATE (`storage.repositories.referrals.claim`) after checking
the caller is an active mentor allowed for that referral; the same transaction queues the
"accepted" message to the person and the edits of every card out for it (the winner's
say it is theirs, everyone else's that it is taken).

A request card carries `callbacks.Card` Accept and Can't take this; the /referrals list
an Accept (`take`) per waiting request. Taking from a card turns that card into the
confirmation; taking from the list confirms in a message of its own and redraws the list
as it stands now, so the other requests keep their buttons. The data is never trusted:
a malformed, foreign or stale button changes nothing and is always answered.
"""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from telegram import InlineKeyboardMarkup, Message, Update

from conversations import keyboards, texts, web_texts
from conversations.callbacks import Button, Card, CardAction
from conversations.common import event
from conversations.context import Services
from conversations.door import is_web_chat
from conversations.i18n import _
from conversations.mentor import notices
from conversations.mentor.chats import answer_close
from conversations.outcome import Outcome, Reply, Rewrite, shows_button
from conversations.person.live_request import with_mentor_keyboard
from conversations.steps import Step
from storage.crypto import KeyRing
from storage.db import Connection
from storage.models import MentorRole, MentorStatus, ReferralStatus
from storage.repositories import referrals
from storage.repositories.mentors import MentorRecord
from storage.repositories.outbox import Kind
from storage.repositories.people import chat_id_of
from storage.repositories.referrals import ContactBy, ReferralRow
from storage.repositories.updates import record_event

MAX_LIST_BUTTONS = 5


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


async def on_web(connection: Connection, ring: KeyRing, referral: ReferralRow) -> bool:
    """Whether the person came through the web door: they are told what a mentor sees
    without the Telegram details they don't have (conversations/web_texts.py)."""
    chat = await chat_id_of(connection, ring, referral.person_id) if referral.person_id else None
    return chat is not None and is_web_chat(chat[0])


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
            _(texts.MENTOR_ACCEPTED_PHONE)
            if referral.contact_by == ContactBy.PHONE
            else _(web_texts.MENTOR_ACCEPTED_WEB)
            if await on_web(connection, ring, referral)
            else _(texts.MENTOR_ACCEPTED)
        )
        # The mentor's own office: a request widened to the area is taken elsewhere.
        office = notices.office_name(mentor.office_id or referral.office_id)
        text = template.format(name=name, office=office, ref=referral.public_ref)
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
        await notices.give_number(connection, referral, mentor.id, cipher=cipher, now=now)
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
    yours = _(texts.CARD_YOURS).format(ref=referral.public_ref)
    taken = _(texts.CARD_TAKEN).format(ref=referral.public_ref)
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
    button: Button | None,
) -> Outcome:
    """A card or list button (`callbacks.Card`) from anyone: rights are checked, nothing
    trusted. The pressed message stays as it is unless the press changed the request."""
    query = update.callback_query
    assert query is not None
    if mentor is None or mentor.status == MentorStatus.REVOKED:
        return Outcome.toast_only(_(texts.TOAST_MENTORS_ONLY))
    if not isinstance(button, Card):
        return Outcome.toast_only(_(texts.UNKNOWN_BUTTON))
    public_ref = button.ref
    if button.action in (CardAction.CLOSE, CardAction.KEEP):
        return await answer_close(connection, services, mentor, button)
    if button.action == CardAction.DECLINE:
        referral = await referrals.by_ref(connection, public_ref)
        if (
            referral is None
            or not mentor.active
            or not referral.may_be_taken_by(mentor.office_id, mentor.pilot_area)
        ):
            return Outcome.toast_only(_(texts.TOAST_NOT_YOURS))
        if referral.status != ReferralStatus.PENDING:
            # A copy the state change could not reach (sent twice, the first never
            # recorded): it says where the request is now.
            return Outcome(toast=_(texts.TOAST_ENDED), pressed=Rewrite(moved_on(referral, mentor)))
        event("mentor.declined")
        return Outcome(pressed=Rewrite(_(texts.CARD_DECLINED).format(ref=public_ref)))
    if button.action == CardAction.TAKE or is_old_list(query.message, public_ref):
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
    yours = Rewrite(_(texts.CARD_YOURS).format(ref=public_ref))
    if result == AcceptResult.WON:
        return Outcome(toast=_(texts.TOAST_ACCEPTED), pressed=yours)
    if result == AcceptResult.YOURS:
        return Outcome(toast=_(texts.TOAST_YOURS_ALREADY), pressed=yours)
    if result == AcceptResult.TAKEN:
        taken = Rewrite(_(texts.CARD_TAKEN).format(ref=public_ref))
        return Outcome(toast=_(texts.TOAST_TAKEN), pressed=taken)
    if result == AcceptResult.ENDED:
        # Never left showing Accept: this may be a copy no state change could reach.
        ended = Rewrite(_(texts.CARD_ENDED).format(ref=public_ref))
        return Outcome(toast=_(texts.TOAST_ENDED), pressed=ended)
    return Outcome.toast_only(_(texts.TOAST_NOT_YOURS))


def moved_on(referral: ReferralRow, mentor: MentorRecord) -> str:
    """What a card of a request no longer waiting says now, for this mentor."""
    if referral.status in (ReferralStatus.ACCEPTED, ReferralStatus.CLOSED):
        if referral.mentor_id == mentor.id:
            return _(texts.CARD_YOURS).format(ref=referral.public_ref)
        return _(texts.CARD_TAKEN).format(ref=referral.public_ref)
    return _(texts.CARD_ENDED).format(ref=referral.public_ref)


def is_old_list(message: object, public_ref: str) -> bool:
    """A /referrals list sent before list buttons had their own data: it shows
    an Accept card button without the "Can't take this" every request card has."""
    return (
        isinstance(message, Message)
        and shows_button(message, Card(CardAction.ACCEPT, public_ref).data)
        and not shows_button(message, Card(CardAction.DECLINE, public_ref).data)
    )


async def take_from_list(
    connection: Connection, services: Services, mentor: MentorRecord, public_ref: str
) -> Outcome:
    """An Accept button of the /referrals list. The list is not a card: it is redrawn
    rather than replaced, and a request taken is confirmed in a message of its own."""
    result = await accept(connection, services.ring, mentor, public_ref, services.clock())
    if result == AcceptResult.NOT_ALLOWED:
        return Outcome.toast_only(_(texts.TOAST_NOT_YOURS))
    listed = await waiting_list(connection, mentor)
    markup = listed.markup if isinstance(listed.markup, InlineKeyboardMarkup) else None
    outcome = Outcome(
        toast={
            AcceptResult.WON: _(texts.TOAST_ACCEPTED),
            AcceptResult.YOURS: _(texts.TOAST_YOURS_ALREADY),
            AcceptResult.TAKEN: _(texts.TOAST_TAKEN),
            AcceptResult.ENDED: _(texts.TOAST_ENDED),
        }[result],
        pressed=Rewrite(listed.text, markup, if_pressed_shown=True),
    )
    if result == AcceptResult.WON:
        return outcome.then(_(texts.CARD_YOURS).format(ref=public_ref))
    return outcome


# -------------------------------------------------------------------------- /referrals


def referral_line(referral: ReferralRow) -> str:
    return _(texts.MENTOR_REFERRAL_LINE).format(
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
        return Reply(_(texts.MENTOR_NONE_WAITING))
    lines = "\n".join(referral_line(r) for r in waiting)
    markup = keyboards.rows(
        keyboards.button(
            _(texts.BTN_ACCEPT_REF).format(ref=r.public_ref), Card(CardAction.TAKE, r.public_ref)
        )
        for r in waiting[:MAX_LIST_BUTTONS]
    )
    return Reply(_(texts.MENTOR_WAITING_LIST).format(lines=lines), markup)


async def list_referrals(connection: Connection, mentor: MentorRecord) -> Outcome:
    """/referrals: a mentor's open chats and what waits; a coordinator's area queue."""
    if mentor.is_coordinator:
        waiting = await referrals.waiting_in_area(connection, mentor.pilot_area)
        if not waiting:
            return Outcome.say(_(texts.MENTOR_NONE_WAITING))
        lines = "\n".join(referral_line(r) for r in waiting)
        return Outcome.say(_(texts.MENTOR_WAITING_LIST).format(lines=lines))
    held = await referrals.held_by(connection, mentor.id)
    replies = [
        Reply(
            _(texts.MENTOR_CHATS).format(lines="\n".join(referral_line(r) for r in held))
            if held
            else _(texts.MENTOR_NO_CHATS)
        ),
        await waiting_list(connection, mentor),
    ]
    if not mentor.available:
        replies.append(Reply(_(texts.MENTOR_STATUS_AWAY)))
    return Outcome.say(*replies)
