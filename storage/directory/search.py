"""Is this person in the pilot, and which pilot Jobcentres are theirs?

Why: the pilot takes people through the Jobcentre where they sign on, or by the
local authority they live in, never by distance. One lookup turns what the person
gave (a Jobcentre, a postcode, a place name, a shared location) into candidate
authorities; one answer then says whether that authority is in the pilot, which
offered offices serve it, and, outside, the nearest pilot office as information
only when it is not far. Distances are given only where the bot knows them: from
a postcode's sector centre or a shared location, as the crow flies, in whole
miles, and never beyond MAX_CROW_MILES. The point itself is never kept.

``find_offices``/``find_offices_at``/``FinderResult`` are the earlier nearest-office
API, kept for callers not yet moved over (see README.md).
"""

from __future__ import annotations

import difflib
from dataclasses import dataclass, field
from functools import cache
from typing import Final

from storage.directory.authorities import Authority, authorities_of, authority_named
from storage.directory.geo import LatLon, haversine_miles, postcode_table, round_miles
from storage.directory.offices import (
    Office,
    OfficeMatch,
    _dot_to_miles,
    _unit,
    all_offices,
    nearest_exact,
    office_by_id,
    pilot_area_has_offered_office,
)
from storage.directory.places import (
    FUZZY_CUTOFF,
    Place,
    PlaceError,
    PlaceErrorReason,
    PlaceKind,
    PlaceQuery,
    gazetteer,
    locate,
    normalise_name,
    parse_place,
)

# Distances ("about 3 miles as the crow flies") are given up to this far; beyond it
# a distance is no help and the nearest pilot office is not offered at all (someone
# in Glasgow is not told about Southport). The pilot's offered offices are at most
# 12 miles from any place in their own authority, so inside the pilot a distance
# is always known for a postcode.
MAX_CROW_MILES: Final = 25.0
# A shared location is placed in every authority whose sector centres lie within
# this margin of the nearest one: near a boundary, both are offered and the person
# is asked.
LOCATION_MARGIN_MILES: Final = 0.75
_OFFICE_WORDS: Final = frozenset({"jobcentre", "jobcentre plus", "office"})


@dataclass(frozen=True, slots=True)
class AreaLookup:
    """Where a person is, as far as what they gave tells.

    ``authorities``: candidates, most likely first; exactly one means decided,
    several mean ask ("Which of these is your area?"), none means undecided
    because only ``suggestions`` ("Did you mean …?") came back.
    ``places``: the named places matched (one per candidate authority).
    ``corrected``: a misspelt name was matched within one authority: confirm it.
    The centroid behind any distance stays out of ``repr``.
    """

    kind: PlaceKind
    authorities: tuple[Authority, ...]
    places: tuple[Place, ...] = ()
    suggestions: tuple[Place, ...] = ()
    corrected: bool = False
    point: LatLon | None = field(default=None, repr=False, compare=False)
    measured: bool = field(default=False, repr=False, compare=False)

    @property
    def authority(self) -> Authority | None:
        """The authority when exactly one is possible."""
        return self.authorities[0] if len(self.authorities) == 1 else None

    @property
    def needs_choice(self) -> bool:
        """True when the person must pick an authority (or a suggestion)."""
        return len(self.authorities) != 1


@dataclass(frozen=True, slots=True)
class PilotAnswer:
    """The answer for one authority.

    ``in_pilot``: the authority is a pilot authority.
    ``offices``: inside, the offered offices serving it, nearest first when a
    distance is known (each ``miles`` is None otherwise); empty outside.
    ``nearest_pilot_office``: outside, the nearest offered office, as
    information, only within MAX_CROW_MILES of the person's area (its ``miles``
    set only when measured from a postcode or location); None when far.
    ``area_office_unverified``: the person named a pilot area whose own office
    is not confirmed open (Cosham): the offices listed serve the same authority.
    """

    authority: Authority
    in_pilot: bool
    offices: tuple[OfficeMatch, ...]
    nearest_pilot_office: OfficeMatch | None
    area_office_unverified: bool = False


@dataclass(frozen=True, slots=True)
class OfficeSearch:
    """Offices found by name ("Which Jobcentre do you go to?").

    ``offices``: offered offices matching; when the name matched an office that is
    not confirmed open (Cosham), its authority's offered offices with
    ``area_office_unverified``. ``suggestions``: close spellings, to confirm.
    """

    offices: tuple[Office, ...]
    suggestions: tuple[Office, ...] = ()
    area_office_unverified: bool = False


def crow_miles(miles: float) -> float | None:
    """Whole miles for "about N miles as the crow flies" (a sector centre can be a
    mile out), at least 1; None beyond MAX_CROW_MILES."""
    if miles > MAX_CROW_MILES:
        return None
    return float(max(1, round(miles)))


def _lookup(query: PlaceQuery) -> AreaLookup:
    measured = query.kind in (PlaceKind.POSTCODE, PlaceKind.SECTOR)
    return AreaLookup(
        kind=query.kind,
        authorities=query.authorities,
        places=query.places,
        suggestions=query.suggestions,
        corrected=query.corrected,
        point=locate(query),
        measured=measured,
    )


