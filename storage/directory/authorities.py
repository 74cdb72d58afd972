"""Local authorities: which are in the pilot, and which a postcode lies in.

Why: the pilot takes people by local authority (and by the Jobcentre where they
sign on), never by distance. ``authorities.csv`` and ``postcode_authorities.csv.gz``
are built by ``scripts/build_pilot_areas.py`` from the ONS postcode directory (see
README.md). A sector that straddles a boundary answers with every authority it
touches; a full postcode in such a sector is decided exactly where the file lists
it. Nothing here keeps a postcode: callers pass it in and get authorities back.
"""

from __future__ import annotations

import gzip
from collections.abc import Mapping
from dataclasses import dataclass
from functools import cache
from importlib import resources
from types import MappingProxyType
from typing import Final

from storage.directory._csv import package_text, parse_rows, yes_no

AUTHORITIES_FILE: Final = "authorities.csv"
POSTCODE_AUTHORITIES_FILE: Final = "postcode_authorities.csv.gz"


@dataclass(frozen=True, slots=True)
class Authority:
    """A local authority district. ``name`` is what the bot says ("St Helens")."""

    code: str
    name: str
    ons_name: str
    region: str
    in_pilot: bool
    in_gazetteer: bool


@dataclass(frozen=True, slots=True)
class _Authorities:
    by_code: Mapping[str, Authority]
    by_name: Mapping[str, Authority]


def parse_authorities(text: str) -> tuple[Authority, ...]:
    """Validate authorities.csv text (codes unique, strict yes/no)."""
    out: list[Authority] = []
    seen: set[str] = set()
    for row in parse_rows(text):
        code = row["code"]
        if len(code) != 9 or code in seen:
            raise ValueError(f"{AUTHORITIES_FILE}: bad or duplicate code {code!r}")
        seen.add(code)
        out.append(
            Authority(
                code=code,
                name=row["name"],
                ons_name=row["ons_name"],
                region=row["region"],
                in_pilot=yes_no(row["pilot"], "pilot"),
                in_gazetteer=yes_no(row["gazetteer"], "gazetteer"),
            )
        )
    return tuple(out)


@cache
def _authorities() -> _Authorities:
    rows = parse_authorities(package_text(AUTHORITIES_FILE))
    by_name: dict[str, Authority] = {}
    for authority in rows:
        by_name[authority.name.casefold()] = authority
        by_name.setdefault(authority.ons_name.casefold(), authority)
    return _Authorities(MappingProxyType({a.code: a for a in rows}), MappingProxyType(by_name))


def authority(code: str) -> Authority | None:
    """The authority with this ONS code (E08000012), or None."""
    return _authorities().by_code.get(code)


def authority_named(name: str) -> Authority | None:
    """The authority the bot calls ``name`` ("St Helens"), or by its ONS name."""
    return _authorities().by_name.get(name.casefold())


def pilot_authorities() -> tuple[Authority, ...]:
    """The pilot's local authorities, in code order."""
    return tuple(a for a in _authorities().by_code.values() if a.in_pilot)


@cache
def postcode_authorities() -> Mapping[str, tuple[str, ...]]:
    """Sector/district (and full postcodes of straddling pilot sectors) -> codes."""
    raw = resources.files(__package__).joinpath(POSTCODE_AUTHORITIES_FILE).read_bytes()
    lines = gzip.decompress(raw).decode("utf-8").splitlines()
    body = (line for line in lines if line and not line.startswith("#"))
    if next(body) != "key,codes":
        raise ValueError(f"{POSTCODE_AUTHORITIES_FILE}: unexpected header")
    table: dict[str, tuple[str, ...]] = {}
    for line in body:
        key, codes = line.split(",")
        table[key] = tuple(codes.split("|"))
    return MappingProxyType(table)


def authorities_of(key: str, unit: str | None = None) -> tuple[Authority, ...]:
    """Authorities of a sector ("PO6 3") or district ("PO6"), most postcodes first.

    ``unit`` is the rest of a full postcode ("AB" of "PO6 3AB"): in a sector that
    straddles a pilot boundary it decides the authority exactly. It is used for
    this one lookup and never kept. Empty when the key is unknown.
    """
    table = postcode_authorities()
    codes = table.get(key, ())
    if unit is not None and len(codes) > 1:
        codes = table.get(f"{key}{unit}", codes)
    found = (authority(code) for code in codes)
    return tuple(a for a in found if a is not None)
