"""The results table, the targets it is read against, and bench/results/latest.json."""

from __future__ import annotations

import json
import os
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

RESULTS = Path(__file__).parent / "results" / "latest.json"


@dataclass(frozen=True, slots=True)
class Row:
    name: str
    value: Callable[[dict[str, Any]], Any]
    fmt: str
    target: str = ""
    met: Callable[[dict[str, Any]], bool] | None = None


def _get(*path: str) -> Callable[[dict[str, Any]], Any]:
    def read(results: dict[str, Any]) -> Any:
        value: Any = results
        for key in path:
            value = value[key]
        return value

    return read


def _growth_per_10k(results: dict[str, Any]) -> float:
    memory = results["memory"]
    return float(memory["growth_mb"]) * 10_000 / max(int(memory["people"]), 1)


def _at_most(limit: float, *path: str) -> Callable[[dict[str, Any]], bool]:
    return lambda results: float(_get(*path)(results)) <= limit


def _ms(section: str, key: str) -> Callable[[dict[str, Any]], float]:
    return lambda results: float(results[section]["latency_us"][key]) / 1e3


def _outbox_met(results: dict[str, Any]) -> bool:
    outbox = results["outbox"]
    return bool(outbox["delivered_per_s"] >= 29 and outbox["status_429"] == 0)


