"""Asking for a peer mentor: the person's side, from choosing the office to sending it.

Steps: the office (preselected from a poster link or the finder, else the finder first)
→ what the mentor may see (nothing, or the button answers they gave) → how to get in
touch (here, through the bot, by default; or their phone number, shared on purpose with
Telegram's contact button) → when suits them → confirm. Confirming is ONE transaction:
the referral, a card in the outbox for each available mentor of the office (else of the
pilot area; else an alert to the coordinators), and the person's next step. The person
gets their reference and honest timing, and can stop the request at any time
(conversations/person/live_request.py: waiting, withdrawing, the chat, ending it).

A shared phone number lives only in the sealed step draft until confirm, then sealed
on the referral while it is live (the cards carry it; the mentor who takes the request
is sent it; a handback offers it again) and is deleted when the request ends. A request left
unsent (Menu, /start, another flow) loses its draft, number and all, in the same
transaction (`drop_if_abandoned`, this flow's on-leave hook). A request the person simply
stops answering loses its number to the retention purge after `request_draft_max_hours`
(storage/repositories/request_drafts.py): they are then on the lapsed step, and whatever
they do next in the request is told so kindly and asked again how to be reached
(`resume_lapsed`).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import timedelta

from telegram import (
    InlineKeyboardMarkup,
    KeyboardButton,
    ReplyKeyboardMarkup,
    ReplyKeyboardRemove,
    Update,
)

from conversations import keyboards, texts, web_texts
from conversations.callbacks import (
    Button,
    ChatButton,
    ContactChoice,
    EndChat,
    Family,
    MentorAt,
    MenuChoice,
    OfficeChoice,
    RequestAction,
    RequestContact,
    RequestOffice,
    RequestShare,
    RequestStep,
    RequestTime,
    ShareChoice,
    Withdraw,
)
from conversations.common import event, user_id_of
from conversations.context import Context, FlowSettings
from conversations.door import by_web, on_web
from conversations.i18n import _
from conversations.mentor import ladder, notices
from conversations.menu import menu_replies
from conversations.outcome import REPLACE, Outcome, Reply, together
from conversations.person import jobcentre, live_request
from conversations.person.live_request import show_live, waiting_keyboard
from conversations.registry import Flow, Input, OnLeave, stale
from conversations.steps import Step
from storage.directory import Office, office_by_id
from storage.repositories import mentors, referrals
from storage.repositories.outbox import alert_coordinators
from storage.repositories.people import PersonRecord, PersonTransaction
from storage.repositories.referrals import ContactBy, Ladder, ReferralRow, Share
from storage.repositories.updates import record_event

TIME_CODES = tuple(texts.MENTOR_TIME_LABELS)
PHONE_SHAPE = re.compile(r"^\+?[0-9]{7,15}$")
# The steps of a request being put together, before it is sent.
REQUEST_STEPS = frozenset(
    {
        Step.MENTOR_OFFICE,
        Step.MENTOR_PLACE,
        Step.MENTOR_SHARE,
        Step.MENTOR_CONTACT,
        Step.MENTOR_TIME,
        Step.MENTOR_CONFIRM,
        Step.MENTOR_LAPSED,
    }
)

# --------------------------------------------------------------------------- keyboards


def office_keyboard() -> InlineKeyboardMarkup:
    return keyboards.with_menu(
        [
            [keyboards.button(_(texts.BTN_THIS_OFFICE), RequestOffice(OfficeChoice.THIS))],
            [keyboards.button(_(texts.BTN_OTHER_OFFICE), RequestOffice(OfficeChoice.OTHER))],
        ]
    )


def share_keyboard() -> InlineKeyboardMarkup:
    return keyboards.with_menu(
        [
            [keyboards.button(_(texts.BTN_SHARE_NOTHING), RequestShare(ShareChoice.NOTHING))],
            [keyboards.button(_(texts.BTN_SHARE_ANSWERS), RequestShare(ShareChoice.ANSWERS))],
        ]
    )


def contact_keyboard() -> InlineKeyboardMarkup:
    return keyboards.with_menu(
        [
            [keyboards.button(_(texts.BTN_CONTACT_BOT), RequestContact(ContactChoice.BOT))],
            [keyboards.button(_(texts.BTN_CONTACT_PHONE), RequestContact(ContactChoice.PHONE))],
        ]
    )


def phone_keyboard() -> ReplyKeyboardMarkup:
    """Telegram's own button: it sends the person's number only when they tap it."""
    return ReplyKeyboardMarkup(
        [[KeyboardButton(_(texts.BTN_SEND_PHONE), request_contact=True)]],
        resize_keyboard=True,
        one_time_keyboard=True,
    )


def lapsed_keyboard() -> InlineKeyboardMarkup:
    return keyboards.with_menu(
        [[keyboards.button(_(texts.BTN_CARRY_ON), RequestStep(RequestAction.RESUME))]]
    )


def talk_here_keyboard() -> InlineKeyboardMarkup:
    return keyboards.rows(
        [keyboards.button(_(texts.BTN_CONTACT_BOT), RequestContact(ContactChoice.BOT))]
    )


def time_keyboard() -> InlineKeyboardMarkup:
    return keyboards.with_menu(
        [
            [keyboards.button(_(texts.MENTOR_TIME_LABELS[code]), RequestTime(code))]
            for code in TIME_CODES
        ]
    )


def confirm_keyboard() -> InlineKeyboardMarkup:
    return keyboards.with_menu(
        [
            [keyboards.button(_(texts.BTN_SEND_REQUEST), RequestStep(RequestAction.SEND))],
            [keyboards.button(_(texts.BTN_CHANGE), RequestStep(RequestAction.CHANGE))],
        ]
    )


# ------------------------------------------------------------------------------ drafts


def office_of(person: PersonRecord) -> Office | None:
    office_id = person.draft.office
    return office_by_id(office_id) if office_id is not None else None


async def drop_if_abandoned(tx: PersonTransaction, outcome: Outcome) -> Outcome:
    """The person left the request unsent (Menu, /start, another flow): drop what it held,
    a shared phone number above all, in this same transaction. The request can't be
    picked up again once they left its steps (its buttons go stale; /mentor starts a
    fresh one), so nothing is lost by it."""
    person = tx.person
    if person is not None and person.draft.request is not None:
        await tx.move(person.state, draft=person.draft.without_request())
    return outcome


# ----------------------------------------------------------------------------- prompts


def confirm_text(person: PersonRecord) -> str:
    request = person.draft.request
    office = office_of(person)
    return _(texts.MENTOR_CONFIRM).format(
        office=office.name if office is not None else "",
        share=_(texts.MENTOR_SHARE_LABELS[(request and request.share) or Share.NONE]),
        contact=_(texts.MENTOR_CONTACT_LABELS[(request and request.contact) or ContactBy.BOT]),
        time=notices.time_label((request and request.time) or "any"),
    )


def mentor_about(update: Update) -> str:
    return _(web_texts.MENTOR_ABOUT_WEB) if by_web(update) else _(texts.MENTOR_ABOUT)


def prompt_office(person: PersonRecord) -> tuple[Reply, ...]:
    office = office_of(person)
    if office is None:
        return menu_replies()
    return (Reply(_(texts.MENTOR_ASK_OFFICE).format(office=office.name), office_keyboard()),)


def prompt_share(person: PersonRecord) -> tuple[Reply, ...]:
    text = _(web_texts.MENTOR_ASK_SHARE_WEB) if on_web() else _(texts.MENTOR_ASK_SHARE)
    return (Reply(text, share_keyboard()),)


def wants_phone(person: PersonRecord) -> bool:
    request = person.draft.request
    return request is not None and request.contact == ContactBy.PHONE


def prompt_contact(person: PersonRecord) -> tuple[Reply, ...]:
    if wants_phone(person):
        return (
            Reply(_(texts.MENTOR_ASK_PHONE), phone_keyboard()),
            Reply(_(texts.MENTOR_ASK_CONTACT), contact_keyboard()),
        )
    return (Reply(_(texts.MENTOR_ASK_CONTACT), contact_keyboard()),)


def prompt_time(person: PersonRecord) -> tuple[Reply, ...]:
    return (Reply(_(texts.MENTOR_ASK_TIME), time_keyboard()),)


def prompt_confirm(person: PersonRecord) -> tuple[Reply, ...]:
    return (Reply(confirm_text(person), confirm_keyboard()),)


def prompt_lapsed(person: PersonRecord) -> tuple[Reply, ...]:
    return (Reply(_(texts.MENTOR_LAPSED_ASK), lapsed_keyboard()),)


# ------------------------------------------------------------------------------- steps


async def begin(update: Update, context: Context, tx: PersonTransaction) -> Outcome:
    """/mentor and the menu button."""
    person = tx.person
    assert person is not None
    if person.state == Step.MENTOR_LAPSED:
        return await resume_lapsed(update, context, tx)
    live = await referrals.live_for_person(tx.connection, person.id)
    if live is not None:
        return await show_live(context, tx, live)
    office = office_of(person)
    event("mentor_request.begin", office_known=int(office is not None))
    if office is None:
        return await find_office_first(update, context, tx)
    await tx.move(Step.MENTOR_OFFICE, draft=person.draft.fresh_request(office.office_id))
    return Outcome.say(mentor_about(update), *prompt_office(person))


async def find_office_first(update: Update, context: Context, tx: PersonTransaction) -> Outcome:
    found = await jobcentre.begin(update, context, tx)
    return found.first(_(texts.MENTOR_FIND_OFFICE_FIRST))


async def office_gone(update: Update, context: Context, tx: PersonTransaction) -> Outcome:
    """The office is not offered (any more): the finder, with a word on why."""
    found = await jobcentre.begin(update, context, tx)
    return found.first(_(texts.MENTOR_OFFICE_GONE))


async def at_office(
    update: Update, context: Context, tx: PersonTransaction, button: Button | None
) -> Outcome:
    """The finder's "Mentor at …" buttons (`callbacks.MentorAt`)."""
    person = tx.person
    assert person is not None
    office = office_by_id(button.office) if isinstance(button, MentorAt) else None
    if office is None:
        return await office_gone(update, context, tx)
    live = await referrals.live_for_person(tx.connection, person.id)
    if live is not None:
        return await show_live(context, tx, live)
    await tx.move(Step.MENTOR_OFFICE, draft=person.draft.fresh_request(office.office_id))
    event("mentor_request.begin", office_known=1)
    # "Would you like a peer mentor …?" becomes what a mentor is and what they would
    # see: one message that stays, to read again; the question comes under it.
    first, *rest = await ask_share(tx)
    if first.markup is None:
        return Outcome.say(together(mentor_about(update), first), *rest, pressed=REPLACE)
    return Outcome.say(mentor_about(update), first, *rest, pressed=REPLACE)


