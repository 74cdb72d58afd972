"""Your Jobcentre (issue 14 items 1-3), through the emulator as a person would.

"Which Jobcentre do you go to?" comes first; those who don't know give a postcode, a
town or a location. Who is in the pilot follows the Jobcentre or the council area, never
the distance; anything uncertain is asked with buttons; a distance is said only where
the bot measured it. Whatever the person types or shares is used and forgotten.
"""

from __future__ import annotations

import re

import pytest

from conversations import texts
from conversations.steps import Step
from storage.directory import office_by_id, offices_by_area
from storage.repositories.person_draft import Draft
from tests.support.dbscan import all_rows, cells_containing, files_containing, sqlite_files
from tests.support.harness import Harness
from tests.support.journeys import reach

ALEX = 7_700_000_101
KENTISH_TOWN = "kentish-town-road"
CROW = "as the crow flies"


def listed_offices(listing: str) -> list[str]:
    """Office names in listing order: the lines numbered "1. ", "2. "…"""
    return [m[1] for m in re.finditer(r"^\d+\. (.+)$", listing, flags=re.MULTILINE)]


def answer_for(harness: Harness, authority: str) -> str:
    """The newest "is in the pilot" answer naming `authority`."""
    heading = texts.FINDER_IN_PILOT.format(authority=authority)
    return next(t for t in reversed(harness.texts(ALEX)) if t.startswith(heading))


def mentor_buttons(harness: Harness) -> list[str]:
    return [b for b in harness.emu.button_texts(ALEX) if b.startswith("🤝")]


def said_since(harness: Harness, before: int) -> str:
    return "\n".join(harness.texts(ALEX)[before:])


# ------------------------------------------------------------ item 1: who it is for


async def test_the_first_question_is_which_jobcentre_with_the_pilot_areas(
    harness: Harness,
) -> None:
    await reach(harness, ALEX, Step.FINDER_OFFICE)
    assert harness.last_text(ALEX).startswith("Which Jobcentre do you go to?")
    buttons = harness.emu.button_texts(ALEX)
    assert set(offices_by_area()) <= set(buttons)
    assert texts.BTN_DONT_KNOW in buttons
    assert harness.emu.reply_keyboard(ALEX) == [], "no location button until they need it"


async def test_a_jobcentre_typed_by_name_is_the_answer_with_no_distance(
    harness: Harness,
) -> None:
    await reach(harness, ALEX, Step.FINDER_OFFICE)
    before = len(harness.texts(ALEX))
    await harness.send(ALEX, "kentish town jobcentre")
    said = said_since(harness, before)
    assert said.startswith("📍 Kentish Town Jobcentre\n178 Kentish Town Road")
    assert texts.FINDER_OFFICE_IN_PILOT.format(authority="Camden") in said
    assert texts.FINDER_ROUTE_OFFICE in said, "the route runs through their work coach"
    assert "miles" not in said
    assert mentor_buttons(harness) == [texts.BTN_MENTOR_AT.format(name="Kentish Town Jobcentre")]
    assert await harness.state(ALEX) == Step.MENU


async def test_an_area_then_an_office_picked_with_buttons(harness: Harness) -> None:
    await reach(harness, ALEX, Step.FINDER_OFFICE)
    await harness.press(ALEX, "Lambeth")
    assert harness.last_text(ALEX) == texts.FINDER_AREA_OFFICES.format(area="Lambeth")
    lambeth = [office.name for office in offices_by_area()["Lambeth"]]
    assert [texts.BTN_OFFICE.format(name=name) for name in lambeth] == [
        b for b in harness.emu.button_texts(ALEX) if b.startswith("📍")
    ]
    await harness.press(ALEX, texts.BTN_OFFICE.format(name="Streatham Jobcentre"))
    assert "📍 Streatham Jobcentre" in harness.all_text(ALEX)
    assert mentor_buttons(harness) == [texts.BTN_MENTOR_AT.format(name="Streatham Jobcentre")]
    # An area with one office answers at once.
    await harness.press(ALEX, texts.BTN_TRY_AGAIN)
    await harness.press(ALEX, "Hull")
    assert "📍 Hull Britannia House Jobcentre" in harness.all_text(ALEX)


