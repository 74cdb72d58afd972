"""Signposting: who can help, picked from what the person chose to tell us.

National services always (safety net first), filtered and ordered by the substances and
needs they disclosed; the local treatment service when their area is known from the
office they picked; IPS for people in treatment who want work. Local rows whose
details were not checked say so.
"""

from __future__ import annotations

from telegram import Update

from conversations import keyboards, texts
from conversations.callbacks import Menu, MenuChoice
from conversations.common import event
from conversations.context import Context
from conversations.outcome import Outcome, Reply
from conversations.registry import Flow
from storage.directory import Office, Service, office_by_id, services_for
from storage.repositories.people import PersonTransaction

PREFER_NOT = "prefer_not_to_say"


def _codes(value: str | None) -> set[str]:
    if not value or value == PREFER_NOT:
        return set()
    return set(value.split(","))


def reachable(service: Service) -> bool:
    """Only services a person can contact (a number or a website) are listed."""
    return bool(service.dial or service.sms_number or service.url)


def describe(service: Service) -> str:
    """One line per service from its checked contact fields, never the raw source notes."""
    contact = ""
    if service.dial:
        contact += texts.SUPPORT_CONTACT_PHONE.format(phone=service.dial)
    if service.sms_number and service.sms_keyword:
        contact += texts.SUPPORT_CONTACT_TEXT.format(
            text=texts.SUPPORT_TEXT_KEYWORD.format(
                keyword=service.sms_keyword, number=service.sms_number
            )
        )
    elif service.sms_number:
        contact += texts.SUPPORT_CONTACT_TEXT.format(
            text=texts.SUPPORT_TEXT_NUMBER.format(number=service.sms_number)
        )
    if service.url:
        contact += texts.SUPPORT_CONTACT_WEB.format(url=service.url)
    hours = texts.SUPPORT_HOURS.format(hours=service.opening_hours) if service.opening_hours else ""
    return texts.SUPPORT_SERVICE.format(name=service.name, contact=contact, hours=hours)


def support_replies(answers: dict[str, str], office: Office | None) -> list[Reply]:
    """The support list for what they told us and, when known, the area of an office."""
    substances = _codes(answers.get("substances"))
    needs = _codes(answers.get("needs"))
    in_treatment = "treatment_service" in _codes(answers.get("support"))
    local_authority = office.local_authority if office is not None else None
    found = services_for(substances, needs, local_authority, in_treatment=in_treatment)

    intro = texts.SUPPORT_INTRO_MATCHED if substances or needs else texts.SUPPORT_INTRO
    safety_net = [describe(s) for s in found.safety_net if reachable(s)]
    national = [describe(s) for s in found.national if reachable(s)]
    replies = [Reply("\n".join([intro, texts.SUPPORT_SAFETY_NET, *safety_net]))]
    replies.append(Reply("\n".join([texts.SUPPORT_NATIONAL, *national])))
    if found.local and local_authority is not None:
        lines = [texts.SUPPORT_LOCAL.format(area=local_authority), *map(describe, found.local)]
        if any(service.check_before_use for service in found.local):
            lines.append(texts.SUPPORT_LOCAL_UNCHECKED)
        replies.append(Reply("\n".join(lines)))
    if in_treatment and "work" in needs:
        replies.append(Reply(texts.SUPPORT_IPS))
    follow_up = []
    if not answers:
        follow_up.append([keyboards.button(texts.BTN_TELL, Menu(MenuChoice.TELL))])
    if local_authority is None:
        follow_up.append([keyboards.button(texts.BTN_JOBCENTRE, Menu(MenuChoice.JOBCENTRE))])
    follow_up.append([keyboards.button(texts.BTN_MENTOR, Menu(MenuChoice.MENTOR))])
    if not answers:
        closing = texts.SUPPORT_TELL_MORE
    elif local_authority is None:
        closing = texts.SUPPORT_NO_AREA
    else:
        closing = texts.MENU
    replies.append(Reply(closing, keyboards.with_menu(follow_up)))
    event("support.shown", matched=int(bool(substances or needs)), local=int(bool(found.local)))
    return replies


async def show_support(update: Update, context: Context, tx: PersonTransaction) -> Outcome:
    """/support and the menu button: near the office they chose, if they chose one."""
    person = tx.person
    assert person is not None
    office = office_by_id(person.draft.office) if person.draft.office is not None else None
    return Outcome.say(*support_replies(await tx.disclosures(), office))


async def show_support_near(tx: PersonTransaction, office_id: str) -> Outcome:
    """Support near an office the finder showed: used for this answer, not kept."""
    office = office_by_id(office_id)
    return Outcome.say(*support_replies(await tx.disclosures(), office))


FLOW = Flow(
    name="support",
    commands={"support": show_support},
    menu={MenuChoice.SUPPORT: show_support},
)
