"""Asking for a peer mentor: the person's side, from choosing the office to withdrawing.

Steps: the office (preselected from a poster link or the finder, else the finder first)
→ what the mentor may see (nothing, or the button answers they gave) → how to get in
touch (here, through the bot, by default; or their phone number, shared on purpose with
Telegram's contact button) → when suits them → confirm. Confirming is ONE transaction:
the referral, a card in the outbox for each available mentor of the office (else of the
pilot area; else an alert to the coordinators), and the person's next step. The person
gets their reference and honest timing, and can stop the request at any time.

A shared phone number lives only in the sealed step draft until confirm, then only in
the sealed card payloads, which the delivery worker drops once sent. A request left
unsent (Menu, /start, another flow) loses its draft, number and all, in the same
transaction (`drop_if_abandoned`). A request the person simply stops answering loses its
number to the retention purge after `request_draft_max_hours`
(storage/repositories/request_drafts.py):
they are then on the lapsed step, and whatever they do next in the request is told so
kindly and asked again how to be reached (`resume_lapsed`).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from telegram import (
    InlineKeyboardMarkup,
    KeyboardButton,
    ReplyKeyboardMarkup,
    ReplyKeyboardRemove,
    Update,
)
from telegram.ext import BaseHandler, MessageHandler, filters

from conversations import keyboards, texts
from conversations.common import event, user_id_of
from conversations.context import Context, FlowSettings
from conversations.flow import (
    FlowFn,
    Outcome,
    Reply,
    buttons,
    callback_parts,
    command,
    menu_replies,
    run_flow,
    stale,
)
from conversations.mentor import notices
from conversations.person import feedback, jobcentre
from conversations.steps import Step
from storage.crypto import KeyRing
from storage.directory import Office, office_by_id
from storage.models import ReferralStatus
from storage.repositories import mentors, referrals
from storage.repositories.outbox import Kind, alert_coordinators
from storage.repositories.people import ErasureSummary, PersonRecord, PersonTransaction
from storage.repositories.referrals import ContactBy, Ladder, ReferralRow, Share
from storage.repositories.request_drafts import REQUEST_KEY
from storage.repositories.updates import record_event

TIME_CODES = tuple(texts.MENTOR_TIME_LABELS)
PHONE_SHAPE = re.compile(r"^\+?[0-9]{7,15}$")
REF_SHAPE = re.compile(rf"^{referrals.REF_PATTERN}$")
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
# Person-facing messages that are pointless once a request ends.
PERSON_KINDS = (Kind.LADDER_UPDATE, Kind.ACCEPTED, Kind.ALERT)

# --------------------------------------------------------------------------- keyboards


def office_keyboard() -> InlineKeyboardMarkup:
    return keyboards.with_menu(
        [
            [keyboards.button(texts.BTN_THIS_OFFICE, "mr:office:yes")],
            [keyboards.button(texts.BTN_OTHER_OFFICE, "mr:office:other")],
        ]
    )


def share_keyboard() -> InlineKeyboardMarkup:
    return keyboards.with_menu(
        [
            [keyboards.button(texts.BTN_SHARE_NOTHING, "mr:share:none")],
            [keyboards.button(texts.BTN_SHARE_ANSWERS, "mr:share:cats")],
        ]
    )


def contact_keyboard() -> InlineKeyboardMarkup:
    return keyboards.with_menu(
        [
            [keyboards.button(texts.BTN_CONTACT_BOT, "mr:contact:bot")],
            [keyboards.button(texts.BTN_CONTACT_PHONE, "mr:contact:phone")],
        ]
    )


def phone_keyboard() -> ReplyKeyboardMarkup:
    """Telegram's own button: it sends the person's number only when they tap it."""
    return ReplyKeyboardMarkup(
        [[KeyboardButton(texts.BTN_SEND_PHONE, request_contact=True)]],
        resize_keyboard=True,
        one_time_keyboard=True,
    )


def lapsed_keyboard() -> InlineKeyboardMarkup:
    return keyboards.with_menu([[keyboards.button(texts.BTN_CARRY_ON, "mr:resume")]])


def talk_here_keyboard() -> InlineKeyboardMarkup:
    return keyboards.rows([keyboards.button(texts.BTN_CONTACT_BOT, "mr:contact:bot")])


def time_keyboard() -> InlineKeyboardMarkup:
    return keyboards.with_menu(
        [
            [keyboards.button(texts.MENTOR_TIME_LABELS[code], f"mr:time:{code}")]
            for code in TIME_CODES
        ]
    )


def confirm_keyboard() -> InlineKeyboardMarkup:
    return keyboards.with_menu(
        [
            [keyboards.button(texts.BTN_SEND_REQUEST, "mr:send")],
            [keyboards.button(texts.BTN_CHANGE, "mr:change")],
        ]
    )


def waiting_keyboard(public_ref: str) -> InlineKeyboardMarkup:
    return keyboards.with_menu(
        [
            [keyboards.button(texts.BTN_SUPPORT, "menu:support")],
            [keyboards.button(texts.BTN_WITHDRAW, f"mr:wd:{public_ref}")],
        ]
    )


def with_mentor_keyboard(name: str) -> InlineKeyboardMarkup:
    return keyboards.with_menu(
        [
            [keyboards.button(texts.BTN_WRITE_TO.format(name=name), "mr:chat")],
            [keyboards.button(texts.BTN_END_CHAT, "mr:end")],
        ]
    )


def end_keyboard(public_ref: str) -> InlineKeyboardMarkup:
    return keyboards.rows(
        [
            keyboards.button(texts.BTN_END_YES, f"mr:endyes:{public_ref}"),
            keyboards.button(texts.BTN_END_NO, "mr:endno"),
        ]
    )


# ------------------------------------------------------------------------------ drafts


def request_of(person: PersonRecord) -> dict[str, Any]:
    """The request being put together (sealed in the person's draft)."""
    value = person.draft.get(REQUEST_KEY)
    return dict(value) if isinstance(value, dict) else {}


def office_of(person: PersonRecord) -> Office | None:
    office_id = person.draft.get("office")
    return office_by_id(office_id) if isinstance(office_id, str) else None


def draft_with(person: PersonRecord, **request: Any) -> dict[str, Any]:
    """The draft with the request updated; everything else dropped but the office."""
    merged = request_of(person) | request
    draft: dict[str, Any] = {REQUEST_KEY: merged}
    if "office" in person.draft:
        draft["office"] = person.draft["office"]
    return draft


def fresh_draft(office_id: str) -> dict[str, Any]:
    """A new request at this office (anything from an earlier one dropped)."""
    return {"office": office_id, REQUEST_KEY: {}}


def settled_draft(person: PersonRecord, **extra: Any) -> dict[str, Any]:
    """Leaving the request: keep the office, drop the rest (a shared number above all)."""
    draft: dict[str, Any] = {key: value for key, value in extra.items() if value is not None}
    if "office" in person.draft:
        draft["office"] = person.draft["office"]
    return draft


async def drop_if_abandoned(tx: PersonTransaction, before: str | None) -> None:
    """The person left the request unsent (Menu, /start, another flow): drop what it held,
    a shared phone number above all, in this same transaction. The request can't be
    picked up again once they left its steps (its buttons go stale; /mentor starts a
    fresh one), so nothing is lost by it."""
    person = tx.person
    if (
        person is None
        or before not in REQUEST_STEPS
        or person.state in REQUEST_STEPS
        or REQUEST_KEY not in person.draft
    ):
        return
    draft = {key: value for key, value in person.draft.items() if key != REQUEST_KEY}
    await tx.move(person.state, draft=draft)


# ----------------------------------------------------------------------------- prompts


def confirm_text(person: PersonRecord) -> str:
    request = request_of(person)
    office = office_of(person)
    return texts.MENTOR_CONFIRM.format(
        office=office.name if office is not None else "",
        share=texts.MENTOR_SHARE_LABELS[request.get("share", Share.NONE)],
        contact=texts.MENTOR_CONTACT_LABELS[request.get("contact", ContactBy.BOT)],
        time=notices.time_label(str(request.get("time", "any"))),
    )


def prompt_office(person: PersonRecord) -> list[Reply]:
    office = office_of(person)
    if office is None:
        return menu_replies()
    return [Reply(texts.MENTOR_ASK_OFFICE.format(office=office.name), office_keyboard())]


def prompt_share(person: PersonRecord) -> list[Reply]:
    return [Reply(texts.MENTOR_ASK_SHARE, share_keyboard())]


def prompt_contact(person: PersonRecord) -> list[Reply]:
    if request_of(person).get("contact") == ContactBy.PHONE:
        return [
            Reply(texts.MENTOR_ASK_PHONE, phone_keyboard()),
            Reply(texts.MENTOR_ASK_CONTACT, contact_keyboard()),
        ]
    return [Reply(texts.MENTOR_ASK_CONTACT, contact_keyboard())]


def prompt_time(person: PersonRecord) -> list[Reply]:
    return [Reply(texts.MENTOR_ASK_TIME, time_keyboard())]


def prompt_confirm(person: PersonRecord) -> list[Reply]:
    return [Reply(confirm_text(person), confirm_keyboard())]


def prompt_lapsed(person: PersonRecord) -> list[Reply]:
    return [Reply(texts.MENTOR_LAPSED_ASK, lapsed_keyboard())]


def prompt_waiting(person: PersonRecord) -> list[Reply]:
    office = office_of(person)
    ref = str(person.draft.get("ref", ""))
    if not REF_SHAPE.match(ref):
        return menu_replies()
    text = texts.MENTOR_WAITING.format(ref=ref, office=office.name if office else "")
    return [Reply(text, waiting_keyboard(ref))]


def prompt_with_mentor(person: PersonRecord) -> list[Reply]:
    return [Reply(texts.MENTOR_WITH_PROMPT, keyboards.back_to_menu())]


# ------------------------------------------------------------------------------- steps


async def show_live(context: Context, tx: PersonTransaction, referral: ReferralRow) -> Outcome:
    """A request is already open: where it stands, instead of a second one."""
    person = tx.person
    assert person is not None
    if referral.status == ReferralStatus.PENDING:
        if person.state != Step.WAITING_FOR_MENTOR:
            await tx.move(
                Step.WAITING_FOR_MENTOR, draft=settled_draft(person, ref=referral.public_ref)
            )
        text = texts.MENTOR_WAITING.format(
            ref=referral.public_ref, office=notices.office_name(referral.office_id)
        )
        return Outcome.say(Reply(text, waiting_keyboard(referral.public_ref)))
    name = await mentor_name(context, tx, referral)
    if person.state != Step.WITH_MENTOR:
        await tx.move(Step.WITH_MENTOR, draft=settled_draft(person, ref=referral.public_ref))
    text = texts.MENTOR_WITH.format(name=name, ref=referral.public_ref)
    return Outcome.say(Reply(text, with_mentor_keyboard(name)))


async def mentor_name(context: Context, tx: PersonTransaction, referral: ReferralRow) -> str:
    if referral.mentor_id is None:
        return ""
    name = await mentors.display_name_of(tx.connection, context.services.ring, referral.mentor_id)
    return name or ""


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
    await tx.move(Step.MENTOR_OFFICE, draft=fresh_draft(office.office_id))
    return Outcome.say(Reply(texts.MENTOR_ABOUT), *prompt_office(person))


async def find_office_first(update: Update, context: Context, tx: PersonTransaction) -> Outcome:
    found = await jobcentre.begin(update, context, tx)
    return Outcome(replies=[Reply(texts.MENTOR_FIND_OFFICE_FIRST), *found.replies])


async def at_office(update: Update, context: Context, tx: PersonTransaction) -> Outcome:
    """`m:at:<office>`: the finder's "Mentor at …" buttons."""
    person = tx.person
    assert person is not None
    parts = callback_parts(update)
    office = office_by_id(parts[2]) if len(parts) == 3 and parts[1] == "at" else None
    if office is None:
        found = await find_office_first(update, context, tx)
        return Outcome(replies=[Reply(texts.MENTOR_OFFICE_GONE), *found.replies[1:]])
    live = await referrals.live_for_person(tx.connection, person.id)
    if live is not None:
        return await show_live(context, tx, live)
    await tx.move(Step.MENTOR_OFFICE, draft=fresh_draft(office.office_id))
    event("mentor_request.begin", office_known=1)
    replies = await ask_share(tx)
    return Outcome(replies=[Reply(texts.MENTOR_ABOUT), *replies])


async def ask_share(tx: PersonTransaction) -> list[Reply]:
    """What the mentor may see; skipped when the person told us nothing to share."""
    person = tx.person
    assert person is not None
    answers = notices.category_answers(await tx.disclosures())
    if not answers:
        await tx.move(Step.MENTOR_CONTACT, draft=draft_with(person, share=Share.NONE))
        return prompt_contact(person)
    await tx.move(Step.MENTOR_SHARE, draft=draft_with(person))
    return [
        Reply(texts.MENTOR_SHARE_PREVIEW.format(summary=notices.card_summary(answers))),
        *prompt_share(person),
    ]


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
        return Outcome.say(texts.ONLY_TEXT)
    if not number.startswith("+"):
        number = f"+{number}"
    await tx.move(Step.MENTOR_TIME, draft=draft_with(person, contact=ContactBy.PHONE, phone=number))
    event("mentor_request.phone_shared")
    thanks = texts.MENTOR_PHONE_THANKS.format(delay=lapse_delay(context))
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
    if office is None or REQUEST_KEY not in person.draft:
        found = await find_office_first(update, context, tx)
        return Outcome(
            replies=[Reply(texts.MENTOR_LAPSED_RESTART.format(delay=delay)), *found.replies]
        )
    await tx.move(Step.MENTOR_CONTACT, draft=draft_with(person))
    return Outcome(
        replies=[Reply(texts.MENTOR_LAPSED.format(delay=delay)), *prompt_contact(person)]
    )


async def on_contact_text(update: Update, context: Context, tx: PersonTransaction) -> Outcome:
    """Typed text while we wait for the contact button: not kept (it may be a number)."""
    person = tx.person
    assert person is not None
    if request_of(person).get("contact") == ContactBy.PHONE:
        return Outcome.say(
            Reply(texts.MENTOR_PHONE_USE_BUTTON, phone_keyboard()),
            Reply(texts.MENTOR_ASK_CONTACT, contact_keyboard()),
        )
    return Outcome(replies=[Reply(texts.NOT_UNDERSTOOD), *prompt_contact(person)])


async def on_waiting_text(update: Update, context: Context, tx: PersonTransaction) -> Outcome:
    person = tx.person
    assert person is not None
    live = await referrals.live_for_person(tx.connection, person.id)
    if live is None:
        await tx.move(Step.MENU, draft=settled_draft(person))
        return Outcome(replies=[Reply(texts.MENTOR_ALREADY_ENDED), *menu_replies()])
    return await show_live(context, tx, live)


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
    cards = await notices.offer(
        connection,
        referral,
        office_mentors or area_mentors,
        cipher=person.cipher,
        now=now,
        phone=phone if contact_by == ContactBy.PHONE else None,
    )
    if scope == "team":
        alerted = await alert_coordinators(
            connection,
            tx.ring,
            about=f"new:{referral.id}",
            text=texts.ALERT_NO_MENTORS.format(
                ref=referral.public_ref, office=office.name, area=office.pilot_area
            ),
            now=now,
            referral_id=referral.id,
        )
        if not alerted:
            scope = "nobody"
    await tx.move(Step.WAITING_FOR_MENTOR, draft=settled_draft(person, ref=referral.public_ref))
    await record_event(connection, "referral_created", now, office.office_id)
    event("mentor_request.sent", scope=scope, cards=cards)
    return Opened(referral, scope, cards)


def sent_replies(opened: Opened, office: Office, settings: FlowSettings) -> list[Reply]:
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
        "office": texts.MENTOR_SENT,
        "area": texts.MENTOR_SENT_AREA,
        "team": texts.MENTOR_SENT_TEAM,
        "nobody": texts.MENTOR_SENT_NOBODY,
    }[opened.scope]
    return [Reply(template.format(**values), waiting_keyboard(referral.public_ref))]


