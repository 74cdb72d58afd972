"""Understanding what a person types as a place: postcode, half a postcode, or a name.

Why: people type ``po12ab``, ``L20 3``, ``PO1``, ``st helens``, ``Southsea`` or
``tower hamlet`` and expect an answer; anything else gets a specific reason code so
the conversation layer (which owns every sentence) can ask the right follow-up.
Every answer carries the local authority (or authorities, when honestly
ambiguous). A full postcode is cut down to its sector at once; its last two
letters only settle a sector that straddles a pilot boundary, and ``PlaceQuery``
keeps no more than the sector, hidden from ``repr``.

Names come from ``gazetteer.csv.gz`` (pilot authorities and their neighbours,
see README.md) and ``places.csv`` (the pilot towns, anchored at offices).
"""

from __future__ import annotations

import difflib
import gzip
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from functools import cache
from importlib import resources
from types import MappingProxyType
from typing import Final

from storage.directory._csv import package_text, parse_rows
from storage.directory.authorities import Authority, authorities_of, authority, authority_named
from storage.directory.geo import LatLon, postcode_table
from storage.directory.offices import all_offices, office_by_id

PLACES_FILE: Final = "places.csv"
GAZETTEER_FILE: Final = "gazetteer.csv.gz"
# Names the open ward and neighbourhood names give to one authority although the place
# lies across a boundary: also placed in the other authority, so the bot asks.
SHARED_NAMES_FILE: Final = "shared_names.csv"
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
_FULL = re.compile(rf"({_OUTWARD})([0-9])([A-Z]{{2}})")
_FULL_IN_TEXT = re.compile(rf"\b({_OUTWARD}) ?([0-9])([A-Z]{{2}})\b")
_SECTOR_SPACED = re.compile(rf"({_OUTWARD}) ([0-9])")
_SECTOR_COMPACT = re.compile(rf"({_OUTWARD})([0-9])")
_DISTRICT = re.compile(_OUTWARD)
_NAME_SHAPE = re.compile(r"[A-Za-z][A-Za-z .,'’&-]*")
_NAME_PUNCTUATION = re.compile(r"[.,'’-]")
_FOLDED_WORDS: Final = MappingProxyType({"saint": "st", "upon": "on"})


class PlaceKind(StrEnum):
    """What the person gave; a full postcode is located at its sector."""

    POSTCODE = "postcode"
    SECTOR = "sector"
    DISTRICT = "district"
    NAMED = "named"
    LOCATION = "location"  # a shared location (search.locate_point)


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
    """A named town, district or neighbourhood and the authority it lies in.

    ``lat``/``lon`` is a centroid (of the wards or neighbourhoods of that name, or
    of an office's postcode sector): good for "which pilot office is nearest",
    never for a distance to tell a person. ``pilot_area`` and
    ``anchor_office_id`` are set for the pilot towns of places.csv only.
    """

    name: str
    authority: Authority
    lat: float
    lon: float
    pilot_area: str | None = None
    anchor_office_id: str | None = None

    @property
    def local_authority(self) -> str:
        """The authority's name as the bot says it."""
        return self.authority.name


@dataclass(frozen=True, slots=True)
class PlaceQuery:
    """A recognised place. ``key`` is a sector/district code or a place name, never a
    full postcode, and is left out of ``repr``.

    ``authorities`` are the candidates, most likely first: one means decided;
    several mean a sector straddles a boundary or a name is in several
    authorities (ask which). ``places`` are the named places matched (one per
    authority). ``suggestions`` are fuzzy matches offered as "Did you mean …?":
    when they span more than one authority nothing is decided (``authorities``
    and ``places`` are empty). ``corrected`` means a spelling difference was
    forgiven because every close match lies in the same authority: confirm it.
    """

    kind: PlaceKind
    key: str = field(repr=False)
    authorities: tuple[Authority, ...] = ()
    places: tuple[Place, ...] = ()
    suggestions: tuple[Place, ...] = ()
    corrected: bool = False

    @property
    def place(self) -> Place | None:
        """The one named place, when the name is not ambiguous."""
        return self.places[0] if len(self.places) == 1 else None


@dataclass(frozen=True, slots=True)
class PlaceError:
    """Input that is not a usable place, with the reason code."""

    reason: PlaceErrorReason


