"""Finding the nearest pilot Jobcentre: a postcode (full, first half or sector), a town
name (typos forgiven), a shared location, or browsing by region.

The place is used for the lookup and forgotten: no postcode, coordinate or place name
is ever written anywhere. Outside the pilot, the answer says so honestly and points to
national support.
"""

from __future__ import annotations

import unicodedata
from dataclasses import replace

from telegram import (
    InlineKeyboardMarkup,
    KeyboardButton,
    ReplyKeyboardMarkup,
    ReplyKeyboardRemove,
    Update,
)

from conversations import keyboards, texts
from conversations.callbacks import (
    Button,
    Family,
    FinderAgain,
    FinderRegion,
    FinderRegions,
    MentorAt,
    Menu,
    MenuChoice,
    SupportNear,
)
from conversations.common import event
from conversations.context import Context
from conversations.outcome import Outcome, Reply
from conversations.person.support import show_support_near
from conversations.registry import Flow, Input, OnLeave, stale
from conversations.steps import Step
from storage.directory import (
    FinderResult,
    OfficeMatch,
    PlaceError,
    find_offices,
    find_offices_at,
    office_by_id,
    offices_by_region,
    osm_link,
)
from storage.repositories.people import PersonTransaction


def location_keyboard() -> ReplyKeyboardMarkup:
    return ReplyKeyboardMarkup(
        [[KeyboardButton(texts.BTN_SHARE_LOCATION, request_location=True)]],
        resize_keyboard=True,
        one_time_keyboard=True,
    )


def browse_keyboard() -> InlineKeyboardMarkup:
    return keyboards.with_menu([[keyboards.button(texts.BTN_REGIONS, FinderRegions())]])


def regions() -> list[str]:
    return sorted(offices_by_region())


def regions_keyboard() -> InlineKeyboardMarkup:
    return keyboards.with_menu(
        [[keyboards.button(name, FinderRegion(index))] for index, name in enumerate(regions())]
    )


def ask_place() -> tuple[Reply, ...]:
    return (
        Reply(texts.FINDER_ASK, location_keyboard()),
        Reply(texts.FINDER_BROWSE, browse_keyboard()),
    )


def mentor_keyboard(
    offices: list[str], names: dict[str, str], *, support_near: str | None = None
) -> InlineKeyboardMarkup:
    """A mentor at each office, support near the nearest one, and a new search."""
    near = (
        [[keyboards.button(texts.BTN_SUPPORT_NEAR, SupportNear(support_near))]]
        if support_near
        else []
    )
    return keyboards.with_menu(
        [
            *[
                [
                    keyboards.button(
                        texts.BTN_MENTOR_AT.format(name=names[office_id]), MentorAt(office_id)
                    )
                ]
                for office_id in offices
            ],
            *near,
            [keyboards.button(texts.BTN_TRY_AGAIN, FinderAgain())],
        ]
    )


def outside_keyboard() -> InlineKeyboardMarkup:
    return keyboards.with_menu(
        [
            [keyboards.button(texts.BTN_SUPPORT, Menu(MenuChoice.SUPPORT))],
            [keyboards.button(texts.BTN_TRY_AGAIN, FinderAgain())],
        ]
    )


def describe(matches: tuple[OfficeMatch, ...]) -> str:
    return "\n\n".join(
        texts.FINDER_OFFICE.format(
            number=number,
            name=match.office.name,
            address=match.office.address,
            miles=f"{match.miles:g}",
            map_url=match.map_url,
        )
        for number, match in enumerate(matches, start=1)
    )


def result_replies(result: FinderResult) -> list[Reply]:
    """The answer: offices with distance and map link, honest notes, and next steps."""
    if not result.in_pilot:
        # Say the hard part first and plainly, then what they can still do.
        closest = result.offices[0]
        outside = texts.FINDER_OUTSIDE.format(
            name=closest.office.name, miles=f"{closest.miles:g}", map_url=closest.map_url
        )
        return [
            Reply(outside, ReplyKeyboardRemove()),
            Reply(texts.FINDER_OUTSIDE_NEXT, outside_keyboard()),
        ]
    heading = (
        texts.FINDER_RESULTS.format(place=result.place.name)
        if result.place is not None
        else texts.FINDER_RESULTS_HERE
    )
    replies = [Reply(f"{heading}\n\n{describe(result.offices)}", ReplyKeyboardRemove())]
    notes = [texts.FINDER_CHECK]
    if result.corrected and result.place is not None:
        notes.insert(0, texts.FINDER_CORRECTED.format(place=result.place.name))
    if result.area_office_unverified and result.pilot_area:
        notes.insert(0, texts.FINDER_UNVERIFIED_AREA.format(area=result.pilot_area))
    replies.append(Reply("\n\n".join(notes)))
    names = {match.office.office_id: match.office.name for match in result.offices}
    nearest = result.offices[0].office.office_id
    replies.append(
        Reply(texts.FINDER_NEXT, mentor_keyboard(list(names), names, support_near=nearest))
    )
    return replies


