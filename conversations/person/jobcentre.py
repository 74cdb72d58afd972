"""Your Jobcentre: is the person in the pilot, and which pilot Jobcentre is theirs?

People on benefits know where they sign on, so the first question is "Which Jobcentre
do you go to?": a name typed (searched, spelling forgiven only as "Did you mean …?"),
or an area then an office picked from buttons; a poster's office comes first. Those who
don't know say where they live instead: a postcode, part of one, a town, or a shared
location. Who is in the pilot is decided by their Jobcentre or by the local authority
they live in, never by distance. Where the answer is not certain (a postcode sector or a
spot across a council border, a name in two areas, a spelling that could be another
place), the person is asked, with buttons; nothing is taken silently.

Distances are said only where the bot knows them: from a postcode's sector centre or a
shared location, in whole miles "as the crow flies", never for towns or a Jobcentre
picked by name, and never for someone far away. The place is used for the answer and
forgotten: no postcode, coordinate or place name is written anywhere.
"""

from __future__ import annotations

import unicodedata
from dataclasses import replace

from telegram import (
    InlineKeyboardButton,
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
    FinderArea,
    FinderAreas,
    FinderAuthority,
    FinderOffice,
    FinderPlace,
    FinderRegion,
    FinderRegions,
    FinderWhere,
    MentorAt,
    MenuChoice,
    SupportIn,
    SupportNear,
)
from conversations.common import event
from conversations.context import Context
from conversations.i18n import _, _n
from conversations.outcome import REPLACE, Outcome, Reply
from conversations.person.support import show_support_in, show_support_near
from conversations.registry import Flow, Input, OnLeave, stale
from conversations.steps import Step
from storage.directory import (
    AreaLookup,
    Office,
    OfficeMatch,
    PilotAnswer,
    Place,
    PlaceError,
    PlaceKind,
    answer_for_authority,
    answer_for_office,
    authority,
    authority_named,
    locate_point,
    locate_text,
    office_by_id,
    offices_by_area,
    pilot_answer,
    search_offices,
)
from storage.repositories.people import PersonRecord, PersonTransaction

# "Did you mean …?" offers at most this many choices.
MAX_SUGGESTIONS = 6
FINDER_STEPS = frozenset({Step.FINDER_OFFICE, Step.FINDER_PLACE})
# At "Which Jobcentre?", these reasons are said as they are; any other miss is "no
# Jobcentre or place with that name".
KEPT_REASONS = frozenset({"empty", "too_long", "unknown_postcode", "too_broad"})

# --------------------------------------------------------------------------- keyboards


def location_keyboard() -> ReplyKeyboardMarkup:
    return ReplyKeyboardMarkup(
        [[KeyboardButton(_(texts.BTN_SHARE_LOCATION), request_location=True)]],
        resize_keyboard=True,
        one_time_keyboard=True,
    )


def browse_keyboard() -> InlineKeyboardMarkup:
    return keyboards.with_menu([[keyboards.button(_(texts.BTN_REGIONS), FinderAreas())]])


def office_button(office: Office) -> InlineKeyboardButton:
    return keyboards.button(
        _(texts.BTN_OFFICE).format(name=office.name), FinderOffice(office.office_id)
    )


def areas_keyboard(poster_office: Office | None = None) -> InlineKeyboardMarkup:
    """The pilot areas, two to a row; the poster's office first; "I don't know" last."""
    areas = [keyboards.button(area, FinderArea(area)) for area in offices_by_area()]
    first = [[office_button(poster_office)]] if poster_office is not None else []
    return keyboards.with_menu(
        [
            *first,
            *(areas[i : i + 2] for i in range(0, len(areas), 2)),
            [keyboards.button(_(texts.BTN_DONT_KNOW), FinderWhere())],
        ]
    )


def offices_keyboard(offices: tuple[Office, ...]) -> InlineKeyboardMarkup:
    """One button per Jobcentre, and "I don't know" for those it is none of."""
    return keyboards.with_menu(
        [
            *([office_button(office)] for office in offices),
            [keyboards.button(_(texts.BTN_DONT_KNOW), FinderWhere())],
        ]
    )