async def test_the_poster_office_is_the_first_choice(harness: Harness) -> None:
    await harness.send(ALEX, f"/start jc_{KENTISH_TOWN}")
    await harness.press(ALEX, texts.BTN_CONTINUE)
    await harness.press(ALEX, texts.BTN_JOBCENTRE)
    office = office_by_id(KENTISH_TOWN)
    assert office is not None
    assert harness.emu.button_texts(ALEX)[0] == texts.BTN_OFFICE.format(name=office.name)
    await harness.press(ALEX, texts.BTN_OFFICE.format(name=office.name))
    assert mentor_buttons(harness) == [texts.BTN_MENTOR_AT.format(name=office.name)]


async def test_a_mentor_request_asks_which_jobcentre_first(harness: Harness) -> None:
    await harness.onboard(ALEX)
    await harness.press(ALEX, texts.BTN_MENTOR)
    assert harness.texts(ALEX)[-2:] == [texts.MENTOR_FIND_OFFICE_FIRST, texts.FINDER_ASK_OFFICE]
    await harness.send(ALEX, "Bootle")
    await harness.press(ALEX, texts.BTN_MENTOR_AT.format(name="Bootle Jobcentre (Bootle Park)"))
    assert texts.MENTOR_ABOUT in harness.all_text(ALEX)
    person = await harness.record(ALEX)
    assert person is not None and person.draft.office == "bootle-stanley-road"


async def test_outside_the_pilot_is_said_plainly_with_support_and_never_a_mentor(
    harness: Harness,
) -> None:
    """Southwark borders Lambeth: outside, however near. The nearest pilot office is
    information only, and nothing hints that the pilot is coming."""
    await reach(harness, ALEX, Step.FINDER_PLACE)
    before = len(harness.texts(ALEX))
    await harness.send(ALEX, "SE1 0AA")
    said = said_since(harness, before)
    assert said.startswith(texts.FINDER_OUTSIDE.format(authority="Southwark"))
    assert "Just so you know, the nearest pilot Jobcentre is" in said and CROW in said
    assert " yet" not in said and "not near you" not in said
    assert mentor_buttons(harness) == []
    assert harness.emu.reply_keyboard(ALEX) == []
    await harness.press(ALEX, texts.BTN_SUPPORT_WHERE_I_LIVE)
    support = harness.all_text(ALEX)
    assert "Samaritans" in support
    assert "We don't know a local drug and alcohol service for Southwark." in support
    assert "Ask your GP, or call FRANK on 0300 123 6600" in support


async def test_someone_who_signs_on_in_the_pilot_can_still_pick_their_jobcentre(
    harness: Harness,
) -> None:
    await reach(harness, ALEX, Step.FINDER_PLACE)
    await harness.send(ALEX, "Warrington")
    assert texts.FINDER_OUTSIDE.format(authority="Warrington") in harness.all_text(ALEX)
    await harness.press(ALEX, texts.BTN_REGIONS)
    await harness.press(ALEX, "Halton")
    assert "📍 Widnes Jobcentre" in harness.all_text(ALEX)
    assert mentor_buttons(harness) == [texts.BTN_MENTOR_AT.format(name="Widnes Jobcentre")]


async def test_a_postcode_sector_across_a_boundary_is_asked_about(harness: Harness) -> None:
    await reach(harness, ALEX, Step.FINDER_PLACE)
    await harness.send(ALEX, "HU12 8")
    assert harness.last_text(ALEX) == texts.FINDER_WHICH_AREA
    assert {"Kingston upon Hull", "East Riding of Yorkshire"} <= set(harness.emu.button_texts(ALEX))
    assert await harness.state(ALEX) == Step.FINDER_PLACE, "nothing decided yet"
    await harness.press(ALEX, "East Riding of Yorkshire")
    assert texts.FINDER_OUTSIDE.format(authority="East Riding of Yorkshire") in harness.texts(ALEX)
    assert mentor_buttons(harness) == []
    # The full postcode decides it.
    await harness.press(ALEX, texts.BTN_TRY_AGAIN)
    await harness.send(ALEX, "HU12 8YJ")
    assert listed_offices(answer_for(harness, "Kingston upon Hull"))


