"""A sent request, on the person's side: waiting for a mentor, stopping it, the chat with
the mentor who took it, and ending that chat.

The buttons here carry the request's reference only where it matters (Stop my request,
Yes end the chat); each is checked against the person's own live request, so an old or
forged one changes nothing. `/forget` lands here too: the request's cards are edited and
an accepted mentor is told, both sealed under the mentor's own key, since the person's
key goes with them.
"""

from __future__ import annotations

import re

from telegram import InlineKeyboardMarkup, Update

from conversations import keyboards, texts
from conversations.callbacks import (
    ChatAction,
    ChatButton,
    EndChat,
    Menu,
    MenuChoice,
    Withdraw,
)
from conversations.common import event
from conversations.context import Context
from conversations.i18n import _
from conversations.mentor import notices
from conversations.menu import menu_replies
from conversations.outcome import Outcome, Reply
from conversations.person import feedback
from conversations.registry import Flow
from conversations.steps import Step
from storage.crypto import KeyRing
from storage.directory import office_by_id
from storage.models import ReferralStatus
from storage.repositories import mentors, referrals
from storage.repositories.outbox import Kind
from storage.repositories.people import ErasureSummary, PersonRecord, PersonTransaction
from storage.repositories.referrals import ReferralRow
from storage.repositories.updates import record_event

REF_SHAPE = re.compile(rf"^{referrals.REF_PATTERN}$")
# Person-facing messages that are pointless once a request ends.
PERSON_KINDS = (Kind.LADDER_UPDATE, Kind.ACCEPTED, Kind.ALERT)
# The live request's buttons (the rest of the `mr` family belongs to ask_mentor.py).
LiveButton = Withdraw | EndChat | ChatButton


def waiting_keyboard(public_ref: str) -> InlineKeyboardMarkup:
    return keyboards.with_menu(
        [
            [keyboards.button(_(texts.BTN_SUPPORT), Menu(MenuChoice.SUPPORT))],
            [keyboards.button(_(texts.BTN_WITHDRAW), Withdraw(public_ref))],
        ],
        in_place=False,  # it holds the reference: the menu never replaces it
    )


def with_mentor_keyboard(name: str) -> InlineKeyboardMarkup:
    return keyboards.with_menu(
        [
            [
                keyboards.button(
                    _(texts.BTN_WRITE_TO).format(name=name), ChatButton(ChatAction.WRITE)
                )
            ],
            [keyboards.button(_(texts.BTN_END_CHAT), ChatButton(ChatAction.END))],
        ],
        in_place=False,
    )


def end_keyboard(public_ref: str) -> InlineKeyboardMarkup:
    return keyboards.rows(
        [
            keyboards.button(_(texts.BTN_END_YES), EndChat(public_ref)),
            keyboards.button(_(texts.BTN_END_NO), ChatButton(ChatAction.KEEP)),
        ]
    )


def prompt_waiting(person: PersonRecord) -> tuple[Reply, ...]:
    office = office_by_id(person.draft.office) if person.draft.office is not None else None
    ref = person.draft.ref or ""
    if not REF_SHAPE.match(ref):
        return menu_replies()
    text = _(texts.MENTOR_WAITING).format(ref=ref, office=office.name if office else "")
    return (Reply(text, waiting_keyboard(ref)),)


def prompt_with_mentor(person: PersonRecord) -> list[Reply]:
    return [Reply(_(texts.MENTOR_WITH_PROMPT), keyboards.back_to_menu())]


async def mentor_name(context: Context, tx: PersonTransaction, referral: ReferralRow) -> str:
    if referral.mentor_id is None:
        return ""
    name = await mentors.display_name_of(tx.connection, context.services.ring, referral.mentor_id)
    return name or ""


async def show_live(context: Context, tx: PersonTransaction, referral: ReferralRow) -> Outcome:
    """A request is already open: where it stands, instead of a second one."""
    person = tx.person
    assert person is not None
    if referral.status == ReferralStatus.PENDING:
        if person.state != Step.WAITING_FOR_MENTOR:
            await tx.move(
                Step.WAITING_FOR_MENTOR, draft=person.draft.settled(ref=referral.public_ref)
            )
        text = _(texts.MENTOR_WAITING).format(
            ref=referral.public_ref, office=notices.office_name(referral.office_id)
        )
        return Outcome.say(Reply(text, waiting_keyboard(referral.public_ref)))
    name = await mentor_name(context, tx, referral)
    if person.state != Step.WITH_MENTOR:
        await tx.move(Step.WITH_MENTOR, draft=person.draft.settled(ref=referral.public_ref))
    text = _(texts.MENTOR_WITH).format(name=name, ref=referral.public_ref)
    return Outcome.say(Reply(text, with_mentor_keyboard(name)))


async def on_waiting_text(update: Update, context: Context, tx: PersonTransaction) -> Outcome:
    person = tx.person
    assert person is not None
    live = await referrals.live_for_person(tx.connection, person.id)
    if live is None:
        await tx.move(Step.MENU, draft=person.draft.settled())
        return Outcome.say(_(texts.MENTOR_ALREADY_ENDED), *menu_replies())
    return await show_live(context, tx, live)


