"""Signposting: who can help, picked from what the person chose to tell us.

National services always (safety net first), filtered and ordered by the substances and
needs they disclosed; the local treatment service when their area is known (from the
office they picked, or the council area the finder named, inside the pilot or not); IPS
for people in treatment who want work; and, on request, help on other topics (benefits
and sanctions, drugs and the law, families, naloxone, gambling, abuse at home).

Every number says what a call costs (`Service.charges`): nothing is called free that is
not. SMART's number is its office line, said so. A number found only in secondary
sources carries a caveat. A service with neither a number nor a website says what to do
instead ("ask your GP or call FRANK"), never "see the website".
"""

from __future__ import annotations

from functools import cache

from telegram import InlineKeyboardMarkup, Update

from conversations import keyboards, texts
from conversations.callbacks import Button, Family, Menu, MenuChoice, SupportTopic
from conversations.common import event
from conversations.context import Context
from conversations.i18n import _
from conversations.outcome import Outcome, Reply
from conversations.registry import Flow, stale
from storage.directory import (
    Fallback,
    Office,
    PhoneRole,
    Service,
    Topic,
    Verification,
    all_services,
    authority,
    office_by_id,
    services_for,
    services_on,
)
from storage.repositories.people import PersonTransaction

PREFER_NOT = "prefer_not_to_say"
FRANK_ID = "frank"
# Layout, not words: between the ways to reach a service, and before a note under it.
WAYS_BETWEEN = " – "
NOTE_INDENT = "  "
# The topics offered on request, in the order of their buttons.
TOPICS = tuple(topic for topic in Topic if topic is not Topic.RECOVERY)


def _codes(value: str | None) -> set[str]:
    if not value or value == PREFER_NOT:
        return set()
    return set(value.split(","))


@cache
def frank() -> Service:
    """FRANK, whom a service with nothing to act on sends people to."""
    return next(s for s in all_services() if s.service_id == FRANK_ID)


def listed(service: Service) -> bool:
    """A service is listed when a person can act on it: a number, a website, or the
    GP-or-FRANK advice. Those reached through a work coach (IPS, the pilot itself) are
    said elsewhere."""
    if service.dial or service.sms_number or service.url:
        return True
    return service.fallback is Fallback.GP_OR_FRANK


def cost(service: Service) -> str:
    return _(texts.SUPPORT_COST[service.charges.value])


def ways_to_reach(service: Service) -> list[str]:
    """Each a whole phrase: "call 116 123 (free to call)", "text SHOUT to 85258", a site;
    for a service with none of these, what to do instead."""
    ways: list[str] = []
    if service.dial:
        template = (
            _(texts.SUPPORT_CALL_OFFICE)
            if service.phone_role is PhoneRole.OFFICE
            else _(texts.SUPPORT_CALL)
        )
        ways.append(template.format(phone=service.dial, cost=cost(service)))
    if service.sms_number and service.sms_keyword:
        keyword, number = service.sms_keyword, service.sms_number
        ways.append(_(texts.SUPPORT_TEXT_KEYWORD).format(keyword=keyword, number=number))
    elif service.sms_number:
        ways.append(_(texts.SUPPORT_TEXT_NUMBER).format(number=service.sms_number))
    if service.url:
        ways.append(service.url)
    if not ways and service.fallback is Fallback.GP_OR_FRANK:
        ways.append(_(texts.SUPPORT_ASK_GP_OR_FRANK).format(phone=frank().dial, cost=cost(frank())))
    return ways


def describe(service: Service) -> str:
    """One line per service from its checked contact fields, never the raw source notes;
    under it, an office line said as such and a number from secondary sources flagged."""
    ways = WAYS_BETWEEN.join(ways_to_reach(service))
    if service.opening_hours:
        line = _(texts.SUPPORT_SERVICE_HOURS).format(
            name=service.name, ways=ways, hours=service.opening_hours
        )
    else:
        line = _(texts.SUPPORT_SERVICE).format(name=service.name, ways=ways)
    notes = []
    if service.dial and service.phone_role is PhoneRole.OFFICE:
        notes.append(_(texts.SUPPORT_OFFICE_LINE))
    if service.verification is Verification.SECONDARY and (service.dial or service.sms_number):
        notes.append(_(texts.SUPPORT_SECONDARY))
    return "\n".join([line, *(NOTE_INDENT + note for note in notes)])


def local_lines(area: str, local: tuple[Service, ...]) -> list[str]:
    """The local treatment service(s) of a council area, or where to ask when we know none."""
    if not local:
        return [
            _(texts.SUPPORT_LOCAL_NONE).format(area=area, phone=frank().dial, cost=cost(frank()))
        ]
    lines = [_(texts.SUPPORT_LOCAL).format(area=area), *map(describe, local)]
    if any(service.check_before_use for service in local):
        lines.append(_(texts.SUPPORT_LOCAL_UNCHECKED))
    return lines