async def test_a_place_in_the_pilot_lists_its_offices_and_the_route(harness: Harness) -> None:
    await reach(harness, ALEX, Step.FINDER_PLACE)
    await harness.send(ALEX, "Stepney Green")
    listing = answer_for(harness, "Tower Hamlets")
    assert listed_offices(listing) == [o.name for o in offices_by_area()["Tower Hamlets"]]
    assert texts.FINDER_ROUTE_AREA in harness.all_text(ALEX)
    assert await harness.state(ALEX) == Step.MENU


async def test_cosham_says_its_office_is_unchecked_and_lists_portsmouth(
    harness: Harness,
) -> None:
    await reach(harness, ALEX, Step.FINDER_OFFICE)
    await harness.send(ALEX, "Cosham")
    said = harness.all_text(ALEX)
    assert texts.FINDER_UNVERIFIED_AREA.format(authority="Portsmouth") in said
    assert listed_offices(answer_for(harness, "Portsmouth")) == ["Portsmouth Jobcentre"]


# --------------------------------------------------------- item 2: places people type


async def test_a_fuzzy_name_that_could_change_the_area_is_offered_never_taken(
    harness: Harness,
) -> None:
    await reach(harness, ALEX, Step.FINDER_PLACE)
    before = len(harness.texts(ALEX))
    await harness.send(ALEX, "Whalton")
    assert harness.texts(ALEX)[before:] == [texts.FINDER_DID_YOU_MEAN]
    buttons = harness.emu.button_texts(ALEX)
    walton = texts.BTN_PLACE_IN.format(place="Walton", authority="Liverpool")
    halton = "Halton"  # the place an authority is named after: its name alone
    assert walton in buttons and halton in buttons
    assert await harness.state(ALEX) == Step.FINDER_PLACE
    await harness.press(ALEX, walton)
    assert listed_offices(answer_for(harness, "Liverpool"))
    assert await harness.state(ALEX) == Step.MENU


async def test_a_name_in_two_areas_is_asked_about(harness: Harness) -> None:
    await reach(harness, ALEX, Step.FINDER_PLACE)
    await harness.send(ALEX, "Kensington")
    assert harness.last_text(ALEX) == texts.FINDER_WHICH_PLACE.format(place="Kensington")
    chelsea = texts.BTN_PLACE_IN.format(place="Kensington", authority="Kensington and Chelsea")
    await harness.press(ALEX, chelsea)
    assert texts.FINDER_OUTSIDE.format(authority="Kensington and Chelsea") in harness.texts(ALEX)
    await harness.press(ALEX, texts.BTN_TRY_AGAIN)
    await harness.send(ALEX, "Walton")
    buttons = harness.emu.button_texts(ALEX)
    assert texts.BTN_PLACE_IN.format(place="Walton", authority="Liverpool") in buttons
    assert not [b for b in buttons if "Halton" in b], "Walton is never Halton"


@pytest.mark.parametrize(
    ("typed", "authority"),
    [("Tipner", "Portsmouth"), ("Blowick", "Sefton"), ("Dairycoates", "Kingston upon Hull")],
)
async def test_a_neighbourhood_only_os_open_names_knows_is_answered(
    harness: Harness, typed: str, authority: str
) -> None:
    """Names in neither kept list, that ward and MSOA names do not carry (unknown on the
    gazetteer of ward and MSOA names alone)."""
    await reach(harness, ALEX, Step.FINDER_PLACE)
    await harness.send(ALEX, typed)
    assert listed_offices(answer_for(harness, authority))
    assert await harness.state(ALEX) == Step.MENU