def locate_text(text: str) -> AreaLookup | PlaceError:
    """Where a typed postcode, sector, district or place name lies."""
    query = parse_place(text)
    if isinstance(query, PlaceError):
        return query
    return _lookup(query)


@dataclass(frozen=True, slots=True)
class _SectorIndex:
    keys: tuple[str, ...]
    xyz: tuple[tuple[float, float, float], ...]


@cache
def _sectors() -> _SectorIndex:
    table = postcode_table()
    keys = tuple(k for k in table if " " in k)
    return _SectorIndex(keys, tuple(_unit(*table[k]) for k in keys))


def locate_point(lat: float, lon: float) -> AreaLookup:
    """Where a shared location lies: the authorities of the nearest sector centres.

    Without boundary shapes, every authority of the sectors whose centres are
    within LOCATION_MARGIN_MILES of the nearest one is a candidate, so a point near
    a boundary is asked about rather than guessed.
    """
    index = _sectors()
    qx, qy, qz = _unit(lat, lon)
    dots = [x * qx + y * qy + z * qz for x, y, z in index.xyz]
    best = max(dots)
    limit = _dot_to_miles(best) + LOCATION_MARGIN_MILES
    near = sorted(
        (i for i, d in enumerate(dots) if _dot_to_miles(d) <= limit),
        key=lambda i: -dots[i],
    )
    found: dict[str, Authority] = {}
    for i in near:
        for candidate in authorities_of(index.keys[i]):
            found.setdefault(candidate.code, candidate)
    return AreaLookup(PlaceKind.LOCATION, tuple(found.values()), point=(lat, lon), measured=True)


def _serving(found: Authority) -> tuple[Office, ...]:
    return tuple(o for o in all_offices() if o.offered and o.local_authority == found.name)


def _match(office: Office, lookup: AreaLookup | None) -> OfficeMatch:
    if lookup is None or lookup.point is None or not lookup.measured:
        return OfficeMatch(office, None)
    assert office.lat is not None and office.lon is not None  # offered offices have both
    return OfficeMatch(office, crow_miles(haversine_miles(*lookup.point, office.lat, office.lon)))


def pilot_answer(lookup: AreaLookup, authority_code: str | None = None) -> PilotAnswer:
    """The answer for the lookup's authority, or for the one the person chose.

    ``authority_code`` must be one of ``lookup.authorities`` (the person's choice
    when there were several); without it the lookup must be decided.
    """
    chosen = (
        lookup.authority
        if authority_code is None
        else next((a for a in lookup.authorities if a.code == authority_code), None)
    )
    if chosen is None:
        raise ValueError("pilot_answer needs a decided lookup or one of its authorities")
    place = next((p for p in lookup.places if p.authority == chosen), None)
    point = lookup.point if place is None else (place.lat, place.lon)
    unverified = bool(
        place is not None
        and place.pilot_area
        and not pilot_area_has_offered_office(place.pilot_area)
    )
    if chosen.in_pilot:
        matches = [_match(o, lookup) for o in _serving(chosen)]
        if point is not None:
            matches.sort(
                key=lambda m: haversine_miles(*point, m.office.lat or 0.0, m.office.lon or 0.0)
            )
        return PilotAnswer(chosen, True, tuple(matches), None, unverified)
    nearest: OfficeMatch | None = None
    if point is not None:
        ((office, miles),) = nearest_exact(*point, 1)
        if miles <= MAX_CROW_MILES:
            nearest = _match(office, lookup)
    return PilotAnswer(chosen, False, (), nearest)


def answer_for_office(office_id: str) -> PilotAnswer | None:
    """The answer for a person who named their Jobcentre (an offered office)."""
    office = office_by_id(office_id)
    if office is None:
        return None
    found = authority_named(office.local_authority)
    if found is None or not found.in_pilot:
        return None
    return PilotAnswer(found, True, (OfficeMatch(office, None),), None)


def _office_names(office: Office) -> set[str]:
    name = normalise_name(office.name.split("(", 1)[0])
    words = [w for w in name.split() if w not in _OFFICE_WORDS]
    keys = {name, " ".join(words), normalise_name(office.pilot_area)}
    keys |= {normalise_name(p) for p in office.name[office.name.find("(") + 1 :].split(")")[:1]}
    return {k for k in keys if k}


@cache
def _office_index() -> dict[str, tuple[Office, ...]]:
    index: dict[str, list[Office]] = {}
    for office in all_offices():
        if office.status in ("closed", "closed_or_closing", "likely_closed"):
            continue
        for key in _office_names(office):
            index.setdefault(key, []).append(office)
    for place in gazetteer():  # "Mare Street", "Kentish Town", "Bootle" …
        if place.anchor_office_id:
            anchor = office_by_id(place.anchor_office_id, include_unoffered=True)
            if anchor is not None:
                index.setdefault(normalise_name(place.name), []).append(anchor)
    return {key: tuple(dict.fromkeys(offices)) for key, offices in index.items()}


