"""Finding the nearest pilot Jobcentre: postcodes, towns, a shared location, regions.

Whatever the person types or shares is used for the answer and forgotten: the tests
check the answers and that nothing about the place is kept.
"""

from __future__ import annotations

import re

from conversations import texts
from conversations.steps import Step
from storage.directory import offices_by_region
from storage.repositories.person_draft import Draft
from tests.support.dbscan import all_rows, cells_containing, files_containing, sqlite_files
from tests.support.harness import Harness
from tests.support.journeys import reach

ALEX = 7_700_000_101

# What is typed → the office the answer must list first.
FIRST_OFFICE = {
    "PO1 2AB": "Portsmouth Jobcentre",
    "L20 3": "Bootle Jobcentre",
    "Southport": "Southport Jobcentre",
    "hull": "Hull Britannia House Jobcentre",
}


def first_office(listing: str) -> str:
    """The office named on the line after "1." in a results message."""
    for line in listing.splitlines():
        if line.startswith("1. "):
            return line.removeprefix("1. ")
    raise AssertionError(f"no numbered office in {listing!r}")


def listed_offices(listing: str) -> list[str]:
    """Office names in listing order: the lines numbered "1. ", "2. "…"""
    return [m[1] for m in re.finditer(r"^\d+\. (.+)$", listing, flags=re.MULTILINE)]


def results_message(harness: Harness) -> str:
    return next(t for t in reversed(harness.texts(ALEX)) if t.startswith("📍"))


async def test_postcodes_and_towns_find_the_right_office_first(harness: Harness) -> None:
    await reach(harness, ALEX, Step.FINDER_PLACE)
    assert texts.FINDER_ASK in harness.texts(ALEX)
    assert harness.emu.reply_keyboard(ALEX) == [
        [{"text": texts.BTN_SHARE_LOCATION, "request_location": True}]
    ]
    for typed, expected in FIRST_OFFICE.items():
        await harness.send(ALEX, typed)
        listing = results_message(harness)
        assert first_office(listing).startswith(expected), (typed, listing)
        assert "miles away" in listing and "Map: https://" in listing
        assert harness.last_text(ALEX) == texts.FINDER_NEXT
        assert harness.emu.reply_keyboard(ALEX) == [], "the location button stays after use"
        assert await harness.state(ALEX) == Step.MENU
        await harness.press(ALEX, texts.BTN_TRY_AGAIN)


async def test_a_london_postcode_lists_london_offices(harness: Harness) -> None:
    london = {office.name for office in offices_by_region()["London"]}
    await reach(harness, ALEX, Step.FINDER_PLACE)
    await harness.send(ALEX, "SW1A 1AA")
    offices = listed_offices(results_message(harness))
    assert offices and set(offices) <= london, offices
    mentor_buttons = [b for b in harness.emu.button_texts(ALEX) if b.startswith("🤝")]
    assert mentor_buttons == [texts.BTN_MENTOR_AT.format(name=name) for name in offices]


async def test_a_shared_location_in_hull_city_centre_finds_hull(harness: Harness) -> None:
    await reach(harness, ALEX, Step.FINDER_PLACE)
    harness.emu.tap_reply_button(ALEX, texts.BTN_SHARE_LOCATION, lat=53.7446, lon=-0.3352)
    await harness.settle()
    listing = results_message(harness)
    assert listing.startswith(texts.FINDER_RESULTS_HERE)
    assert first_office(listing).startswith("Hull")
    assert await harness.state(ALEX) == Step.MENU


async def test_unreadable_places_get_a_clear_kind_error_and_can_try_again(
    harness: Harness,
) -> None:
    await reach(harness, ALEX, Step.FINDER_PLACE)
    cases = {
        "XYZ": texts.FINDER_ERROR["unknown_place"],
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
    assert first_office(results_message(harness)) == "Portsmouth Jobcentre"


async def test_browse_by_region(harness: Harness) -> None:
    await reach(harness, ALEX, Step.FINDER_PLACE)
    await harness.press(ALEX, texts.BTN_REGIONS)
    assert harness.last_text(ALEX) == texts.FINDER_REGIONS
    assert set(offices_by_region()) <= set(harness.emu.button_texts(ALEX))
    await harness.press(ALEX, "North West")
    listing = next(t for t in reversed(harness.texts(ALEX)) if t.startswith("Pilot Jobcentres"))
    assert listing.startswith(texts.FINDER_REGION_OFFICES.format(region="North West"))
    names = listed_offices(listing)
    assert "Southport Jobcentre" in names
    assert names == [office.name for office in offices_by_region()["North West"]]


async def test_outside_the_pilot_says_so_first_and_offers_support(harness: Harness) -> None:
    await reach(harness, ALEX, Step.FINDER_PLACE)
    await harness.send(ALEX, "EX1 1AA")
    honest, next_step = harness.texts(ALEX)[-2:]
    assert honest.startswith("I'm sorry: the peer mentor pilot isn't near you yet.")
    assert "miles away" in honest
    assert next_step == texts.FINDER_OUTSIDE_NEXT
    buttons = harness.emu.button_texts(ALEX)
    assert texts.BTN_SUPPORT in buttons
    assert not [b for b in buttons if b.startswith("🤝")], "no mentor offered out of reach"
    assert harness.emu.reply_keyboard(ALEX) == []
    await harness.press(ALEX, texts.BTN_SUPPORT)
    assert "Samaritans" in harness.all_text(ALEX)


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
    for trace in ("PO1 2AB", "Portsmouth", "portsmouth-arundel-street"):
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