async def ask_share(tx: PersonTransaction) -> tuple[Reply, ...]:
    """What the mentor may see; skipped when the person told us nothing to share."""
    person = tx.person
    assert person is not None
    answers = notices.category_answers(await tx.disclosures())
    if not answers:
        await tx.move(Step.MENTOR_CONTACT, draft=person.draft.with_request(share=Share.NONE))
        return prompt_contact(person)
    await tx.move(Step.MENTOR_SHARE, draft=person.draft.with_request())
    return (
        Reply(_(texts.MENTOR_SHARE_PREVIEW).format(summary=notices.card_summary(answers))),
        *prompt_share(person),
    )


async def on_contact(update: Update, context: Context, tx: PersonTransaction) -> Outcome:
    """A shared contact: the person's own number, at the step that asked for it only."""
    person = tx.person
    assert person is not None
    message = update.message
    assert message is not None and message.contact is not None
    own = message.contact.user_id == user_id_of(update)
    number = re.sub(r"[\s()-]", "", message.contact.phone_number or "")
    if person.state == Step.MENTOR_LAPSED:
        return await resume_lapsed(update, context, tx)  # what they sent is not kept
    if person.state != Step.MENTOR_CONTACT or not own or not PHONE_SHAPE.match(number):
        return Outcome.say(_(texts.ONLY_TEXT))
    if not number.startswith("+"):
        number = f"+{number}"
    await tx.move(
        Step.MENTOR_TIME, draft=person.draft.with_request(contact=ContactBy.PHONE, phone=number)
    )
    event("mentor_request.phone_shared")
    thanks = _(texts.MENTOR_PHONE_THANKS).format(delay=lapse_delay(context))
    return Outcome.say(Reply(thanks, ReplyKeyboardRemove()), *prompt_time(person))