def visible(text: str) -> str:
    """The text without invisible characters (zero-width spaces and the like)."""
    return "".join(ch for ch in text if unicodedata.category(ch) != "Cf")


async def begin(update: Update, context: Context, tx: PersonTransaction) -> Outcome:
    """/jobcentre and the menu button."""
    await tx.move(Step.FINDER_PLACE)
    event("finder.begin")
    return Outcome.say(*ask_place())


async def on_place_text(update: Update, context: Context, tx: PersonTransaction) -> Outcome:
    message = update.message
    assert message is not None and message.text is not None
    found = find_offices(visible(message.text))
    if isinstance(found, PlaceError):
        event("finder.not_found", reason=found.reason.value)
        return Outcome.say(Reply(texts.FINDER_ERROR[found.reason.value], browse_keyboard()))
    await tx.move(Step.MENU)
    event("finder.found", in_pilot=int(found.in_pilot))
    return Outcome.say(*result_replies(found))


async def on_location(update: Update, context: Context, tx: PersonTransaction) -> Outcome:
    """A shared location, at the finder or anywhere else: answer, keep nothing."""
    message = update.message
    assert message is not None and message.location is not None
    found = find_offices_at(message.location.latitude, message.location.longitude)
    if tx.person is not None and tx.person.state == Step.FINDER_PLACE:
        await tx.move(Step.MENU)
    event("finder.found_by_location", in_pilot=int(found.in_pilot))
    return Outcome.say(*result_replies(found))


async def on_button(
    update: Update, context: Context, tx: PersonTransaction, button: Button | None
) -> Outcome:
    """Search again, support near an office, browse by region (`callbacks.Finder*`)."""
    person = tx.person
    assert person is not None
    if isinstance(button, FinderAgain):
        return await begin(update, context, tx)
    if isinstance(button, SupportNear) and office_by_id(button.office) is not None:
        return await show_support_near(tx, button.office)
    if isinstance(button, FinderRegions):
        return Outcome.say(Reply(texts.FINDER_REGIONS, regions_keyboard()))
    if isinstance(button, FinderRegion):
        names = regions()
        if button.index >= len(names):
            return stale(context, person)
        region = names[button.index]
        offices = offices_by_region()[region]
        listing = "\n\n".join(
            texts.FINDER_OFFICE_IN_REGION.format(
                number=number,
                name=office.name,
                address=office.address,
                map_url=osm_link(office.lat or 0.0, office.lon or 0.0),
            )
            for number, office in enumerate(offices, start=1)
        )
        by_id = {office.office_id: office.name for office in offices}
        return Outcome.say(
            Reply(f"{texts.FINDER_REGION_OFFICES.format(region=region)}\n\n{listing}"),
            Reply(texts.FINDER_CHECK),
            Reply(texts.FINDER_NEXT, mentor_keyboard(list(by_id), by_id)),
        )
    return stale(context, person)


async def close_reply_keyboard(tx: PersonTransaction, outcome: Outcome) -> Outcome:
    """Leaving the finder: take its "Share my location" button away from the keyboard."""
    reply_keyboards = (ReplyKeyboardMarkup, ReplyKeyboardRemove)
    if any(isinstance(reply.markup, reply_keyboards) for reply in outcome.replies):
        return outcome
    replies = list(outcome.replies)
    for index, reply in enumerate(replies):
        if reply.markup is None:
            replies[index] = Reply(reply.text, ReplyKeyboardRemove())
            return replace(outcome, replies=tuple(replies))
    return outcome.first(Reply(texts.FINDER_CLOSED, ReplyKeyboardRemove()))


FLOW = Flow(
    name="jobcentre",
    commands={"jobcentre": begin},
    buttons={Family.FINDER: on_button},
    inputs={Input.LOCATION: on_location},
    menu={MenuChoice.JOBCENTRE: begin},
    prompts={Step.FINDER_PLACE: lambda person: ask_place()},
    text_steps={Step.FINDER_PLACE: on_place_text},
    on_leave=OnLeave(frozenset({Step.FINDER_PLACE}), close_reply_keyboard),
)
