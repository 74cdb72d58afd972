"""Reading the package's CSV files (shared by the offices, places and services loaders)."""

from __future__ import annotations

import csv
import io
from importlib import resources


def package_text(name: str) -> str:
    """A data file shipped in this package (works from a wheel or a checkout)."""
    return resources.files(__package__).joinpath(name).read_text(encoding="utf-8")


def parse_rows(text: str) -> list[dict[str, str]]:
    """Rows of CSV text, values stripped; loaders take text so tests can feed bad data."""
    return [
        {key: (value or "").strip() for key, value in row.items()}
        for row in csv.DictReader(io.StringIO(text))
    ]


def yes_no(value: str, column: str) -> bool:
    """A strict yes/no column: a typo in operator-edited data must fail loudly."""
    if value not in ("yes", "no"):
        raise ValueError(f"{column}: expected yes or no, got {value!r}")
    return value == "yes"
