"""Understanding what a person types as a place: postcode, half a postcode, or a town.

Why: people type ``po12ab``, ``L20 3``, ``PO1``, ``st helens`` or ``tower hamlet``
and expect an answer; anything else gets a specific reason code so the
conversation layer (which owns every sentence) can ask the right follow-up.
A full postcode is cut down to its sector at once: nothing finer is needed, and
``PlaceQuery`` hides its key from ``repr`` so it does not end up in a log.
"""

from __future__ import annotations

import difflib
import re
from dataclasses import dataclass, field
from enum import StrEnum
from functools import cache
from typing import Final

from storage.directory._csv import package_text, parse_rows
from storage.directory.geo import LatLon, postcode_table
from storage.directory.offices import all_offices, office_by_id

PLACES_FILE: Final = "places.csv"
MAX_INPUT_CHARS: Final = 64
FUZZY_CUTOFF: Final = 0.8
# Names too big to place a person: regions (as in jobcentres.csv) and a few more.
EXTRA_BROAD_NAMES: Final = (
    "North East",
    "Hampshire",
    "Merseyside",
    "Liverpool City Region",
    "England",
    "UK",
    "United Kingdom",
    "Great Britain",
)

_OUTWARD = r"[A-Z]{1,2}[0-9][A-Z0-9]?"
_FULL = re.compile(rf"({_OUTWARD})([0-9])[A-Z]{{2}}")
_FULL_IN_TEXT = re.compile(rf"\b({_OUTWARD}) ?([0-9])[A-Z]{{2}}\b")
_SECTOR_SPACED = re.compile(rf"({_OUTWARD}) ([0-9])")
_SECTOR_COMPACT = re.compile(rf"({_OUTWARD})([0-9])")
_DISTRICT = re.compile(_OUTWARD)
_NAME_SHAPE = re.compile(r"[A-Za-z][A-Za-z .,'’&-]*")
_NAME_PUNCTUATION = re.compile(r"[.,'’-]")


class PlaceKind(StrEnum):
    """What the person gave; a full postcode is located at its sector."""

    POSTCODE = "postcode"
    SECTOR = "sector"
    DISTRICT = "district"
    NAMED = "named"


class PlaceErrorReason(StrEnum):
    """Why a text is not a usable place: codes, not sentences."""

    EMPTY = "empty"
    TOO_LONG = "too_long"
    NOT_RECOGNISED = "not_recognised"
    UNKNOWN_POSTCODE = "unknown_postcode"
    UNKNOWN_PLACE = "unknown_place"
    TOO_BROAD = "too_broad"


@dataclass(frozen=True, slots=True)
class Place:
    """A gazetteer entry: a pilot town or area, anchored at an office's postcode sector."""

    name: str
    local_authority: str
    pilot_area: str
    anchor_office_id: str
    lat: float
    lon: float


@dataclass(frozen=True, slots=True)
class PlaceQuery:
    """A recognised place. ``key`` is a sector/district code or a place name, never a
    full postcode, and is left out of ``repr``. ``corrected`` means the name was
    matched despite a spelling difference: confirm it with the person."""

    kind: PlaceKind
    key: str = field(repr=False)
    place: Place | None = None
    corrected: bool = False


@dataclass(frozen=True, slots=True)
class PlaceError:
    """Input that is not a usable place, with the reason code."""

    reason: PlaceErrorReason


@dataclass(frozen=True, slots=True)
class _Gazetteer:
    names: dict[str, Place]
    broad: frozenset[str]
    candidates: tuple[str, ...]


def normalise_name(text: str) -> str:
    """Case, punctuation and "Saint"/"St." folded so "St. Helens" == "saint helens"."""
    words = _NAME_PUNCTUATION.sub(" ", text.casefold().replace("&", " and ")).split()
    words = ["st" if w == "saint" else w for w in words]
    if words[:1] == ["the"]:
        words = words[1:]
    return " ".join(words)