def topics_keyboard() -> InlineKeyboardMarkup:
    labels = texts.SUPPORT_TOPIC_LABELS
    buttons = [
        keyboards.button(_(labels[topic.value]), SupportTopic(topic.value)) for topic in TOPICS
    ]
    return keyboards.rows(buttons, per_row=2)


def support_replies(answers: dict[str, str], area: str | None) -> list[Reply]:
    """The support list for what they told us and, when known, their council area."""
    substances = _codes(answers.get("substances"))
    needs = _codes(answers.get("needs"))
    in_treatment = "treatment_service" in _codes(answers.get("support"))
    found = services_for(substances, needs, area, in_treatment=in_treatment)

    intro = _(texts.SUPPORT_INTRO_MATCHED) if substances or needs else _(texts.SUPPORT_INTRO)
    safety_net = [describe(s) for s in found.safety_net if listed(s)]
    national = [describe(s) for s in found.national if listed(s)]
    replies = [Reply("\n".join([intro, _(texts.SUPPORT_SAFETY_NET), *safety_net]))]
    replies.append(Reply("\n".join([_(texts.SUPPORT_NATIONAL), *national])))
    if area is not None:
        replies.append(Reply("\n".join(local_lines(area, found.local))))
    if in_treatment and "work" in needs:
        replies.append(Reply(_(texts.SUPPORT_IPS)))
    replies.append(Reply(_(texts.SUPPORT_MORE_TOPICS), topics_keyboard()))
    follow_up = []
    if not answers:
        follow_up.append([keyboards.button(_(texts.BTN_TELL), Menu(MenuChoice.TELL, True))])
    if area is None:
        follow_up.append(
            [keyboards.button(_(texts.BTN_JOBCENTRE), Menu(MenuChoice.JOBCENTRE, True))]
        )
    follow_up.append([keyboards.button(_(texts.BTN_MENTOR), Menu(MenuChoice.MENTOR, True))])
    if not answers:
        closing = _(texts.SUPPORT_TELL_MORE)
    elif area is None:
        closing = _(texts.SUPPORT_NO_AREA)
    else:
        closing = _(texts.MENU)
    replies.append(Reply(closing, keyboards.with_menu(follow_up)))
    event("support.shown", matched=int(bool(substances or needs)), local=int(bool(found.local)))
    return replies


def topic_replies(topic: Topic) -> list[Reply]:
    """Help on one topic: what it is for, then each service."""
    lines = [_(texts.SUPPORT_TOPIC_INTRO[topic.value]), *map(describe, services_on(topic))]
    back = keyboards.with_menu(
        [[keyboards.button(_(texts.BTN_SUPPORT), Menu(MenuChoice.SUPPORT))]], in_place=False
    )
    return [Reply("\n".join(lines), back)]


def office_area(office: Office | None) -> str | None:
    return office.local_authority if office is not None else None


async def show_support(update: Update, context: Context, tx: PersonTransaction) -> Outcome:
    """/support and the menu button: near the office they chose, if they chose one."""
    person = tx.person
    assert person is not None
    office = office_by_id(person.draft.office) if person.draft.office is not None else None
    return Outcome.say(*support_replies(await tx.disclosures(), office_area(office)))


async def show_support_near(tx: PersonTransaction, office_id: str) -> Outcome:
    """Support near an office the finder showed: used for this answer, not kept."""
    area = office_area(office_by_id(office_id))
    return Outcome.say(*support_replies(await tx.disclosures(), area))


async def show_support_in(tx: PersonTransaction, authority_code: str) -> Outcome:
    """Support in a council area the finder named (inside the pilot or not): not kept."""
    found = authority(authority_code)
    area = found.name if found is not None else None
    return Outcome.say(*support_replies(await tx.disclosures(), area))


async def on_button(
    update: Update, context: Context, tx: PersonTransaction, button: Button | None
) -> Outcome:
    """A topic's button (`callbacks.SupportTopic`)."""
    person = tx.person
    assert person is not None
    if isinstance(button, SupportTopic) and button.topic in {t.value for t in TOPICS}:
        event("support.topic", topic=button.topic)
        return Outcome.say(*topic_replies(Topic(button.topic)))
    return stale(context, person)


FLOW = Flow(
    name="support",
    commands={"support": show_support},
    buttons={Family.SUPPORT: on_button},
    menu={MenuChoice.SUPPORT: show_support},
)
