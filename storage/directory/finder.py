"""Nearest pilot Jobcentre for a typed place or a shared location.

Why: one call gives the conversation layer everything it words an answer
from: the nearest offered offices, whether the pilot is within reach, the
pilot area and local authority (named, or estimated and said so), and whether
the area's own office is unverified (Cosham). The point itself is not kept.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Final

from storage.directory.geo import round_miles
from storage.directory.offices import (
    OfficeMatch,
    nearest_exact,
    nearest_site,
    pilot_area_has_offered_office,
)
from storage.directory.places import Place, PlaceError, locate, parse_place

# Within the pilot areas the nearest offered office is at most 6.8 miles away
# (measured over the sectors of their postcode districts; see README). 8 miles
# keeps those in and leaves out Southampton (10.1) and Chester (11.4).
PILOT_RADIUS_MILES: Final = 8.0
# Inside the pilot, further offices are listed only up to this distance.
LIST_RADIUS_MILES: Final = 15.0
# A point this close to a known office site is taken to share its pilot area
# and local authority (an estimate, flagged as such).
AREA_RADIUS_MILES: Final = 3.0


@dataclass(frozen=True, slots=True)
class FinderResult:
    """Nearest offered offices and what is known about the area.

    ``in_pilot`` is False when the nearest offered office is further than
    PILOT_RADIUS_MILES: the nearest offices are still listed, for honesty.
    Inside the pilot, offices beyond LIST_RADIUS_MILES (after the first) are dropped.
    ``area_estimated`` says pilot_area/local_authority were inferred from the
    nearest office site rather than named by the person.
    ``area_office_unverified`` says the pilot area's own office is not
    verified (Cosham): the offices listed are nearby ones, to be checked.
    ``corrected`` says a place name was matched despite a spelling difference.
    """

    offices: tuple[OfficeMatch, ...]
    in_pilot: bool
    pilot_area: str | None
    local_authority: str | None
    area_estimated: bool
    area_office_unverified: bool
    place: Place | None = None
    corrected: bool = False


def _result(lat: float, lon: float, n: int, place: Place | None, corrected: bool) -> FinderResult:
    nearest = nearest_exact(lat, lon, n)
    in_pilot = bool(nearest) and nearest[0][1] <= PILOT_RADIUS_MILES
    if in_pilot:  # Hull's second nearest is 100 miles off: not worth listing
        nearest = nearest[:1] + [(o, m) for o, m in nearest[1:] if m <= LIST_RADIUS_MILES]
    offices = tuple(OfficeMatch(office, round_miles(miles)) for office, miles in nearest)
    pilot_area: str | None = None
    local_authority: str | None = None
    estimated = False
    if place is not None:
        pilot_area, local_authority = place.pilot_area, place.local_authority
    elif in_pilot:
        site, miles = nearest_site(lat, lon)
        if miles <= AREA_RADIUS_MILES:
            pilot_area, local_authority, estimated = site.pilot_area, site.local_authority, True
    unverified = pilot_area is not None and not pilot_area_has_offered_office(pilot_area)
    return FinderResult(
        offices=offices,
        in_pilot=in_pilot,
        pilot_area=pilot_area,
        local_authority=local_authority,
        area_estimated=estimated,
        area_office_unverified=unverified,
        place=place,
        corrected=corrected,
    )


def find_offices_at(lat: float, lon: float, n: int = 3) -> FinderResult:
    """Finder answer for a shared location (Telegram's location button)."""
    return _result(lat, lon, n, None, False)


def find_offices(text: str, n: int = 3) -> FinderResult | PlaceError:
    """Finder answer for typed text: a postcode, part of one, or a place name."""
    query = parse_place(text)
    if isinstance(query, PlaceError):
        return query
    lat, lon = locate(query)
    return _result(lat, lon, n, query.place, query.corrected)