def place_label(place: Place) -> str:
    """ "Walton, Liverpool"; just "Westminster" for the place an authority is named after."""
    if place.name.casefold() == place.authority.name.casefold():
        return place.authority.name
    return _(texts.BTN_PLACE_IN).format(place=place.name, authority=place.authority.name)


def places_keyboard(places: tuple[Place, ...]) -> InlineKeyboardMarkup:
    """A named place in each authority it may be."""
    return keyboards.with_menu(
        [
            *(
                [
                    keyboards.button(
                        place_label(place), FinderPlace(place.authority.code, place.name)
                    )
                ]
                for place in places
            ),
            [keyboards.button(_(texts.BTN_TRY_AGAIN), FinderAgain())],
        ]
    )


def authorities_keyboard(lookup: AreaLookup) -> InlineKeyboardMarkup:
    return keyboards.with_menu(
        [
            *(
                [keyboards.button(found.name, FinderAuthority(found.code))]
                for found in lookup.authorities
            ),
            [keyboards.button(_(texts.BTN_TRY_AGAIN), FinderAgain())],
        ]
    )


def mentor_keyboard(
    offices: list[str], names: dict[str, str], *, support_near: str | None = None
) -> InlineKeyboardMarkup:
    """A mentor at each office, support near the first one, and a new search."""
    near = (
        [[keyboards.button(_(texts.BTN_SUPPORT_NEAR), SupportNear(support_near))]]
        if support_near
        else []
    )
    return keyboards.with_menu(
        [
            *[
                [
                    keyboards.button(
                        _(texts.BTN_MENTOR_AT).format(name=names[office_id]), MentorAt(office_id)
                    )
                ]
                for office_id in offices
            ],
            *near,
            [keyboards.button(_(texts.BTN_TRY_AGAIN), FinderAgain())],
        ]
    )


def outside_keyboard(authority_code: str) -> InlineKeyboardMarkup:
    """Outside the pilot: support where they live, the pilot's Jobcentres (for someone
    who signs on at one), a new search. Never a mentor."""
    return keyboards.with_menu(
        [
            [keyboards.button(_(texts.BTN_SUPPORT_WHERE_I_LIVE), SupportIn(authority_code))],
            [keyboards.button(_(texts.BTN_REGIONS), FinderAreas())],
            [keyboards.button(_(texts.BTN_TRY_AGAIN), FinderAgain())],
        ]
    )


# ----------------------------------------------------------------------------- prompts


def ask_office(person: PersonRecord | None = None) -> tuple[Reply, ...]:
    """The first question; a poster's office (a `/start jc_…` link) is the first button."""
    office_id = person.draft.office if person is not None else None
    poster = office_by_id(office_id) if office_id is not None else None
    return (Reply(_(texts.FINDER_ASK_OFFICE), areas_keyboard(poster)),)


def ask_place() -> tuple[Reply, ...]:
    return (
        Reply(_(texts.FINDER_ASK), location_keyboard()),
        Reply(_(texts.FINDER_BROWSE), browse_keyboard()),
    )


# ----------------------------------------------------------------------------- answers


def distance(match: OfficeMatch) -> str | None:
    """ "About 3 miles away, as the crow flies", only where the bot measured it."""
    if match.miles is None:
        return None
    miles = int(match.miles)
    return _n(texts.FINDER_MILES, miles).format(miles=miles)


def describe(matches: tuple[OfficeMatch, ...]) -> str:
    parts = []
    for number, match in enumerate(matches, start=1):
        office, measured = match.office, distance(match)
        values = {"number": number, "name": office.name, "address": office.address}
        if measured is None:
            parts.append(_(texts.FINDER_OFFICE).format(map_url=match.map_url, **values))
        else:
            parts.append(
                _(texts.FINDER_OFFICE_MEASURED).format(
                    map_url=match.map_url, distance=measured, **values
                )
            )
    return "\n\n".join(parts)