async def withdraw(ring: KeyRing, tx: PersonTransaction, referral: ReferralRow | None) -> Outcome:
    """Stop a request nobody has taken: cards not yet sent never go, cards already out
    are edited. A request a mentor has taken (perhaps a moment ago) is a live chat:
    ending it is asked first, as "End the chat" does."""
    person = tx.person
    assert person is not None
    connection, now = tx.connection, tx.now
    if referral is None or referral.person_id != person.id:
        return Outcome.say(_(texts.MENTOR_ALREADY_ENDED))
    if not await referrals.withdraw(connection, referral, person.id, now):
        current = await referrals.by_id(connection, referral.id)
        if current is not None and current.status == ReferralStatus.ACCEPTED:
            name = ""
            if current.mentor_id is not None:
                name = await mentors.display_name_of(connection, ring, current.mentor_id) or ""
            ask = _(texts.WITHDRAW_TAKEN_ASK).format(name=name, ref=current.public_ref)
            return Outcome.say(Reply(ask, end_keyboard(current.public_ref)))
        return Outcome.say(_(texts.MENTOR_ALREADY_ENDED))
    referral = await referrals.by_id(connection, referral.id) or referral  # its new version
    await notices.update_cards(
        connection,
        referral,
        text_for=notices.to_all(_(texts.CARD_WITHDRAWN).format(ref=referral.public_ref)),
        cipher=person.cipher,
        now=now,
        tag="withdrawn",
    )
    await referrals.drop_unsent(connection, referral.id, PERSON_KINDS)
    await tx.move(Step.MENU, draft=person.draft.settled())
    await record_event(connection, "referral_withdrawn", now, referral.office_id)
    event("mentor_request.withdrawn")
    text = _(texts.MENTOR_WITHDRAWN).format(ref=referral.public_ref)
    return Outcome.say(text, *menu_replies())


async def end_chat(context: Context, tx: PersonTransaction, referral: ReferralRow) -> Outcome:
    """The person ends the chat: the referral closes and the mentor is told."""
    person = tx.person
    assert person is not None
    connection, now = tx.connection, tx.now
    name = await mentor_name(context, tx, referral)
    if not await referrals.close(connection, referral, now, person_id=person.id):
        return Outcome.say(_(texts.MENTOR_ALREADY_ENDED))
    await referrals.drop_unsent(connection, referral.id, PERSON_KINDS)
    await notices.take_number_back(connection, context.services.ring, referral, now)
    if referral.mentor_id is not None:
        await notices.tell_mentor(
            connection,
            context.services.ring,
            referral,
            referral.mentor_id,
            text=_(texts.MENTOR_NOTICE_ENDED).format(ref=referral.public_ref),
            dedupe=f"notice:ended:{referral.id}",
            now=now,
        )
    await tx.move(Step.FEEDBACK_HELPED, draft=person.draft.settled())
    await record_event(connection, "referral_closed_by_person", now, referral.office_id)
    event("mentor_request.chat_ended")
    return Outcome.say(_(texts.END_CHAT_DONE).format(name=name), feedback.helped_question())


async def on_button(
    update: Update, context: Context, tx: PersonTransaction, button: LiveButton
) -> Outcome:
    """Stop my request, write to / end the chat, yes or no: whatever step the person is on."""
    person = tx.person
    assert person is not None
    if isinstance(button, Withdraw):
        referral = await referrals.by_ref(tx.connection, button.ref)
        return await withdraw(context.services.ring, tx, referral)
    if isinstance(button, EndChat):
        referral = await referrals.by_ref(tx.connection, button.ref)
        if referral is None or referral.person_id != person.id:
            return Outcome.say(_(texts.MENTOR_ALREADY_ENDED))
        if referral.status != ReferralStatus.ACCEPTED:
            return Outcome.say(_(texts.MENTOR_ALREADY_ENDED))
        return await end_chat(context, tx, referral)
    live = await referrals.live_for_person(tx.connection, person.id)
    if live is None or live.status != ReferralStatus.ACCEPTED:
        return Outcome.say(_(texts.RELAY_ENDED), *menu_replies())
    if button.action == ChatAction.END:
        name = await mentor_name(context, tx, live)
        return Outcome.say(
            Reply(_(texts.END_CHAT_ASK).format(name=name), end_keyboard(live.public_ref))
        )
    return await show_live(context, tx, live)


async def forget(context: Context, tx: PersonTransaction) -> ErasureSummary:
    """`/forget`, with the mentors told: erase the person, then edit the cards that are
    out and tell an accepted mentor it ended (both sealed under the mentor's own key,
    since the person's key is gone)."""
    person = tx.person
    assert person is not None
    connection, now, ring = tx.connection, tx.now, context.services.ring
    live = await referrals.all_live_for_person(connection, person.id)
    erased = await tx.erase()
    for referral in live:
        if referral.status == ReferralStatus.PENDING:
            await notices.update_cards(
                connection,
                referral,
                text_for=notices.to_all(_(texts.CARD_WITHDRAWN).format(ref=referral.public_ref)),
                cipher=None,
                ring=ring,
                now=now,
                tag="withdrawn",
            )
        if referral.mentor_id is not None and referral.status == ReferralStatus.ACCEPTED:
            await notices.take_number_back(connection, ring, referral, now)
            await notices.tell_mentor(
                connection,
                ring,
                referral,
                referral.mentor_id,
                text=_(texts.MENTOR_NOTICE_LEFT).format(ref=referral.public_ref),
                dedupe=f"notice:left:{referral.id}",
                now=now,
            )
    return erased


FLOW = Flow(
    name="live_request",
    prompts={Step.WAITING_FOR_MENTOR: prompt_waiting, Step.WITH_MENTOR: prompt_with_mentor},
    text_steps={Step.WAITING_FOR_MENTOR: on_waiting_text},
)
