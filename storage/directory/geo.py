"""Offline postcode geography and distances.

Why: a postcode typed into the bot must never leave the process, so sector and
district centroids ship with the package (see README.md for derivation and
licence) and distances are plain spherical maths. Nothing here logs or keeps a
location; callers hold coordinates only for the length of one lookup.
"""

from __future__ import annotations

import gzip
import math
from collections.abc import Mapping
from functools import cache
from importlib import resources
from types import MappingProxyType
from typing import Final

EARTH_RADIUS_MILES: Final = 3958.8
SECTORS_FILE: Final = "postcode_sectors.csv.gz"

LatLon = tuple[float, float]


@cache
def postcode_table() -> Mapping[str, LatLon]:
    """Sector ("PO1 2") and district ("PO1") centroids, read once per process.

    A read-only mapping so a caller cannot corrupt the shared cache.
    """
    raw = resources.files(__package__).joinpath(SECTORS_FILE).read_bytes()
    table: dict[str, LatLon] = {}
    lines = gzip.decompress(raw).decode("ascii").splitlines()
    body = (line for line in lines if line and not line.startswith("#"))
    if next(body) != "key,lat,lon":
        raise ValueError(f"{SECTORS_FILE}: unexpected header")
    for line in body:
        key, lat, lon = line.split(",")
        table[key] = (float(lat), float(lon))
    return MappingProxyType(table)


def haversine_miles(lat1: float, lon1: float, lat2: float, lon2: float) -> float:
    """Great-circle distance in miles (exact enough for "2.3 miles away")."""
    p1, p2 = math.radians(lat1), math.radians(lat2)
    dp = p2 - p1
    dl = math.radians(lon2 - lon1)
    h = math.sin(dp / 2) ** 2 + math.cos(p1) * math.cos(p2) * math.sin(dl / 2) ** 2
    return 2 * EARTH_RADIUS_MILES * math.asin(min(1.0, math.sqrt(h)))


def osm_link(lat: float, lon: float) -> str:
    """An OpenStreetMap link for an office's location; a plain string, nothing is fetched.

    Meant for office coordinates (public data), not for a person's location.
    """
    return (
        f"https://www.openstreetmap.org/?mlat={lat:.5f}&mlon={lon:.5f}#map=17/{lat:.5f}/{lon:.5f}"
    )