RATE, RATIO, US, S, MS, MBS = "{:,.0f}", "{:.2f}", "{:.1f}", "{:.2f}", "{:.2f}", "{:.1f}"
ROWS: tuple[tuple[str, Row], ...] = (
    (
        "sqlite",
        Row(
            "In process, SQLite: full journey (updates/s)",
            _get("sqlite", "full_updates_per_s"),
            RATE,
        ),
    ),
    (
        "sqlite",
        Row(
            "In process: bare PTB echo, same run (updates/s)",
            _get("sqlite", "echo_updates_per_s"),
            RATE,
        ),
    ),
    (
        "sqlite",
        Row(
            "Full journey ÷ bare echo",
            _get("sqlite", "ratio"),
            RATIO,
            "≥ 0.35",
            lambda r: r["sqlite"]["ratio"] >= 0.35,
        ),
    ),
    ("sqlite", Row("Latency per update p50 (ms)", _ms("sqlite", "p50"), MS)),
    ("sqlite", Row("Latency per update p90 (ms)", _ms("sqlite", "p90"), MS)),
    (
        "sqlite",
        Row(
            "Latency per update p99 (ms)",
            _ms("sqlite", "p99"),
            MS,
            "≤ 5",
            _at_most(5_000, "sqlite", "latency_us", "p99"),
        ),
    ),
    (
        "disk",
        Row(
            "One durable SQLite commit, synchronous=FULL (µs)",
            _get("disk", "sqlite_commit_full_us"),
            RATE,
        ),
    ),
    (
        "disk",
        Row(
            "Same commit, synchronous=NORMAL, for scale (µs)",
            _get("disk", "sqlite_commit_normal_us"),
            RATE,
        ),
    ),
    ("memory", Row("RSS before (MB)", _get("memory", "rss_before_mb"), MBS)),
    (
        "memory",
        Row(
            "RSS growth, per 10,000 people (MB)",
            _growth_per_10k,
            MBS,
            "≤ 50",
            lambda r: _growth_per_10k(r) <= 50,
        ),
    ),
    (
        "lookups",
        Row(
            "Postcode → nearest offices (µs)",
            _get("lookups", "postcode_nearest_offices"),
            US,
            "≤ 50",
            _at_most(50, "lookups", "postcode_nearest_offices"),
        ),
    ),
    (
        "lookups",
        Row(
            "Shared location → nearest offices (µs)",
            _get("lookups", "location_nearest_offices"),
            US,
        ),
    ),
    ("lookups", Row("Town name, exact (µs)", _get("lookups", "town_exact"), US)),
    ("lookups", Row("Town name, misspelt (µs)", _get("lookups", "town_misspelt"), US)),
    (
        "lookups",
        Row(
            "Crisis check, everyday message (µs)",
            _get("lookups", "crisis_quiet_message"),
            US,
            "≤ 50",
            _at_most(50, "lookups", "crisis_quiet_message"),
        ),
    ),
    (
        "lookups",
        Row(
            "Crisis check, urgent message (µs)",
            _get("lookups", "crisis_urgent_message"),
            US,
            "≤ 50",
            _at_most(50, "lookups", "crisis_urgent_message"),
        ),
    ),
    (
        "lookups",
        Row("Crisis check, 1,000 characters (µs)", _get("lookups", "crisis_1000_chars"), US),
    ),
    (
        "startup",
        Row(
            "Start-up to first getUpdates, empty database (s)",
            _get("startup", "first_start_s"),
            S,
            "≤ 2",
            _at_most(2, "startup", "first_start_s"),
        ),
    ),
    (
        "startup",
        Row(
            "Start-up to first getUpdates, restart (s)",
            _get("startup", "restart_s"),
            S,
            "≤ 2",
            _at_most(2, "startup", "restart_s"),
        ),
    ),
    (
        "http",
        Row(
            "Loopback HTTP polling, full journey (updates/s)",
            _get("http", "full_updates_per_s"),
            RATE,
        ),
    ),
    (
        "http",
        Row(
            "Loopback HTTP polling, bare echo (updates/s)", _get("http", "echo_updates_per_s"), RATE
        ),
    ),
    ("http", Row("Loopback full ÷ echo", _get("http", "ratio"), RATIO)),
    (
        "postgres",
        Row(
            "In process, PostgreSQL: full journey (updates/s)",
            _get("postgres", "full_updates_per_s"),
            RATE,
        ),
    ),
    (
        "postgres",
        Row(
            "In process: bare PTB echo, same run (updates/s)",
            _get("postgres", "echo_updates_per_s"),
            RATE,
        ),
    ),
    ("postgres", Row("PostgreSQL full ÷ echo", _get("postgres", "ratio"), RATIO)),
    ("postgres", Row("PostgreSQL latency p99 (ms)", _ms("postgres", "p99"), MS)),
    (
        "postgres",
        Row(
            "PostgreSQL per update: SQL statements",
            _get("postgres", "per_update", "sql_statements"),
            "{:.1f}",
        ),
    ),
    (
        "postgres",
        Row("PostgreSQL per update: commits", _get("postgres", "per_update", "commits"), "{:.2f}"),
    ),
    (
        "outbox",
        Row(
            "Outbox: mentor notifications delivered (msg/s)",
            _get("outbox", "delivered_per_s"),
            US,
            "30/s, no 429",
            _outbox_met,
        ),
    ),
)


def table(results: dict[str, Any]) -> str:
    """A Markdown table of what was measured; skipped sections say why."""
    lines = ["| Measure | Result | Target | Met |", "|---|---:|---|---|"]
    skipped: dict[str, str] = results.get("skipped", {})
    shown: set[str] = set()
    for section, row in ROWS:
        if section in skipped:
            if section not in shown:
                lines.append(f"| {section}: not measured ({skipped[section]}) | | | |")
                shown.add(section)
            continue
        if section not in results:
            continue
        value = row.fmt.format(row.value(results))
        met = "" if row.met is None else ("yes" if row.met(results) else "**no**")
        lines.append(f"| {row.name} | {value} | {row.target} | {met} |")
    return "\n".join(lines)


def write(results: dict[str, Any], path: Path = RESULTS) -> Path:
    """Write the JSON atomically (a `.tmp` beside it, then rename)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    scratch = path.with_suffix(".json.tmp")
    scratch.write_text(json.dumps(results, indent=2, ensure_ascii=False) + "\n")
    os.replace(scratch, path)
    return path