def parse_places(text: str) -> dict[str, Place]:
    """Validate places.csv text: every anchor must be an office row, so the location
    is that row's real postcode sector and nothing is invented."""
    table = postcode_table()
    names: dict[str, Place] = {}
    for row in parse_rows(text):
        office = office_by_id(row["anchor_office_id"], include_unoffered=True)
        if office is None or not office.postcode:
            raise ValueError(f"{PLACES_FILE}: {row['name']!r} needs an anchor office with postcode")
        sector = office.postcode[:-2]
        if sector not in table:
            raise ValueError(f"{PLACES_FILE}: sector {sector!r} of {office.office_id} is unknown")
        lat, lon = table[sector]
        place = Place(
            row["name"], office.local_authority, office.pilot_area, office.office_id, lat, lon
        )
        for name in (row["name"], *filter(None, row["aliases"].split("|"))):
            key = normalise_name(name)
            if key in names:
                raise ValueError(f"{PLACES_FILE}: {name!r} is listed twice")
            names[key] = place
    return names


@cache
def _gazetteer() -> _Gazetteer:
    names = parse_places(package_text(PLACES_FILE))
    broad_names = {o.region for o in all_offices()} | set(EXTRA_BROAD_NAMES)
    broad = frozenset(normalise_name(n) for n in broad_names) - names.keys()
    return _Gazetteer(names, broad, tuple(names) + tuple(sorted(broad)))


def gazetteer() -> tuple[Place, ...]:
    """Every distinct place, in file order (for tests and help texts)."""
    return tuple(dict.fromkeys(_gazetteer().names.values()))


def _postcode_area(outward: str, sector_digit: str, kind: PlaceKind) -> PlaceQuery | PlaceError:
    """Sector when the data has it, else the district (a new or unlisted sector)."""
    table = postcode_table()
    sector = f"{outward} {sector_digit}"
    if sector in table:
        return PlaceQuery(kind, sector)
    if outward in table:
        return PlaceQuery(kind, outward)
    return PlaceError(PlaceErrorReason.UNKNOWN_POSTCODE)


def _named(text: str) -> PlaceQuery | PlaceError:
    gaz = _gazetteer()
    key = normalise_name(text)
    corrected = False
    if key not in gaz.names and key not in gaz.broad:
        close = difflib.get_close_matches(key, gaz.candidates, n=1, cutoff=FUZZY_CUTOFF)
        if not close:
            return PlaceError(PlaceErrorReason.UNKNOWN_PLACE)
        key, corrected = close[0], True
    if key in gaz.broad:
        return PlaceError(PlaceErrorReason.TOO_BROAD)
    place = gaz.names[key]
    return PlaceQuery(PlaceKind.NAMED, place.name, place, corrected)


def parse_place(text: str) -> PlaceQuery | PlaceError:
    """Recognise a full postcode, a sector, a district or a pilot town/area name."""
    stripped = text.strip()
    if not stripped:
        return PlaceError(PlaceErrorReason.EMPTY)
    if len(stripped) > MAX_INPUT_CHARS:
        return PlaceError(PlaceErrorReason.TOO_LONG)
    spaced = " ".join(stripped.upper().split())
    compact = spaced.replace(" ", "")
    if m := _FULL.fullmatch(compact):
        return _postcode_area(m[1], m[2], PlaceKind.POSTCODE)
    if m := _SECTOR_SPACED.fullmatch(spaced):
        return _postcode_area(m[1], m[2], PlaceKind.SECTOR)
    if _DISTRICT.fullmatch(compact) and compact in postcode_table():
        return PlaceQuery(PlaceKind.DISTRICT, compact)
    if m := _SECTOR_COMPACT.fullmatch(compact):  # "L203" -> L20 3
        return _postcode_area(m[1], m[2], PlaceKind.SECTOR)
    if _DISTRICT.fullmatch(compact):
        return PlaceError(PlaceErrorReason.UNKNOWN_POSTCODE)
    if _NAME_SHAPE.fullmatch(stripped):
        return _named(stripped)
    if m := _FULL_IN_TEXT.search(spaced):  # "PO1 2AB please"
        return _postcode_area(m[1], m[2], PlaceKind.POSTCODE)
    return PlaceError(PlaceErrorReason.NOT_RECOGNISED)


def locate(query: PlaceQuery) -> LatLon:
    """Latitude and longitude of a recognised place (a centroid, not an address)."""
    if query.place is not None:
        return query.place.lat, query.place.lon
    return postcode_table()[query.key]