def _offered(offices: tuple[Office, ...]) -> tuple[tuple[Office, ...], bool]:
    offered = tuple(o for o in offices if o.offered)
    if offered:
        return offered, False
    serving: list[Office] = []
    for office in offices:  # Cosham: the offices of its authority instead, flagged
        found = authority_named(office.local_authority)
        if found is not None:
            serving.extend(_serving(found))
    return tuple(dict.fromkeys(serving)), True


def search_offices(text: str) -> OfficeSearch:
    """Offered Jobcentres by name, pilot area or the town they are in.

    Exact (normalised) names first, then a name inside an office's name; spelling
    mistakes only come back as ``suggestions``.
    """
    key = normalise_name(text)
    words = " ".join(w for w in key.split() if w not in _OFFICE_WORDS)
    index = _office_index()
    for candidate in (key, words):
        if candidate in index:
            offices, unverified = _offered(index[candidate])
            return OfficeSearch(offices, area_office_unverified=unverified)
    if len(words) >= 3:
        inside = tuple(
            dict.fromkeys(o for k, offices in index.items() if words in k for o in offices)
        )
        if inside:
            offices, unverified = _offered(inside)
            return OfficeSearch(offices, area_office_unverified=unverified)
    close = difflib.get_close_matches(words or key, list(index), n=3, cutoff=FUZZY_CUTOFF)
    suggestions = tuple(dict.fromkeys(o for k in close for o in _offered(index[k])[0]))
    return OfficeSearch((), suggestions)


def offices_by_area() -> dict[str, tuple[Office, ...]]:
    """Offered offices grouped by pilot area, in file order (a fresh dict per call)."""
    grouped: dict[str, list[Office]] = {}
    for office in all_offices():
        if office.offered:
            grouped.setdefault(office.pilot_area, []).append(office)
    return {area: tuple(offices) for area, offices in grouped.items()}


# --- the earlier nearest-office API (kept for callers not yet moved over) ----------

# Inside the pilot, further offices are listed only up to this distance.
LIST_RADIUS_MILES: Final = 15.0


@dataclass(frozen=True, slots=True)
class FinderResult:
    """Nearest offered offices and the area: the earlier API.

    ``in_pilot`` now comes from the local authority (the first candidate), not
    from distance. New callers use ``locate_text``/``locate_point`` and
    ``pilot_answer``, which never show a distance the bot does not know.
    """

    offices: tuple[OfficeMatch, ...]
    in_pilot: bool
    pilot_area: str | None
    local_authority: str | None
    area_estimated: bool
    area_office_unverified: bool
    place: Place | None = None
    corrected: bool = False


def _finder_result(lookup: AreaLookup, n: int) -> FinderResult | PlaceError:
    if not lookup.authorities:
        return PlaceError(PlaceErrorReason.UNKNOWN_PLACE)
    chosen = lookup.authorities[0]
    place = next((p for p in lookup.places if p.authority == chosen), None)
    point = (place.lat, place.lon) if place is not None else lookup.point
    if point is None:
        return PlaceError(PlaceErrorReason.UNKNOWN_PLACE)
    nearest = nearest_exact(*point, n)
    if chosen.in_pilot:
        nearest = nearest[:1] + [(o, m) for o, m in nearest[1:] if m <= LIST_RADIUS_MILES]
    pilot_area = place.pilot_area if place is not None else None
    serving = _serving(chosen)
    if pilot_area is None and serving:  # the pilot area of the authority's nearest office
        pilot_area = min(
            serving, key=lambda o: haversine_miles(*point, o.lat or 0.0, o.lon or 0.0)
        ).pilot_area
    return FinderResult(
        offices=tuple(OfficeMatch(office, round_miles(miles)) for office, miles in nearest),
        in_pilot=chosen.in_pilot,
        pilot_area=pilot_area,
        local_authority=chosen.name,
        area_estimated=place is None,
        area_office_unverified=bool(pilot_area and not pilot_area_has_offered_office(pilot_area)),
        place=place,
        corrected=lookup.corrected,
    )


def find_offices_at(lat: float, lon: float, n: int = 3) -> FinderResult:
    """Earlier API: the answer for a shared location."""
    result = _finder_result(locate_point(lat, lon), n)
    assert isinstance(result, FinderResult)  # a location always has an authority
    return result


def find_offices(text: str, n: int = 3) -> FinderResult | PlaceError:
    """Earlier API: the answer for typed text (a postcode, part of one, or a name)."""
    lookup = locate_text(text)
    if isinstance(lookup, PlaceError):
        return lookup
    return _finder_result(lookup, n)


__all__ = [
    "LOCATION_MARGIN_MILES",
    "MAX_CROW_MILES",
    "AreaLookup",
    "FinderResult",
    "OfficeSearch",
    "PilotAnswer",
    "answer_for_office",
    "crow_miles",
    "find_offices",
    "find_offices_at",
    "locate_point",
    "locate_text",
    "offices_by_area",
    "pilot_answer",
    "search_offices",
]
