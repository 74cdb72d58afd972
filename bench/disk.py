"""The floor under every durable step: one committed write on this machine's disk.

The bot runs SQLite in WAL mode with synchronous=FULL, so each commit that wrote
something waits for an fsync. Measured with the plain sqlite3 module (no SQLAlchemy, no
threads), this is the least any update that changes the database can cost here.
"""

from __future__ import annotations

import sqlite3
import time
from pathlib import Path

from bench.stats import median


def commit_floor_us(workdir: Path, *, commits: int = 200) -> dict[str, float]:
    """Median µs of BEGIN IMMEDIATE + one INSERT + COMMIT, per synchronous setting."""
    result: dict[str, float] = {}
    for mode in ("FULL", "NORMAL"):
        path = workdir / f"floor-{mode.lower()}.db"
        connection = sqlite3.connect(path, isolation_level=None)
        try:
            connection.execute("PRAGMA journal_mode=WAL")
            connection.execute(f"PRAGMA synchronous={mode}")
            connection.execute("CREATE TABLE t (id INTEGER PRIMARY KEY, body BLOB)")
            times: list[float] = []
            for number in range(commits):
                started = time.perf_counter()
                connection.execute("BEGIN IMMEDIATE")
                connection.execute("INSERT INTO t (id, body) VALUES (?, ?)", (number, b"x" * 200))
                connection.execute("COMMIT")
                times.append(time.perf_counter() - started)
        finally:
            connection.close()
        result[f"sqlite_commit_{mode.lower()}_us"] = median(times) * 1e6
    return result