def outside_replies(answer: PilotAnswer) -> list[Reply]:
    """Plainly first, then what they can still do; the nearest pilot office only as
    information (never when far), and never a mentor."""
    found = answer.authority
    replies = [Reply(_(texts.FINDER_OUTSIDE).format(authority=found.name), ReplyKeyboardRemove())]
    nearest = answer.nearest_pilot_office
    if nearest is not None:
        office, measured = nearest.office, distance(nearest)
        if measured is None:
            note = _(texts.FINDER_OUTSIDE_NEAREST).format(name=office.name, address=office.address)
        else:
            note = _(texts.FINDER_OUTSIDE_NEAREST_MEASURED).format(
                name=office.name, address=office.address, distance=measured
            )
        replies.append(Reply(f"{note}\n\n{_(texts.FINDER_OUTSIDE_SIGN_ON)}"))
    replies.append(Reply(_(texts.FINDER_OUTSIDE_NEXT), outside_keyboard(found.code)))
    return replies


def answer_replies(answer: PilotAnswer, *, corrected: Place | None = None) -> list[Reply]:
    """The answer for an authority: its pilot Jobcentres, or plainly that it is outside."""
    if not answer.in_pilot:
        return outside_replies(answer)
    heading = _(texts.FINDER_IN_PILOT).format(authority=answer.authority.name)
    notes = [_(texts.FINDER_ROUTE_AREA), _(texts.FINDER_CHECK)]
    if answer.area_office_unverified:
        notes.insert(0, _(texts.FINDER_UNVERIFIED_AREA).format(authority=answer.authority.name))
    if corrected is not None:
        notes.insert(
            0,
            _(texts.FINDER_CORRECTED).format(place=corrected.name, authority=answer.authority.name),
        )
    # The answer is one message that stays (its addresses are worth reading again); the
    # question that follows is its own, so the next step can take its place.
    answer_text = "\n\n".join([heading, describe(answer.offices), *notes])
    replies = [Reply(answer_text, ReplyKeyboardRemove())]
    names = {match.office.office_id: match.office.name for match in answer.offices}
    first = answer.offices[0].office.office_id
    replies.append(
        Reply(_(texts.FINDER_NEXT), mentor_keyboard(list(names), names, support_near=first))
    )
    return replies


def office_replies(office: Office, answer: PilotAnswer) -> list[Reply]:
    """The person's own Jobcentre: no distance (they know where it is), the pilot route."""
    match = answer.offices[0]
    card = _(texts.FINDER_YOUR_OFFICE).format(
        name=office.name, address=office.address, map_url=match.map_url
    )
    notes = [
        _(texts.FINDER_OFFICE_IN_PILOT).format(authority=answer.authority.name),
        _(texts.FINDER_ROUTE_OFFICE),
        _(texts.FINDER_CHECK),
    ]
    names = {office.office_id: office.name}
    return [
        Reply("\n\n".join([card, *notes]), ReplyKeyboardRemove()),
        Reply(
            _(texts.FINDER_NEXT_OFFICE),
            mentor_keyboard([office.office_id], names, support_near=office.office_id),
        ),
    ]


async def answered(tx: PersonTransaction, replies: list[Reply], **counts: int) -> Outcome:
    """An answer ends the search (back at the menu's step, if the person was in it);
    nothing about the place is kept."""
    person = tx.person
    if person is not None and person.state in FINDER_STEPS:
        await tx.move(Step.MENU)
    event("finder.answered", **counts)
    return Outcome.say(*replies)


async def show_office(tx: PersonTransaction, office_id: str) -> Outcome:
    office = office_by_id(office_id)
    answer = answer_for_office(office_id) if office is not None else None
    if office is None or answer is None:
        person = tx.person
        assert person is not None
        return Outcome.say(_(texts.MENTOR_OFFICE_GONE), *ask_office(person))
    return await answered(tx, office_replies(office, answer), in_pilot=1, by_office=1)