def lapse_delay(context: Context) -> str:
    """How long an unfinished request keeps a phone number, in words."""
    return notices.describe_delay(context.services.settings.request_draft_max_hours * 60)


async def resume_lapsed(update: Update, context: Context, tx: PersonTransaction) -> Outcome:
    """Back after the purge took the phone number from their unfinished request: say so,
    and carry on from how to reach them (or from the office, if the purge had no key and
    dropped the whole request). Whatever they sent to get here is not kept."""
    person = tx.person
    assert person is not None
    office = office_of(person)
    delay = lapse_delay(context)
    event("mentor_request.lapsed_resumed", office_known=int(office is not None))
    if office is None or person.draft.request is None:
        found = await find_office_first(update, context, tx)
        return found.first(_(texts.MENTOR_LAPSED_RESTART).format(delay=delay))
    await tx.move(Step.MENTOR_CONTACT, draft=person.draft.with_request())
    return Outcome.say(_(texts.MENTOR_LAPSED).format(delay=delay), *prompt_contact(person))


async def on_contact_text(update: Update, context: Context, tx: PersonTransaction) -> Outcome:
    """Typed text while we wait for the contact button: not kept (it may be a number)."""
    person = tx.person
    assert person is not None
    if wants_phone(person):
        return Outcome.say(
            Reply(_(texts.MENTOR_PHONE_USE_BUTTON), phone_keyboard()),
            Reply(_(texts.MENTOR_ASK_CONTACT), contact_keyboard()),
        )
    return Outcome.say(_(texts.NOT_UNDERSTOOD), *prompt_contact(person))