@dataclass(frozen=True, slots=True)
class _Gazetteer:
    names: Mapping[str, tuple[Place, ...]]
    pilot_towns: tuple[Place, ...]
    broad: frozenset[str]
    candidates: tuple[str, ...]
    # The same names with their spaces removed: "Somerstown" is "Somers Town".
    unspaced: Mapping[str, tuple[Place, ...]]


def normalise_name(text: str) -> str:
    """Case, punctuation and "Saint"/"St." folded so "St. Helens" == "saint helens";
    an apostrophe is dropped, so "Kings Cross" == "King's Cross"; hyphens are spaces
    and "upon" is "on", so "Newton le Willows" == "Newton-le-Willows" and
    "Stratford upon Avon" == "Stratford-on-Avon" (scripts/build_pilot_areas.py folds
    the gazetteer's names the same way)."""
    folded = re.sub(r"['’]", "", text.casefold().replace("&", " and "))
    words = _NAME_PUNCTUATION.sub(" ", folded).split()
    words = [_FOLDED_WORDS.get(w, w) for w in words]
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
        found = authority_named(office.local_authority)
        if found is None:
            raise ValueError(f"{PLACES_FILE}: {office.local_authority!r} is not an authority")
        lat, lon = table[sector]
        place = Place(row["name"], found, lat, lon, office.pilot_area, office.office_id)
        for name in (row["name"], *filter(None, row["aliases"].split("|"))):
            key = normalise_name(name)
            if key in names:
                raise ValueError(f"{PLACES_FILE}: {name!r} is listed twice")
            names[key] = place
    return names


def parse_gazetteer(text: str) -> dict[str, list[Place]]:
    """gazetteer.csv.gz text -> normalised name -> places (one per authority)."""
    names: dict[str, list[Place]] = {}
    body = "\n".join(line for line in text.splitlines() if not line.startswith("#"))
    for row in parse_rows(body):
        found = authority(row["authority"])
        if found is None:
            raise ValueError(f"{GAZETTEER_FILE}: unknown authority {row['authority']!r}")
        place = Place(row["name"], found, float(row["lat"]), float(row["lon"]))
        names.setdefault(normalise_name(row["name"]), []).append(place)
    return names


def add_shared_names(names: dict[str, list[Place]], text: str) -> None:
    """shared_names.csv: a gazetteer name that also lies in another authority (same
    place, same centre), each with the source that says so."""
    for row in parse_rows(text):
        key = normalise_name(row["name"])
        also = authority(row["also_in"])
        if not row["source"] or also is None or key not in names:
            raise ValueError(f"{SHARED_NAMES_FILE}: bad row for {row['name']!r}")
        first = names[key][0]
        if all(p.authority != also for p in names[key]):
            names[key].append(Place(first.name, also, first.lat, first.lon))


@cache
def _gazetteer() -> _Gazetteer:
    towns = parse_places(package_text(PLACES_FILE))
    raw = resources.files(__package__).joinpath(GAZETTEER_FILE).read_bytes()
    merged = parse_gazetteer(gzip.decompress(raw).decode("utf-8"))
    add_shared_names(merged, package_text(SHARED_NAMES_FILE))
    for key, town in towns.items():  # a pilot town wins over the same name in its authority
        others = [p for p in merged.get(key, []) if p.authority != town.authority]
        merged[key] = [town, *others]
    # A name in several authorities lists the pilot ones first (the buttons' order).
    names = {
        key: tuple(sorted(places, key=lambda p: not p.authority.in_pilot))
        for key, places in merged.items()
    }
    broad_names = {o.region for o in all_offices()} | set(EXTRA_BROAD_NAMES)
    broad = frozenset(normalise_name(n) for n in broad_names) - names.keys()
    unspaced: dict[str, list[Place]] = {}
    for key, places in names.items():
        found = unspaced.setdefault(key.replace(" ", ""), [])
        found.extend(p for p in places if all(p.authority != q.authority for q in found))
    return _Gazetteer(
        MappingProxyType(names),
        tuple(dict.fromkeys(towns.values())),
        broad,
        tuple(names) + tuple(sorted(broad)),
        MappingProxyType({key: tuple(places) for key, places in unspaced.items()}),
    )


def gazetteer() -> tuple[Place, ...]:
    """The pilot towns of places.csv, in file order (sandbox, help texts, tests)."""
    return _gazetteer().pilot_towns