async def submit(update: Update, context: Context, tx: PersonTransaction) -> Outcome:
    person = tx.person
    assert person is not None
    office = office_of(person)
    if office is None:
        found = await find_office_first(update, context, tx)
        return Outcome(replies=[Reply(texts.MENTOR_OFFICE_GONE), *found.replies[1:]])
    live = await referrals.live_for_person(tx.connection, person.id)
    if live is not None:
        return await show_live(context, tx, live)
    request = request_of(person)
    contact_by = ContactBy.PHONE if request.get("contact") == ContactBy.PHONE else ContactBy.BOT
    phone = request.get("phone")
    settings = context.services.settings
    opened = await open_referral(
        tx,
        settings,
        office=office,
        share=Share.CATEGORIES if request.get("share") == Share.CATEGORIES else Share.NONE,
        contact_by=contact_by,
        phone=phone if isinstance(phone, str) else None,
        time_window=str(request.get("time", "any")),
    )
    return Outcome(replies=sent_replies(opened, office, settings))


async def withdraw(ring: KeyRing, tx: PersonTransaction, referral: ReferralRow | None) -> Outcome:
    """Stop a request: cards not yet sent never go, cards already out are edited."""
    person = tx.person
    assert person is not None
    connection, now = tx.connection, tx.now
    if referral is None or referral.person_id != person.id:
        return Outcome.say(texts.MENTOR_ALREADY_ENDED)
    if not await referrals.withdraw(connection, referral, person.id, now):
        return Outcome.say(texts.MENTOR_ALREADY_ENDED)
    # Read back what was withdrawn: a mentor may have accepted it since we first read it.
    referral = await referrals.by_id(connection, referral.id) or referral
    if referral.mentor_id is None:
        await notices.update_cards(
            connection,
            referral,
            text_for=notices.to_all(texts.CARD_WITHDRAWN.format(ref=referral.public_ref)),
            cipher=person.cipher,
            now=now,
            tag="withdrawn",
        )
    await referrals.drop_unsent(connection, referral.id, PERSON_KINDS)
    if referral.mentor_id is not None:
        await notices.tell_mentor(
            connection,
            ring,
            referral,
            referral.mentor_id,
            text=texts.MENTOR_NOTICE_ENDED.format(ref=referral.public_ref),
            dedupe=f"notice:ended:{referral.id}",
            now=now,
        )
    await tx.move(Step.MENU, draft=settled_draft(person))
    await record_event(connection, "referral_withdrawn", now, referral.office_id)
    event("mentor_request.withdrawn")
    text = texts.MENTOR_WITHDRAWN.format(ref=referral.public_ref)
    return Outcome(replies=[Reply(text), *menu_replies()])