@dataclass(frozen=True, slots=True)
class Opened:
    """What confirming a request did: the referral, and who was asked."""

    referral: ReferralRow
    scope: str  # "office", "area", "team" (coordinators alerted) or "nobody"
    cards: int


async def open_referral(
    tx: PersonTransaction,
    settings: FlowSettings,
    *,
    office: Office,
    share: Share,
    contact_by: ContactBy,
    phone: str | None,
    time_window: str,
) -> Opened:
    """The business transaction of "Send it": referral + outbox rows + the next step."""
    person = tx.person
    assert person is not None
    connection, now = tx.connection, tx.now
    office_mentors = await mentors.mentors_at_office(connection, office.office_id)
    area_mentors = (
        [] if office_mentors else await mentors.mentors_in_area(connection, office.pilot_area)
    )
    if office_mentors:
        step, delay, scope = Ladder.OFFICE, settings.ladder_office_reminder_minutes, "office"
    elif area_mentors:
        step, delay, scope = Ladder.AREA, settings.ladder_coordinator_minutes, "area"
    else:
        step, delay, scope = Ladder.COORDINATOR, None, "team"
    referral = await referrals.create(
        connection,
        person_id=person.id,
        office_id=office.office_id,
        pilot_area=office.pilot_area,
        contact_by=contact_by,
        share=share,
        time_window=time_window,
        ladder_step=step,
        next_ladder_at=now + timedelta(minutes=delay) if delay is not None else None,
        now=now,
    )
    if phone is not None and contact_by == ContactBy.PHONE:
        await referrals.keep_phone(connection, person.cipher, referral.id, phone)
    cards = await notices.offer(
        connection, referral, office_mentors or area_mentors, cipher=person.cipher, now=now
    )
    if scope == "team":
        alerted = await alert_coordinators(
            connection,
            tx.ring,
            about=f"new:{referral.id}",
            text=_(texts.ALERT_NO_MENTORS).format(
                ref=referral.public_ref, office=office.name, area=office.pilot_area
            ),
            now=now,
            referral_id=referral.id,
        )
        if not alerted:
            scope = "nobody"
    await tx.move(Step.WAITING_FOR_MENTOR, draft=person.draft.settled(ref=referral.public_ref))
    await record_event(connection, "referral_created", now, office.office_id)
    event("mentor_request.sent", scope=scope, cards=cards)
    return Opened(referral, scope, cards)


def sent_replies(opened: Opened, office: Office, settings: FlowSettings) -> tuple[Reply, ...]:
    referral = opened.referral
    values = {
        "ref": referral.public_ref,
        "office": office.name,
        "area": office.pilot_area,
        "reminder": notices.describe_delay(settings.ladder_office_reminder_minutes),
        "widen": notices.describe_delay(
            settings.ladder_area_minutes
            if opened.scope == "office"
            else settings.ladder_coordinator_minutes
        ),
    }
    template = {
        "office": _(texts.MENTOR_SENT),
        "area": _(texts.MENTOR_SENT_AREA),
        "team": _(texts.MENTOR_SENT_TEAM),
        "nobody": _(texts.MENTOR_SENT_NOBODY),
    }[opened.scope]
    return (Reply(template.format(**values), waiting_keyboard(referral.public_ref)),)


async def submit(update: Update, context: Context, tx: PersonTransaction) -> Outcome:
    person = tx.person
    assert person is not None
    office = office_of(person)
    if office is None:
        return await office_gone(update, context, tx)
    live = await referrals.live_for_person(tx.connection, person.id)
    if live is not None:
        return await show_live(context, tx, live)
    request = person.draft.request
    contact_by = ContactBy.PHONE if wants_phone(person) else ContactBy.BOT
    settings = context.services.settings
    opened = await open_referral(
        tx,
        settings,
        office=office,
        share=Share.CATEGORIES
        if request is not None and request.share == Share.CATEGORIES
        else Share.NONE,
        contact_by=contact_by,
        phone=request.phone if request is not None else None,
        time_window=(request.time if request is not None else None) or "any",
    )
    # Its first rung is minutes away (the delays are > 0), well after this commits.
    ladder.wake_at(context.job_queue, opened.referral.next_ladder_at, tx.now)
    return Outcome.say(*sent_replies(opened, office, settings))


