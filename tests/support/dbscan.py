"""What the database holds, read the way an attacker with a copy would read it.

Two views: every row of every table (both engines), and the raw bytes of the SQLite
files (the main file, the key store, and their write-ahead logs), where deleted or
not-yet-checkpointed data also lives.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.engine import make_url

from storage.db import Database, keystore_path
from storage.models import Base

Rows = dict[str, list[dict[str, Any]]]


async def all_rows(database: Database) -> Rows:
    """Every row of every table, keyed by `schema.table` for the key store's tables."""
    rows: Rows = {}
    async with database.engine.connect() as connection:
        for table in Base.metadata.sorted_tables:
            result = await connection.execute(select(table))
            rows[table.fullname] = [dict(row._mapping) for row in result]
    return rows


async def row_counts(database: Database) -> dict[str, int]:
    counts: dict[str, int] = {}
    async with database.engine.connect() as connection:
        for table in Base.metadata.sorted_tables:
            counts[table.fullname] = (
                await connection.execute(select(func.count()).select_from(table))
            ).scalar_one()
    return counts


def _as_bytes(value: Any) -> bytes:
    if isinstance(value, bytes | bytearray | memoryview):
        return bytes(value)
    return str(value).encode("utf-8", "surrogatepass")


def cells_containing(rows: Rows, needle: str | bytes | int) -> list[str]:
    """`table.column` of every cell that holds the needle (as text, bytes or number)."""
    raw = needle if isinstance(needle, bytes) else str(needle).encode()
    found = []
    for table, table_rows in rows.items():
        for row in table_rows:
            for column, value in row.items():
                if value is None:
                    continue
                if (isinstance(needle, int) and value == needle) or raw in _as_bytes(value):
                    found.append(f"{table}.{column}")
    return found


def sqlite_files(database_url: str) -> list[Path]:
    """The SQLite files of a URL that exist: main, key store, and their -wal/-journal."""
    if not database_url.startswith("sqlite"):
        return []
    database = make_url(database_url).database
    assert database
    main = Path(database)
    keystore = keystore_path(main)
    candidates = [
        path
        for base in (main, keystore)
        for path in (base, Path(f"{base}-wal"), Path(f"{base}-journal"))
    ]
    return [path for path in candidates if path.exists()]


def encodings(value: str | int) -> Iterator[bytes]:
    """The ways a value could sit in a file: UTF-8 (and UTF-16), or an integer's bytes."""
    if isinstance(value, int):
        yield str(value).encode()
        for size in (6, 8):
            if value >= 1 << (8 * size):
                continue
            yield value.to_bytes(size, "big")
            yield value.to_bytes(size, "little")
        return
    yield value.encode()
    yield value.encode("utf-16-le")


def files_containing(paths: Iterable[Path], value: str | int) -> list[str]:
    """Names of the files whose raw bytes hold the value in any plain encoding."""
    hits = []
    for path in paths:
        blob = path.read_bytes()
        if any(encoded in blob for encoded in encodings(value)):
            hits.append(path.name)
    return hits