async def end_chat(context: Context, tx: PersonTransaction, referral: ReferralRow) -> Outcome:
    """The person ends the chat: the referral closes and the mentor is told."""
    person = tx.person
    assert person is not None
    connection, now = tx.connection, tx.now
    name = await mentor_name(context, tx, referral)
    if not await referrals.close(connection, referral, now, person_id=person.id):
        return Outcome.say(texts.MENTOR_ALREADY_ENDED)
    await referrals.drop_unsent(connection, referral.id, PERSON_KINDS)
    if referral.mentor_id is not None:
        await notices.tell_mentor(
            connection,
            context.services.ring,
            referral,
            referral.mentor_id,
            text=texts.MENTOR_NOTICE_ENDED.format(ref=referral.public_ref),
            dedupe=f"notice:ended:{referral.id}",
            now=now,
        )
    await tx.move(Step.FEEDBACK_HELPED, draft=settled_draft(person))
    await record_event(connection, "referral_closed_by_person", now, referral.office_id)
    event("mentor_request.chat_ended")
    return Outcome.say(texts.END_CHAT_DONE.format(name=name), feedback.helped_question())


async def on_button(update: Update, context: Context, tx: PersonTransaction) -> Outcome:
    """`mr:<action>[:<arg>]`, checked against the step the person is on."""
    person = tx.person
    assert person is not None
    parts = callback_parts(update)
    action = parts[1] if len(parts) > 1 else ""
    arg = parts[2] if len(parts) > 2 else ""
    state = person.state
    if len(parts) > 3:
        return stale(person)
    if action in ("wd", "endyes"):
        referral = await referrals.by_ref(tx.connection, arg) if REF_SHAPE.match(arg) else None
        if action == "wd":
            return await withdraw(context.services.ring, tx, referral)
        if referral is None or referral.person_id != person.id:
            return Outcome.say(texts.MENTOR_ALREADY_ENDED)
        if referral.status != ReferralStatus.ACCEPTED:
            return Outcome.say(texts.MENTOR_ALREADY_ENDED)
        return await end_chat(context, tx, referral)
    if action in ("chat", "end", "endno"):
        live = await referrals.live_for_person(tx.connection, person.id)
        if live is None or live.status != ReferralStatus.ACCEPTED:
            return Outcome(replies=[Reply(texts.RELAY_ENDED), *menu_replies()])
        if action == "end":
            name = await mentor_name(context, tx, live)
            return Outcome.say(
                Reply(texts.END_CHAT_ASK.format(name=name), end_keyboard(live.public_ref))
            )
        return await show_live(context, tx, live)
    if state == Step.MENTOR_LAPSED:
        return await resume_lapsed(update, context, tx)  # "Carry on", or an older button
    if action == "office" and state == Step.MENTOR_OFFICE and arg in ("yes", "other"):
        if arg == "other":
            return await find_office_first(update, context, tx)
        return Outcome(replies=await ask_share(tx))
    if action == "share" and state == Step.MENTOR_SHARE and arg in ("none", "cats"):
        share = Share.CATEGORIES if arg == "cats" else Share.NONE
        await tx.move(Step.MENTOR_CONTACT, draft=draft_with(person, share=share))
        return Outcome(replies=prompt_contact(person))
    if action == "contact" and state == Step.MENTOR_CONTACT and arg in ("bot", "phone"):
        if arg == "phone":
            await tx.move(Step.MENTOR_CONTACT, draft=draft_with(person, contact=ContactBy.PHONE))
            return Outcome.say(
                Reply(texts.MENTOR_ASK_PHONE, phone_keyboard()),
                Reply(texts.MENTOR_ASK_CONTACT, talk_here_keyboard()),
            )
        draft = draft_with(person, contact=ContactBy.BOT)
        draft[REQUEST_KEY].pop("phone", None)
        await tx.move(Step.MENTOR_TIME, draft=draft)
        return Outcome.say(Reply(texts.MENTOR_ASK_TIME, time_keyboard()))
    if action == "time" and state == Step.MENTOR_TIME and arg in TIME_CODES:
        await tx.move(Step.MENTOR_CONFIRM, draft=draft_with(person, time=arg))
        return Outcome(replies=prompt_confirm(person), pressed_markup=None)
    if action == "send" and state == Step.MENTOR_CONFIRM and not arg:
        return await submit(update, context, tx)
    if action == "change" and state == Step.MENTOR_CONFIRM and not arg:
        office = office_of(person)
        if office is None:
            return await find_office_first(update, context, tx)
        await tx.move(Step.MENTOR_OFFICE, draft=fresh_draft(office.office_id))
        return Outcome(replies=await ask_share(tx))
    return stale(person)