async def on_button(
    update: Update, context: Context, tx: PersonTransaction, button: Button | None
) -> Outcome:
    """The `mr` family, checked against the step the person is on. The live request's
    buttons go to live_request.py whatever the step."""
    person = tx.person
    assert person is not None
    if isinstance(button, Withdraw | EndChat | ChatButton):
        return await live_request.on_button(update, context, tx, button)
    state = person.state
    if state == Step.MENTOR_LAPSED:
        return await resume_lapsed(update, context, tx)  # "Carry on", or an older button
    outcome = await _request_step(update, context, tx, button)
    # A question answered becomes the next one; a button from an earlier step is stale.
    return outcome if outcome is not None else stale(context, person)


async def _request_step(
    update: Update, context: Context, tx: PersonTransaction, button: Button | None
) -> Outcome | None:
    """A request question's button at its own step: the next step, in place of the
    question (None: the button is not for this step)."""
    person = tx.person
    assert person is not None
    state = person.state
    if isinstance(button, RequestOffice) and state == Step.MENTOR_OFFICE:
        if button.choice == OfficeChoice.OTHER:
            return (await find_office_first(update, context, tx)).with_pressed(REPLACE)
        return Outcome.say(*await ask_share(tx), pressed=REPLACE)
    if isinstance(button, RequestShare) and state == Step.MENTOR_SHARE:
        share = Share.CATEGORIES if button.choice == ShareChoice.ANSWERS else Share.NONE
        await tx.move(Step.MENTOR_CONTACT, draft=person.draft.with_request(share=share))
        return Outcome.say(*prompt_contact(person), pressed=REPLACE)
    if isinstance(button, RequestContact) and state == Step.MENTOR_CONTACT:
        if button.choice == ContactChoice.PHONE:
            await tx.move(
                Step.MENTOR_CONTACT, draft=person.draft.with_request(contact=ContactBy.PHONE)
            )
            # (A reply keyboard can't come with an edit: the question loses its buttons.)
            return Outcome.say(
                Reply(_(texts.MENTOR_ASK_PHONE), phone_keyboard()),
                Reply(_(texts.MENTOR_ASK_CONTACT), talk_here_keyboard()),
            )
        draft = person.draft.with_request(contact=ContactBy.BOT, phone=None)
        await tx.move(Step.MENTOR_TIME, draft=draft)
        return Outcome.say(Reply(_(texts.MENTOR_ASK_TIME), time_keyboard()), pressed=REPLACE)
    if isinstance(button, RequestTime) and state == Step.MENTOR_TIME and button.code in TIME_CODES:
        await tx.move(Step.MENTOR_CONFIRM, draft=person.draft.with_request(time=button.code))
        return Outcome.say(*prompt_confirm(person), pressed=REPLACE)
    if isinstance(button, RequestStep) and state == Step.MENTOR_CONFIRM:
        if button.action == RequestAction.SEND:
            # "Here is your request … Shall I send it?" becomes "Sent", with its reference.
            return (await submit(update, context, tx)).with_pressed(REPLACE)
        if button.action == RequestAction.CHANGE:
            office = office_of(person)
            if office is None:
                return (await find_office_first(update, context, tx)).with_pressed(REPLACE)
            await tx.move(Step.MENTOR_OFFICE, draft=person.draft.fresh_request(office.office_id))
            return Outcome.say(*await ask_share(tx), pressed=REPLACE)
    return None


FLOW = Flow(
    name="ask_mentor",
    commands={"mentor": begin},
    buttons={Family.MENTOR_AT: at_office, Family.REQUEST: on_button},
    inputs={Input.CONTACT: on_contact},
    menu={MenuChoice.MENTOR: begin},
    prompts={
        Step.MENTOR_OFFICE: prompt_office,
        Step.MENTOR_SHARE: prompt_share,
        Step.MENTOR_CONTACT: prompt_contact,
        Step.MENTOR_TIME: prompt_time,
        Step.MENTOR_CONFIRM: prompt_confirm,
        Step.MENTOR_LAPSED: prompt_lapsed,
    },
    text_steps={
        Step.MENTOR_CONTACT: on_contact_text,
        Step.MENTOR_LAPSED: resume_lapsed,
    },
    on_leave=OnLeave(REQUEST_STEPS, drop_if_abandoned),
)