async def show_offices(
    tx: PersonTransaction, offices: tuple[Office, ...], unverified: bool
) -> Outcome:
    """Jobcentres found by name: the one, or a choice among several. A named office whose
    address is not checked (Cosham): the pilot Jobcentres of its area, saying so."""
    if unverified:
        found = authority_named(offices[0].local_authority)
        answer = answer_for_authority(found.code) if found is not None else None
        if answer is not None:
            answer = replace(answer, area_office_unverified=True)
            return await answered(tx, answer_replies(answer), in_pilot=1, unverified=1)
    if len(offices) == 1:
        return await show_office(tx, offices[0].office_id)
    event("finder.offices_to_pick", offices=len(offices))
    return Outcome.say(Reply(_(texts.FINDER_WHICH_OFFICE), offices_keyboard(offices)))


async def show_lookup(tx: PersonTransaction, lookup: AreaLookup) -> Outcome:
    """Where the person is: decided (the answer), or a question with buttons."""
    if lookup.authority is not None:
        answer = pilot_answer(lookup)
        corrected = lookup.places[0] if lookup.corrected and lookup.places else None
        return await answered(
            tx,
            answer_replies(answer, corrected=corrected),
            in_pilot=int(answer.in_pilot),
            measured=int(any(m.miles is not None for m in answer.offices)),
        )
    if lookup.authorities and lookup.kind is PlaceKind.NAMED:
        event("finder.asked", why="name_in_several_areas")
        place = lookup.places[0].name if lookup.places else ""
        question = _(texts.FINDER_WHICH_PLACE).format(place=place)
        return Outcome.say(Reply(question, places_keyboard(lookup.places)))
    if lookup.authorities:
        event("finder.asked", why="across_a_boundary")
        question = (
            _(texts.FINDER_WHICH_AREA_HERE)
            if lookup.kind is PlaceKind.LOCATION
            else _(texts.FINDER_WHICH_AREA)
        )
        return Outcome.say(Reply(question, authorities_keyboard(lookup)))
    event("finder.asked", why="did_you_mean")
    suggestions = lookup.suggestions[:MAX_SUGGESTIONS]
    return Outcome.say(Reply(_(texts.FINDER_DID_YOU_MEAN), places_keyboard(suggestions)))


def visible(text: str) -> str:
    """The text without invisible characters (zero-width spaces and the like)."""
    return "".join(ch for ch in text if unicodedata.category(ch) != "Cf")


# ------------------------------------------------------------------------------- steps


async def begin(update: Update, context: Context, tx: PersonTransaction) -> Outcome:
    """/jobcentre and the menu button: "Which Jobcentre do you go to?"."""
    await tx.move(Step.FINDER_OFFICE)
    event("finder.begin")
    return Outcome.say(*ask_office(tx.person))


async def ask_where(tx: PersonTransaction) -> Outcome:
    await tx.move(Step.FINDER_PLACE)
    event("finder.where")
    return Outcome.say(*ask_place())


async def on_office_text(update: Update, context: Context, tx: PersonTransaction) -> Outcome:
    """A Jobcentre's name; failing that, a postcode or place (people type those too)."""
    message = update.message
    assert message is not None and message.text is not None
    typed = visible(message.text)
    offices = search_offices(typed)
    if offices.offices:
        return await show_offices(tx, offices.offices, offices.area_office_unverified)
    found = locate_text(typed)
    if isinstance(found, AreaLookup) and found.authorities:
        return await show_lookup(tx, found)
    office_guesses = offices.suggestions
    place_guesses = found.suggestions if isinstance(found, AreaLookup) else ()
    if office_guesses or place_guesses:
        event("finder.asked", why="did_you_mean")
        rows = [[office_button(office)] for office in office_guesses]
        places = places_keyboard(place_guesses[: max(0, MAX_SUGGESTIONS - len(rows))])
        markup = InlineKeyboardMarkup([*rows, *places.inline_keyboard])
        return Outcome.say(Reply(_(texts.FINDER_DID_YOU_MEAN), markup))
    reason = "no_office"
    if isinstance(found, PlaceError) and found.reason.value in KEPT_REASONS:
        reason = found.reason.value
    event("finder.not_found", reason=reason)
    return Outcome.say(Reply(_(texts.FINDER_ERROR[reason]), areas_keyboard()))