async def test_a_pilot_suburb_named_like_a_suburb_elsewhere_is_asked_pilot_first(
    harness: Harness,
) -> None:
    await reach(harness, ALEX, Step.FINDER_PLACE)
    await harness.send(ALEX, "Buckland")
    assert harness.last_text(ALEX) == texts.FINDER_WHICH_PLACE.format(place="Buckland")
    buttons = harness.emu.button_texts(ALEX)
    portsmouth = texts.BTN_PLACE_IN.format(place="Buckland", authority="Portsmouth")
    dover = texts.BTN_PLACE_IN.format(place="Buckland", authority="Dover")
    assert buttons.index(portsmouth) < buttons.index(dover)
    await harness.press(ALEX, dover)
    assert texts.FINDER_OUTSIDE.format(authority="Dover") in harness.texts(ALEX)


async def test_a_one_letter_slip_in_one_area_is_answered_and_said(harness: Harness) -> None:
    await reach(harness, ALEX, Step.FINDER_OFFICE)
    await harness.send(ALEX, "bootel")
    said = harness.all_text(ALEX)
    assert texts.FINDER_CORRECTED.format(place="Bootle", authority="Sefton") in said
    assert listed_offices(answer_for(harness, "Sefton"))


async def test_a_jobcentre_spelt_wrong_is_offered_as_a_choice(harness: Harness) -> None:
    await reach(harness, ALEX, Step.FINDER_OFFICE)
    await harness.send(ALEX, "Kentsh Town")
    assert harness.last_text(ALEX) == texts.FINDER_DID_YOU_MEAN
    label = texts.BTN_OFFICE.format(name="Kentish Town Jobcentre")
    assert label in harness.emu.button_texts(ALEX)
    assert await harness.state(ALEX) == Step.FINDER_OFFICE
    await harness.press(ALEX, label)
    assert "📍 Kentish Town Jobcentre" in harness.all_text(ALEX)


# ---------------------------------------------------------------- item 3: distances


async def test_distances_only_where_measured_and_never_far(harness: Harness) -> None:
    await reach(harness, ALEX, Step.FINDER_PLACE)
    await harness.send(ALEX, "Southport")  # a town: no distance
    assert "miles" not in answer_for(harness, "Sefton")
    await harness.press(ALEX, texts.BTN_TRY_AGAIN)
    await harness.send(ALEX, "PO1 2AB")  # a postcode: whole miles, as the crow flies
    listing = answer_for(harness, "Portsmouth")
    distances = [line for line in listing.splitlines() if "miles" in line or "mile " in line]
    assert distances, listing
    for line in distances:  # whole miles only
        assert re.fullmatch(r"About (1 mile|\d+ miles) away, as the crow flies", line), line
    await harness.press(ALEX, texts.BTN_TRY_AGAIN)
    before = len(harness.texts(ALEX))
    await harness.send(ALEX, "G1 1AA")  # Glasgow: no office, no distance, no map
    said = said_since(harness, before)
    assert said.startswith(texts.FINDER_OUTSIDE.format(authority="Glasgow City"))
    assert "miles" not in said and "Map:" not in said and "Jobcentre is" not in said


async def test_a_shared_location_gets_crow_miles(harness: Harness) -> None:
    await reach(harness, ALEX, Step.FINDER_PLACE)
    harness.emu.tap_reply_button(ALEX, texts.BTN_SHARE_LOCATION, lat=53.7446, lon=-0.3352)
    await harness.settle()
    listing = answer_for(harness, "Kingston upon Hull")
    assert listed_offices(listing)[0].startswith("Hull") and CROW in listing
    assert await harness.state(ALEX) == Step.MENU


