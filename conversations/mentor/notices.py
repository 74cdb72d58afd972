"""What the handoff tells people other than the sender, queued in the outbox.

Every message here is written in the business transaction of the step that caused it
(a request, a claim, a withdrawal, a ladder step, a close) and sent later by
bot/delivery, which checks the referral is still live first. A payload is sealed under
the key of the person it is about, so `/forget` makes a queued card unreadable as well
as obsolete; notices that must outlive the person are sealed under the mentor's own key.

Nothing a mentor or coordinator receives names the person: a card carries the public
reference, the office, a time window, how to get in touch and, only if the person
chose, their button answers. Coordinator alerts are queued by
`storage.repositories.outbox.alert_coordinators`, the one function every trigger uses.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime

from telegram import InlineKeyboardMarkup

from conversations import keyboards, texts
from conversations.callbacks import Card, CardAction, Menu, MenuChoice, Withdraw
from conversations.i18n import _, _n, join_labels
from conversations.person.disclosure import PREFER_NOT, QUESTIONS
from storage.crypto import FieldCipher, KeyRing
from storage.db import Connection
from storage.directory import office_by_id
from storage.models import OutboxStatus
from storage.repositories import referrals
from storage.repositories.mentors import MentorLabel
from storage.repositories.outbox import Edit, Kind, Send, enqueue
from storage.repositories.referrals import ContactBy, ReferralRow, Share
from storage.repositories.subjects import open_subject_key

CATEGORY_FIELDS = tuple(question.field for question in QUESTIONS)
CARD_KINDS = (Kind.CARD, Kind.REMINDER)


def office_name(office_id: str) -> str:
    office = office_by_id(office_id, include_unoffered=True)
    return office.name if office is not None else office_id


def delivery_alert(reason: str, place: tuple[str, str] | None, mentor: MentorLabel | None) -> str:
    """A coordinator's alert about a message that did not get through: which request and
    where, and, when it was meant for a mentor, who (first name and office, never a
    person's details), so the coordinator knows whom to call."""
    if mentor is None:
        because = _(texts.ALERT_REASONS[reason])
        if place is None:
            return _(texts.ALERT_DELIVERY_NO_REF).format(reason=because)
        ref, office_id = place
        return _(texts.ALERT_DELIVERY).format(
            ref=ref, office=office_name(office_id), reason=because
        )
    name = mentor.name or _(texts.ALERT_NAME_UNKNOWN)
    if mentor.office_id is not None:
        who = _(texts.ALERT_WHO_MENTOR).format(name=name, office=office_name(mentor.office_id))
    else:
        area = mentor.pilot_area or _(texts.COORDINATOR_ALL_AREAS)
        who = _(texts.ALERT_WHO_COORDINATOR).format(name=name, area=area)
    because = _(texts.ALERT_REASONS_NAMED[reason])
    if place is None:
        return _(texts.ALERT_DELIVERY_TO_NO_REF).format(who=who, reason=because, name=name)
    ref, office_id = place
    return _(texts.ALERT_DELIVERY_TO).format(
        ref=ref, office=office_name(office_id), who=who, reason=because, name=name
    )


def describe_delay(minutes: float) -> str:
    """Plain words for a settings delay: "40 minutes", "4 hours", "2 days"."""
    if minutes < 90:
        n = max(1, round(minutes))
        return _n(texts.DELAY_MINUTES, n).format(n=n)
    hours = minutes / 60
    if hours < 48:
        n = round(hours)
        return _n(texts.DELAY_HOURS, n).format(n=n)
    n = round(hours / 24)
    return _n(texts.DELAY_DAYS, n).format(n=n)


def time_label(code: str) -> str:
    return _(texts.MENTOR_TIME_LABELS.get(code, texts.MENTOR_TIME_LABELS["any"]))


def card_keyboard(public_ref: str) -> InlineKeyboardMarkup:
    return keyboards.rows(
        [
            keyboards.button(_(texts.BTN_ACCEPT), Card(CardAction.ACCEPT, public_ref)),
            keyboards.button(_(texts.BTN_DECLINE), Card(CardAction.DECLINE, public_ref)),
        ],
        per_row=2,
    )


def category_answers(answers: dict[str, str]) -> dict[str, str]:
    """Only button answers a mentor may see: never own words, never "prefer not to say"."""
    return {
        field: value
        for field, value in answers.items()
        if field in CATEGORY_FIELDS and value and value != PREFER_NOT
    }


async def person_cipher(
    connection: Connection, ring: KeyRing, referral: ReferralRow
) -> FieldCipher | None:
    """The key of the person a referral is about; None once they were erased."""
    if referral.person_id is None:
        return None
    return await open_subject_key(connection, ring, referral.person_id)


async def shared_lines(connection: Connection, cipher: FieldCipher, referral: ReferralRow) -> str:
    if referral.share != Share.CATEGORIES or referral.person_id is None:
        return _(texts.CARD_SHARED_NOTHING)
    answers = category_answers(
        await referrals.shared_answers(connection, cipher, referral.person_id, CATEGORY_FIELDS)
    )
    if not answers:
        return _(texts.CARD_SHARED_NOTHING)
    return _(texts.CARD_SHARED).format(summary=card_summary(answers))


def card_summary(answers: dict[str, str]) -> str:
    """The person's button answers, worded for a mentor (never their own words)."""
    return "\n".join(
        _(texts.SUMMARY_LINE).format(
            question=_(texts.CARD_ANSWER_NAMES[field]),
            answer=join_labels(
                [_(texts.OPTION_LABELS.get(code, code)) for code in answers[field].split(",")]
            ),
        )
        for field in CATEGORY_FIELDS
        if field in answers
    )


def contact_line(referral: ReferralRow, phone: str | None) -> str:
    if referral.contact_by != ContactBy.PHONE:
        return _(texts.CARD_CONTACT_BOT)
    if phone:
        return _(texts.CARD_CONTACT_PHONE).format(phone=phone)
    return _(texts.CARD_CONTACT_PHONE_ASK)


async def offer(
    connection: Connection,
    referral: ReferralRow,
    mentor_ids: list[str],
    *,
    cipher: FieldCipher,
    now: datetime,
    kind: Kind = Kind.CARD,
    tag: str = "",
) -> int:
    """Queue a card (or a reminder) with Accept buttons for each mentor; returns how many.

    The phone number, if the person shared one, is read from the referral (sealed, kept
    while it is live) into these sealed payloads: the worker drops a payload once sent.
    """
    phone = None
    if referral.contact_by == ContactBy.PHONE:
        phone = await referrals.phone_of(connection, cipher, referral.id)
    template = _(texts.CARD) if kind == Kind.CARD else _(texts.REMINDER)
    text = template.format(
        ref=referral.public_ref,
        office=office_name(referral.office_id),
        time=time_label(referral.time_window),
        contact=contact_line(referral, phone),
        shared=await shared_lines(connection, cipher, referral),
    )
    markup = card_keyboard(referral.public_ref).to_dict()
    queued = 0
    for mentor_id in mentor_ids:
        row = await enqueue(
            connection,
            dedupe_key=f"{kind}:{referral.id}:{mentor_id}" + (f":{tag}" if tag else ""),
            kind=kind,
            recipient_kind="mentor",
            recipient_id=mentor_id,
            payload=Send(text=text, markup=markup, protect=True),
            sealed_by=cipher,
            now=now,
            referral_id=referral.id,
        )
        queued += row is not None
    return queued


def to_all(text: str) -> Callable[[str], str | None]:
    """The same card text for every mentor."""

    def text_for(_mentor_id: str) -> str | None:
        return text

    return text_for


async def update_cards(
    connection: Connection,
    referral: ReferralRow,
    *,
    text_for: Callable[[str], str | None],
    cipher: FieldCipher | None,
    now: datetime,
    tag: str,
    ring: KeyRing | None = None,
    skip: frozenset[str] = frozenset(),
) -> int:
    """Cards not yet sent are cancelled; every card already out is edited (buttons removed)
    to say what the request is now, whichever round of offers it came from.

    `text_for` takes the recipient mentor's id (None: leave their cards alone). The edit
    is sealed under `cipher` (the person's key), or under each mentor's own key when
    `cipher` is None (after erasure). `skip` lists outbox ids of cards already dealt
    with (the one the accepting mentor pressed). Edits an earlier change queued and no
    worker has picked up are cancelled first, so a stale one never lands after these.
    The dedupe key holds the referral's version as the caller read it, so a request
    taken, handed back and taken again edits its cards again each time.
    """
    await referrals.drop_unsent(connection, referral.id, (*CARD_KINDS, Kind.CARD_UPDATE))
    edited = 0
    out = (OutboxStatus.SENT.value, OutboxStatus.INFLIGHT.value)
    for card in await referrals.cards_of(connection, referral.id, CARD_KINDS):
        if card.outbox_id in skip or card.status not in out:
            continue
        text = text_for(card.recipient_id)
        if text is None:
            continue
        sealed_by = cipher
        if sealed_by is None and ring is not None:
            sealed_by = await open_subject_key(connection, ring, card.recipient_id)
        if sealed_by is None:
            continue
        row = await enqueue(
            connection,
            dedupe_key=f"{tag}:{referral.version}:{card.outbox_id}",
            kind=Kind.CARD_UPDATE,
            recipient_kind="mentor",
            recipient_id=card.recipient_id,
            payload=Edit(of=card.outbox_id, text=text),
            sealed_by=sealed_by,
            now=now,
            referral_id=referral.id,
        )
        edited += row is not None
    return edited


async def give_number(
    connection: Connection,
    referral: ReferralRow,
    mentor_id: str,
    *,
    cipher: FieldCipher,
    now: datetime,
) -> bool:
    """The mentor who took a phone-call request is sent the number, protected (no
    forwarding or saving), sealed under the person's key until sent. The referral keeps
    it, sealed, until the chat ends, for a handback."""
    if referral.contact_by != ContactBy.PHONE:
        return False
    phone = await referrals.phone_of(connection, cipher, referral.id)
    if phone is None:
        return False
    text = _(texts.MENTOR_PHONE_YOURS).format(
        ref=referral.public_ref, phone=phone, time=time_label(referral.time_window)
    )
    row = await enqueue(
        connection,
        dedupe_key=f"{Kind.CONTACT}:{referral.id}:{referral.version}",
        kind=Kind.CONTACT,
        recipient_kind="mentor",
        recipient_id=mentor_id,
        payload=Send(text=text, protect=True),
        sealed_by=cipher,
        now=now,
        referral_id=referral.id,
    )
    return row is not None


async def take_number_back(
    connection: Connection, ring: KeyRing, referral: ReferralRow, now: datetime
) -> int:
    """The chat ended: a number not yet sent never goes, and each message that carried
    it is edited to say it was taken out (sealed under the mentor's own key: the person
    may be gone). The referral's own copy went with the status change."""
    await referrals.drop_unsent(connection, referral.id, (Kind.CONTACT,))
    edited = 0
    out = (OutboxStatus.SENT.value, OutboxStatus.INFLIGHT.value)
    for message in await referrals.cards_of(connection, referral.id, (Kind.CONTACT,)):
        if message.status not in out:
            continue
        cipher = await open_subject_key(connection, ring, message.recipient_id)
        if cipher is None:
            continue
        row = await enqueue(
            connection,
            dedupe_key=f"number_removed:{message.outbox_id}",
            kind=Kind.CARD_UPDATE,
            recipient_kind="mentor",
            recipient_id=message.recipient_id,
            payload=Edit(
                of=message.outbox_id,
                text=_(texts.MENTOR_PHONE_REMOVED).format(ref=referral.public_ref),
            ),
            sealed_by=cipher,
            now=now,
            referral_id=referral.id,
        )
        edited += row is not None
    return edited


async def tell_person(
    connection: Connection,
    referral: ReferralRow,
    *,
    kind: Kind,
    dedupe: str,
    text: str,
    markup: InlineKeyboardMarkup | None,
    cipher: FieldCipher,
    now: datetime,
) -> bool:
    """Queue a message to the person a referral belongs to (while they exist)."""
    if referral.person_id is None:
        return False
    row = await enqueue(
        connection,
        dedupe_key=dedupe,
        kind=kind,
        recipient_kind="person",
        recipient_id=referral.person_id,
        payload=Send(text=text, markup=markup.to_dict() if markup is not None else None),
        sealed_by=cipher,
        now=now,
        referral_id=referral.id,
    )
    return row is not None


async def tell_mentor(
    connection: Connection,
    ring: KeyRing,
    referral: ReferralRow,
    mentor_id: str,
    *,
    text: str,
    dedupe: str,
    now: datetime,
) -> bool:
    """A notice to a mentor, sealed under the mentor's own key (it outlives the person)."""
    cipher = await open_subject_key(connection, ring, mentor_id)
    if cipher is None:
        return False
    row = await enqueue(
        connection,
        dedupe_key=dedupe,
        kind=Kind.MENTOR_NOTICE,
        recipient_kind="mentor",
        recipient_id=mentor_id,
        payload=Send(text=text),
        sealed_by=cipher,
        now=now,
        referral_id=referral.id,
    )
    return row is not None


def support_and_withdraw(public_ref: str) -> InlineKeyboardMarkup:
    """Under every honest "still looking" update: services now, or stop the request."""
    return keyboards.rows(
        [
            keyboards.button(_(texts.BTN_SUPPORT), Menu(MenuChoice.SUPPORT)),
            keyboards.button(_(texts.BTN_WITHDRAW), Withdraw(public_ref)),
        ]
    )