# ------------------------------------------------------------------------------ /forget


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
                text_for=notices.to_all(texts.CARD_WITHDRAWN.format(ref=referral.public_ref)),
                cipher=None,
                ring=ring,
                now=now,
                tag="withdrawn",
            )
        if referral.mentor_id is not None and referral.status == ReferralStatus.ACCEPTED:
            await notices.tell_mentor(
                connection,
                ring,
                referral,
                referral.mentor_id,
                text=texts.MENTOR_NOTICE_LEFT.format(ref=referral.public_ref),
                dedupe=f"notice:left:{referral.id}",
                now=now,
            )
    return erased


# ---------------------------------------------------------------------------- handlers


async def _contact_callback(update: Update, context: Context) -> None:
    await run_flow(update, context, on_contact)


ENTRY: FlowFn = begin
TEXT_STEPS: dict[Step, FlowFn] = {
    Step.MENTOR_CONTACT: on_contact_text,
    Step.MENTOR_LAPSED: resume_lapsed,
    Step.WAITING_FOR_MENTOR: on_waiting_text,
}
PROMPTS = {
    Step.MENTOR_OFFICE: prompt_office,
    Step.MENTOR_SHARE: prompt_share,
    Step.MENTOR_CONTACT: prompt_contact,
    Step.MENTOR_TIME: prompt_time,
    Step.MENTOR_CONFIRM: prompt_confirm,
    Step.MENTOR_LAPSED: prompt_lapsed,
    Step.WAITING_FOR_MENTOR: prompt_waiting,
    Step.WITH_MENTOR: prompt_with_mentor,
}


def build_mentor_request_handlers() -> list[BaseHandler[Update, Context, None]]:
    return [
        command("mentor", begin),
        buttons("m", at_office),
        buttons("mr", on_button),
        MessageHandler(filters.ChatType.PRIVATE & filters.CONTACT, _contact_callback),
    ]