async def test_a_shared_location_near_a_border_is_asked_about(harness: Harness) -> None:
    """Kennington, where Lambeth meets Southwark: which council area? Picking one answers
    for it, with no distance (the location itself was not kept to measure from)."""
    await reach(harness, ALEX, Step.FINDER_PLACE)
    harness.emu.tap_reply_button(ALEX, texts.BTN_SHARE_LOCATION, lat=51.49, lon=-0.105)
    await harness.settle()
    assert harness.last_text(ALEX) == texts.FINDER_WHICH_AREA_HERE
    assert {"Lambeth", "Southwark"} <= set(harness.emu.button_texts(ALEX))
    await harness.press(ALEX, "Southwark")
    assert texts.FINDER_OUTSIDE.format(authority="Southwark") in harness.texts(ALEX)
    assert mentor_buttons(harness) == []
    await harness.press(ALEX, texts.BTN_TRY_AGAIN)
    await harness.location(ALEX, 51.49, -0.105)
    await harness.press(ALEX, "Lambeth")
    listing = answer_for(harness, "Lambeth")
    assert "miles" not in listing
    assert len(mentor_buttons(harness)) == len(offices_by_area()["Lambeth"])


# ------------------------------------------------------------------ input and privacy


async def test_unreadable_places_get_a_clear_kind_error_and_can_try_again(
    harness: Harness,
) -> None:
    await reach(harness, ALEX, Step.FINDER_PLACE)
    cases = {
        "XYZQ": texts.FINDER_ERROR["unknown_place"],
        "12345": texts.FINDER_ERROR["not_recognised"],
        "\u200b": texts.FINDER_ERROR["empty"],  # looks empty on a phone
        "\u200b \u2060": texts.FINDER_ERROR["empty"],
    }
    for typed, error in cases.items():
        await harness.send(ALEX, typed)
        assert harness.last_text(ALEX) == error, typed
        assert texts.BTN_REGIONS in harness.emu.button_texts(ALEX)
        assert texts.BTN_MENU in harness.emu.button_texts(ALEX)
        assert await harness.state(ALEX) == Step.FINDER_PLACE
    await harness.send(ALEX, "PO1")
    assert listed_offices(answer_for(harness, "Portsmouth")) == ["Portsmouth Jobcentre"]


async def test_nothing_found_at_the_jobcentre_question_offers_the_areas(
    harness: Harness,
) -> None:
    await reach(harness, ALEX, Step.FINDER_OFFICE)
    await harness.send(ALEX, "Qqqqq")
    assert harness.last_text(ALEX) == texts.FINDER_ERROR["no_office"]
    assert "Lambeth" in harness.emu.button_texts(ALEX)
    assert await harness.state(ALEX) == Step.FINDER_OFFICE


async def test_support_near_a_found_office_uses_the_area_and_keeps_nothing(
    harness: Harness, database_url: str
) -> None:
    await reach(harness, ALEX, Step.FINDER_PLACE)
    await harness.send(ALEX, "PO1 2AB")
    await harness.press(ALEX, texts.BTN_SUPPORT_NEAR)
    assert texts.SUPPORT_LOCAL.format(area="Portsmouth") in harness.all_text(ALEX)
    person = await harness.record(ALEX)
    assert person is not None and person.draft == Draft(), "the place must not be kept"
    rows = await all_rows(harness.services.database)
    for trace in ("PO1 2AB", "PO1 2", "Portsmouth", "portsmouth-arundel-street", "E06000044"):
        assert cells_containing(rows, trace) == [], trace
        assert files_containing(sqlite_files(database_url), trace) == [], trace


async def test_leaving_the_finder_takes_the_location_button_away(harness: Harness) -> None:
    await reach(harness, ALEX, Step.FINDER_PLACE)
    assert harness.emu.reply_keyboard(ALEX) != []
    await harness.press(ALEX, texts.BTN_MENU)
    assert harness.texts(ALEX)[-2:] == [texts.FINDER_CLOSED, texts.MENU]
    assert harness.emu.reply_keyboard(ALEX) == []
    # A place typed at the menu is not searched for, nor kept.
    await harness.send(ALEX, "hull")
    assert harness.texts(ALEX)[-2:] == [texts.MENU_TYPED, texts.MENU]