async def on_place_text(update: Update, context: Context, tx: PersonTransaction) -> Outcome:
    """A postcode, part of one, or a place name."""
    message = update.message
    assert message is not None and message.text is not None
    found = locate_text(visible(message.text))
    if isinstance(found, PlaceError):
        event("finder.not_found", reason=found.reason.value)
        return Outcome.say(Reply(_(texts.FINDER_ERROR[found.reason.value]), browse_keyboard()))
    return await show_lookup(tx, found)


async def on_location(update: Update, context: Context, tx: PersonTransaction) -> Outcome:
    """A shared location, at the finder or anywhere else: answer, keep nothing."""
    message = update.message
    assert message is not None and message.location is not None
    lookup = locate_point(message.location.latitude, message.location.longitude)
    return await show_lookup(tx, lookup)


async def on_place_button(tx: PersonTransaction, button: FinderPlace) -> Outcome | None:
    """A place picked from "Did you mean …?" or from a name in several areas."""
    found = locate_text(button.name)
    if not isinstance(found, AreaLookup) or found.corrected:
        return None
    chosen = next((a for a in found.authorities if a.code == button.authority), None)
    if chosen is None:
        return None
    answer = pilot_answer(found, chosen.code)
    return await answered(tx, answer_replies(answer), in_pilot=int(answer.in_pilot), picked=1)


async def on_button(
    update: Update, context: Context, tx: PersonTransaction, button: Button | None
) -> Outcome:
    """The finder's buttons (`callbacks.Finder*`, `SupportNear`, `SupportIn`). Each is on
    a question or on "what next?", never on an answer: the next step takes its place."""
    person = tx.person
    assert person is not None
    outcome = await _finder_step(update, context, tx, button)
    if outcome is None:
        return stale(context, person)
    return outcome.with_pressed(REPLACE)


async def _finder_step(
    update: Update, context: Context, tx: PersonTransaction, button: Button | None
) -> Outcome | None:
    """What a finder button leads to (None: nothing it can still do)."""
    if isinstance(button, FinderAgain):
        return await begin(update, context, tx)
    if isinstance(button, FinderWhere):
        return await ask_where(tx)
    if isinstance(button, FinderAreas | FinderRegions | FinderRegion):
        await tx.move(Step.FINDER_OFFICE)
        return Outcome.say(Reply(_(texts.FINDER_REGIONS), areas_keyboard()))
    if isinstance(button, FinderArea):
        offices = offices_by_area().get(button.area)
        if offices:
            if len(offices) == 1:
                return await show_office(tx, offices[0].office_id)
            await tx.move(Step.FINDER_OFFICE)
            lead = _(texts.FINDER_AREA_OFFICES).format(area=button.area)
            return Outcome.say(Reply(lead, offices_keyboard(offices)))
    if isinstance(button, FinderOffice):
        return await show_office(tx, button.office)
    if isinstance(button, FinderPlace):
        outcome = await on_place_button(tx, button)
        if outcome is not None:
            return outcome
    if isinstance(button, FinderAuthority):
        answer = answer_for_authority(button.authority)
        if answer is not None:
            return await answered(
                tx, answer_replies(answer), in_pilot=int(answer.in_pilot), picked=1
            )
    if isinstance(button, SupportNear) and office_by_id(button.office) is not None:
        return await show_support_near(tx, button.office)
    if isinstance(button, SupportIn) and authority(button.authority) is not None:
        return await show_support_in(tx, button.authority)
    return None


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
    return outcome.first(Reply(_(texts.FINDER_CLOSED), ReplyKeyboardRemove()))


def prompt_place(person: PersonRecord) -> tuple[Reply, ...]:
    return ask_place()


FLOW = Flow(
    name="jobcentre",
    commands={"jobcentre": begin},
    buttons={Family.FINDER: on_button},
    inputs={Input.LOCATION: on_location},
    menu={MenuChoice.JOBCENTRE: begin},
    prompts={Step.FINDER_OFFICE: ask_office, Step.FINDER_PLACE: prompt_place},
    text_steps={Step.FINDER_OFFICE: on_office_text, Step.FINDER_PLACE: on_place_text},
    on_leave=OnLeave(FINDER_STEPS, close_reply_keyboard),
)
