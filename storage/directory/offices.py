"""Pilot Jobcentres: loading, browsing and nearest-office search.

Why: the finder must answer in microseconds, offline, and only ever offer
offices the data supports (status ``likely_open`` with coordinates). Rows for
closed, moved or unverified offices stay in ``jobcentres.csv`` as history and
for area estimates, but never come back from a search.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from functools import cache
from typing import Final

from storage.directory._csv import package_text, parse_rows, yes_no
from storage.directory.geo import (
    EARTH_RADIUS_MILES,
    LatLon,
    osm_link,
    postcode_table,
    round_miles,
)

JOBCENTRES_FILE: Final = "jobcentres.csv"
OPEN_STATUS: Final = "likely_open"
_SLUG = re.compile(r"^[a-z0-9]+(?:-[a-z0-9]+)*$")


@dataclass(frozen=True, slots=True)
class Office:
    """One row of jobcentres.csv; every source and confidence column is kept."""

    office_id: str
    name: str
    address: str
    postcode: str
    local_authority: str
    pilot_area: str
    region: str
    region_note: str
    status: str
    lat: float | None
    lon: float | None
    offered: bool
    check_note: str
    status_note: str
    coord_source: str
    source: str
    confidence: str


@dataclass(frozen=True, slots=True)
class OfficeMatch:
    """An offered office and its distance in miles, rounded for display.

    ``miles`` is None where the bot does not know the distance (a named place, a
    Jobcentre chosen by name, a postcode district): nothing is said then.
    """

    office: Office
    miles: float | None

    @property
    def map_url(self) -> str:
        """OpenStreetMap link to the office (offered offices always have coordinates)."""
        lat, lon = self.office.lat, self.office.lon
        assert lat is not None
        assert lon is not None
        return osm_link(lat, lon)


@dataclass(frozen=True, slots=True)
class _PointIndex:
    """Offices as precomputed unit vectors: a lean, exact brute-force nearest search.

    The dot product of unit vectors is the cosine of the angle between them, so
    it ranks exactly like great-circle distance at any range for three
    multiplications per office; only the n winners are converted to miles.
    """

    offices: tuple[Office, ...]
    xyz: tuple[tuple[float, float, float], ...]

    @classmethod
    def of(cls, points: list[tuple[Office, LatLon]]) -> _PointIndex:
        return cls(tuple(o for o, _ in points), tuple(_unit(lat, lon) for _, (lat, lon) in points))

    def nearest(self, lat: float, lon: float, n: int) -> list[tuple[Office, float]]:
        """The n nearest offices with great-circle miles, nearest first."""
        qx, qy, qz = _unit(lat, lon)
        dots = [x * qx + y * qy + z * qz for x, y, z in self.xyz]
        if n == 1:
            best = [max(range(len(dots)), key=dots.__getitem__)]
        else:
            best = sorted(range(len(dots)), key=dots.__getitem__, reverse=True)[:n]
        return [(self.offices[i], _dot_to_miles(dots[i])) for i in best]


def _dot_to_miles(dot: float) -> float:
    """Miles along the sphere from the cosine of the angle (via the chord: well
    conditioned even for a few hundred metres)."""
    chord = math.sqrt(max(0.0, 2.0 - 2.0 * dot))
    return 2 * EARTH_RADIUS_MILES * math.asin(min(1.0, chord / 2))


def _unit(lat: float, lon: float) -> tuple[float, float, float]:
    p, lam = math.radians(lat), math.radians(lon)
    c = math.cos(p)
    return c * math.cos(lam), c * math.sin(lam), math.sin(p)


@dataclass(frozen=True, slots=True)
class _Offices:
    rows: tuple[Office, ...]
    by_id: dict[str, Office]
    offered: _PointIndex
    areas_with_offered: frozenset[str]


def _float_or_none(value: str) -> float | None:
    return float(value) if value else None


def parse_offices(text: str) -> tuple[Office, ...]:
    """Validate and convert jobcentres.csv text.

    Enforces the offering rule instead of trusting the ``offered`` column: an
    operator who marks a closed or unlocated office as offered gets an error.
    """
    offices: list[Office] = []
    seen: set[str] = set()
    for row in parse_rows(text):
        office_id = row["office_id"]
        if not _SLUG.match(office_id) or office_id in seen:
            raise ValueError(f"{JOBCENTRES_FILE}: bad or duplicate office_id {office_id!r}")
        seen.add(office_id)
        lat, lon = _float_or_none(row["lat"]), _float_or_none(row["lon"])
        offered = yes_no(row["offered"], "offered")
        if offered and (row["status_2023"] != OPEN_STATUS or lat is None or lon is None):
            raise ValueError(f"{office_id}: offered needs status {OPEN_STATUS} and coordinates")
        offices.append(
            Office(
                office_id=office_id,
                name=row["office_name"],
                address=row["address"],
                postcode=row["postcode"],
                local_authority=row["local_authority"],
                pilot_area=row["pilot_area"],
                # "Yorkshire and the Humber (pilot list says 'North East')" -> browse name
                region=row["region"].split(" (", 1)[0],
                region_note=row["region"],
                status=row["status_2023"],
                lat=lat,
                lon=lon,
                offered=offered,
                check_note=row["check_note"],
                status_note=row["status_note"],
                coord_source=row["coord_source"],
                source=row["source"],
                confidence=row["confidence"],
            )
        )
    return tuple(offices)


@cache
def _offices() -> _Offices:
    everything = parse_offices(package_text(JOBCENTRES_FILE))
    offered = [
        (o, (o.lat, o.lon))
        for o in everything
        if o.offered and o.lat is not None and o.lon is not None  # parse_offices ensures both
    ]
    return _Offices(
        rows=everything,
        by_id={o.office_id: o for o in everything},
        offered=_PointIndex.of(offered),
        areas_with_offered=frozenset(o.pilot_area for o, _ in offered),
    )


@cache
def _sites() -> _PointIndex:
    """Every office row as a reference point for area estimates: its coordinates, or
    else its postcode's sector centroid (closed offices still mark their borough).
    These points are never shown as an office location."""
    table = postcode_table()
    points: list[tuple[Office, LatLon]] = []
    for office in all_offices():
        if office.lat is not None and office.lon is not None:
            points.append((office, (office.lat, office.lon)))
        elif office.postcode[:-2] in table:
            points.append((office, table[office.postcode[:-2]]))
    return _PointIndex.of(points)


def all_offices() -> tuple[Office, ...]:
    """Every row, offered or not (history, data checks, operator tools)."""
    return _offices().rows


def office_by_id(office_id: str, *, include_unoffered: bool = False) -> Office | None:
    """The office for an id (deep links, mentor invites); unoffered ones only on request."""
    office = _offices().by_id.get(office_id)
    if office is None or not (office.offered or include_unoffered):
        return None
    return office


def offices_by_region() -> dict[str, list[Office]]:
    """Offered offices grouped by region, in file order, for browsing (a fresh dict per call)."""
    grouped: dict[str, list[Office]] = {}
    for office in _offices().offered.offices:
        grouped.setdefault(office.region, []).append(office)
    return grouped


def nearest_offices(lat: float, lon: float, n: int = 3) -> list[OfficeMatch]:
    """The n nearest offered offices, nearest first, with rounded miles."""
    return [OfficeMatch(office, round_miles(miles)) for office, miles in nearest_exact(lat, lon, n)]


def nearest_exact(lat: float, lon: float, n: int) -> list[tuple[Office, float]]:
    """The n nearest offered offices with unrounded miles (for thresholds)."""
    return _offices().offered.nearest(lat, lon, n)


def nearest_site(lat: float, lon: float) -> tuple[Office, float]:
    """The nearest office row of any status (see _sites) and its exact miles.

    Used only to estimate which pilot area / local authority a point is in;
    the office itself is never shown from this.
    """
    ((office, miles),) = _sites().nearest(lat, lon, 1)
    return office, miles


def pilot_area_has_offered_office(pilot_area: str) -> bool:
    """False for a pilot area (Cosham) whose own office is not verified as open."""
    return pilot_area in _offices().areas_with_offered