def lookup_name(text: str) -> PlaceQuery | PlaceError:
    """A place name: exact (normalised, then also with spaces ignored) first; then
    spelling mistakes.

    An exact name in several authorities returns them all. A fuzzy match is
    decided only when every close name lies in one authority (``corrected``);
    otherwise the close names come back as ``suggestions`` and nothing is decided,
    so "Walton" can never silently become Halton.
    """
    gaz = _gazetteer()
    key = normalise_name(text)
    if key in gaz.broad:
        return PlaceError(PlaceErrorReason.TOO_BROAD)
    places = gaz.names.get(key) or gaz.unspaced.get(key.replace(" ", ""))
    if places:  # exact, or exact but for spaces ("Somerstown", "Kingscross")
        return PlaceQuery(
            PlaceKind.NAMED, places[0].name, tuple(p.authority for p in places), places
        )
    close = difflib.get_close_matches(key, gaz.candidates, n=5, cutoff=FUZZY_CUTOFF)
    # Each close name once first (its pilot authority first), then its other places, so
    # a short list of buttons still offers every name ("Whalton": Walton, Halton, ...).
    found = [gaz.names[name] for name in close if name in gaz.names]
    suggestions = tuple(places[0] for places in found) + tuple(
        p for places in found for p in places[1:]
    )
    if not suggestions:
        return PlaceError(PlaceErrorReason.TOO_BROAD if close else PlaceErrorReason.UNKNOWN_PLACE)
    authorities = tuple(dict.fromkeys(p.authority for p in suggestions))
    if len(authorities) == 1 and _one_edit(key, normalise_name(suggestions[0].name)):
        best = suggestions[0]
        return PlaceQuery(PlaceKind.NAMED, best.name, authorities, (best,), suggestions, True)
    return PlaceQuery(PlaceKind.NAMED, suggestions[0].name, suggestions=suggestions)


def _one_edit(a: str, b: str) -> bool:
    """True when b is a one-letter slip of a: one letter added, dropped, changed, or
    two neighbours swapped ("bootel", "liverpol"). Only such slips are decided."""
    if a == b:
        return True
    if abs(len(a) - len(b)) > 1:
        return False
    i = 0
    while i < min(len(a), len(b)) and a[i] == b[i]:
        i += 1
    return (
        a[i + 1 :] == b[i + 1 :]
        or a[i + 1 :] == b[i:]
        or a[i:] == b[i + 1 :]
        or (a[i : i + 2] == b[i : i + 2][::-1] and a[i + 2 :] == b[i + 2 :])
    )


def _postcode_area(
    outward: str, sector_digit: str, kind: PlaceKind, unit: str | None = None
) -> PlaceQuery | PlaceError:
    """Sector when the data has it, else the district (a new or unlisted sector)."""
    table = postcode_table()
    sector = f"{outward} {sector_digit}"
    if sector in table:
        return PlaceQuery(kind, sector, authorities_of(sector, unit) or authorities_of(outward))
    if outward in table:
        return PlaceQuery(kind, outward, authorities_of(outward))
    return PlaceError(PlaceErrorReason.UNKNOWN_POSTCODE)


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
        return _postcode_area(m[1], m[2], PlaceKind.POSTCODE, m[3])
    if m := _SECTOR_SPACED.fullmatch(spaced):
        return _postcode_area(m[1], m[2], PlaceKind.SECTOR)
    if _DISTRICT.fullmatch(compact) and compact in postcode_table():
        return PlaceQuery(PlaceKind.DISTRICT, compact, authorities_of(compact))
    if m := _SECTOR_COMPACT.fullmatch(compact):  # "L203" -> L20 3
        return _postcode_area(m[1], m[2], PlaceKind.SECTOR)
    if _DISTRICT.fullmatch(compact):
        return PlaceError(PlaceErrorReason.UNKNOWN_POSTCODE)
    if _NAME_SHAPE.fullmatch(stripped):
        return lookup_name(stripped)
    if m := _FULL_IN_TEXT.search(spaced):  # "PO1 2AB please"
        return _postcode_area(m[1], m[2], PlaceKind.POSTCODE, m[3])
    return PlaceError(PlaceErrorReason.NOT_RECOGNISED)


def locate(query: PlaceQuery) -> LatLon | None:
    """A centroid for a recognised place (never an address): the sector or district
    centre, or the named place's; None for an ambiguous or unconfirmed name."""
    if query.kind is not PlaceKind.NAMED:
        return postcode_table()[query.key]
    if query.place is not None:
        return query.place.lat, query.place.lon
    return None
