"""`python -m bench`: measure, print the table, write bench/results/latest.json.

    python -m bench                  # everything; the RSS check over 10,000 people is long
    python -m bench --quick          # smaller runs, about two minutes
    python -m bench --only memory --memory-people 2000   # a shorter RSS check
    python -m bench --only lookups   # one section (repeatable)
    python -m bench --skip postgres  # everything but a section (repeatable)
    python -m bench --readme         # everything, and the table into README.md
    python -m bench --only webchat --out bench/results/webchat.json   # 500 web sessions

Sections: capacity, clients, lookups, crisis, disk, startup, sqlite, memory, http, postgres,
outbox, webchat.
`capacity` is what ships (HTTP, 40 ms round trips, limiter and concurrency on); the
in-process sections after it find regressions.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import platform
import subprocess
import sys
import tempfile
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from bench import report

SECTIONS = (
    "capacity",
    "clients",
    "lookups",
    "crisis",
    "disk",
    "startup",
    "sqlite",
    "memory",
    "http",
    "postgres",
    "outbox",
    "webchat",
)


@dataclass(frozen=True)
class Sizes:
    people: int
    rounds: int
    memory_people: int
    http_people: int
    pg_people: int
    outbox_people: int
    capacity_people: int
    web_sessions: int


# The throughput sections are sized for about five minutes on a quiet 2-core machine;
# the RSS check takes the 10,000 distinct people the target is about (most of the run).
FULL = Sizes(
    people=30,
    rounds=5,
    memory_people=10_000,
    http_people=10,
    pg_people=20,
    outbox_people=16,
    capacity_people=300,
    web_sessions=500,
)
QUICK = Sizes(
    people=10,
    rounds=5,
    memory_people=100,
    http_people=5,
    pg_people=10,
    outbox_people=6,
    capacity_people=60,
    web_sessions=50,
)


def parse(argv: Sequence[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="smaller runs (about two minutes)")
    parser.add_argument("--people", type=int, help="scripted people per in-process round")
    parser.add_argument("--rounds", type=int, help="alternating rounds (median of these)")
    parser.add_argument("--memory-people", type=int, help="distinct people for the RSS check")
    parser.add_argument("--http-people", type=int, help="people per loopback HTTP round")
    parser.add_argument("--pg-people", type=int, help="people per PostgreSQL round")
    parser.add_argument("--outbox-people", type=int, help="requests (5 cards each) to deliver")
    parser.add_argument("--capacity-people", type=int, help="people in the shipped-stack run")
    parser.add_argument("--web-sessions", type=int, help="people at the web chat at once")
    parser.add_argument(
        "--pg-server",
        default=os.environ.get(
            "FIRSTSTEP_BENCH_PG", "postgresql+asyncpg://postgres@127.0.0.1:5432/postgres"
        ),
        help="PostgreSQL server to create (and drop) the bench's own uniquely named database on",
    )
    parser.add_argument("--only", action="append", choices=SECTIONS, default=[])
    parser.add_argument("--skip", action="append", choices=SECTIONS, default=[])
    parser.add_argument("--out", type=Path, default=report.RESULTS, help="where to write JSON")
    parser.add_argument("--readme", action="store_true", help="also write the table into README.md")
    parser.add_argument("--child", choices=["memory", "webchat"], help=argparse.SUPPRESS)
    parser.add_argument("--database-url", help=argparse.SUPPRESS)
    return parser.parse_args(argv)


def sizes_of(args: argparse.Namespace) -> Sizes:
    base = QUICK if args.quick else FULL
    return Sizes(
        people=args.people or base.people,
        rounds=args.rounds or base.rounds,
        memory_people=args.memory_people or base.memory_people,
        http_people=args.http_people or base.http_people,
        pg_people=args.pg_people or base.pg_people,
        outbox_people=args.outbox_people or base.outbox_people,
        capacity_people=args.capacity_people or base.capacity_people,
        web_sessions=args.web_sessions or base.web_sessions,
    )


def say(message: str) -> None:
    print(f"bench: {message}", file=sys.stderr, flush=True)


def memory_in_child(database_url: str, people: int) -> dict[str, Any]:
    """The RSS measurement in a fresh interpreter, so nothing else is counted."""
    completed = subprocess.run(
        [
            sys.executable,
            "-m",
            "bench",
            "--child",
            "memory",
            "--memory-people",
            str(people),
            "--database-url",
            database_url,
        ],
        capture_output=True,
        text=True,
        check=False,
        cwd=Path(__file__).resolve().parent.parent,
    )
    if completed.returncode != 0:
        raise RuntimeError(f"memory benchmark failed:\n{completed.stderr[-2000:]}")
    result: dict[str, Any] = json.loads(completed.stdout.strip().splitlines()[-1])
    return result


async def run(args: argparse.Namespace, workdir: Path) -> dict[str, Any]:
    from bench import (
        capacity,
        clients,
        crisis,
        disk,
        lookups,
        loopback,
        outbox,
        postgres,
        startup,
        throughput,
        webchat,
    )

    sizes = sizes_of(args)
    wanted = [s for s in (args.only or SECTIONS) if s not in args.skip]
    sqlite_url = f"sqlite+aiosqlite:///{workdir / 'bench.db'}"
    results: dict[str, Any] = {
        "when": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
        "machine": {
            "cpus": os.cpu_count(),
            "python": platform.python_version(),
            "platform": platform.platform(),
            "load_average_at_start": list(os.getloadavg()),
        },
        "sizes": sizes.__dict__,
        "skipped": {},
    }
    started = time.perf_counter()
    for section in wanted:
        say(f"{section}…")
        began = time.perf_counter()
        if section == "capacity":
            url = f"sqlite+aiosqlite:///{workdir / 'capacity.db'}"
            results["capacity"] = await capacity.measure_capacity(
                url,
                workdir,
                people=sizes.capacity_people,
                offered_people=sizes.capacity_people,
            )
        elif section == "clients":
            url = f"sqlite+aiosqlite:///{workdir / 'clients.db'}"
            results["clients"] = await clients.measure_clients(
                url, workdir, people=sizes.http_people, rounds=sizes.rounds
            )
        elif section == "lookups":
            results["lookups"] = lookups.lookup_costs()
        elif section == "crisis":
            results["crisis"] = crisis.crisis_costs()
        elif section == "disk":
            results["disk"] = disk.commit_floor_us(workdir)
        elif section == "startup":
            url = f"sqlite+aiosqlite:///{workdir / 'startup.db'}"
            results["startup"] = await lookups.startup_seconds(url, workdir)
            results["startup"].update(await startup.process_start_seconds(workdir))
        elif section == "sqlite":
            measured = await throughput.measure(
                sqlite_url, workdir, people=sizes.people, rounds=sizes.rounds
            )
            results["sqlite"] = measured.summary()
        elif section == "memory":
            url = f"sqlite+aiosqlite:///{workdir / 'memory.db'}"
            results["memory"] = await asyncio.to_thread(memory_in_child, url, sizes.memory_people)
        elif section == "http":
            url = f"sqlite+aiosqlite:///{workdir / 'http.db'}"
            results["http"] = await loopback.measure_http(
                url, workdir, people=sizes.http_people, rounds=sizes.rounds
            )
        elif section == "postgres":
            if not await postgres.reachable(args.pg_server):
                results["skipped"]["postgres"] = "PostgreSQL is not answering"
                continue
            async with postgres.bench_database(args.pg_server) as url:
                measured = await throughput.measure(
                    url, workdir, people=sizes.pg_people, rounds=sizes.rounds
                )
            results["postgres"] = measured.summary()
        elif section == "outbox":
            url = f"sqlite+aiosqlite:///{workdir / 'outbox.db'}"
            results["outbox"] = await outbox.measure_outbox(
                url, workdir, people=sizes.outbox_people
            )
        elif section == "webchat":
            url = f"sqlite+aiosqlite:///{workdir / 'webchat.db'}"
            results["webchat"] = await webchat.measure_webchat(
                url, workdir, sessions=sizes.web_sessions
            )
        say(f"{section} done in {time.perf_counter() - began:.1f} s")
    results["seconds"] = time.perf_counter() - started
    return results


def main(argv: Sequence[str] | None = None) -> int:
    args = parse(argv)
    with tempfile.TemporaryDirectory(prefix="firststep-bench-") as scratch:
        workdir = Path(scratch)
        if args.child == "webchat":
            from bench.webchat import serve

            url = args.database_url or f"sqlite+aiosqlite:///{workdir / 'webchat.db'}"
            asyncio.run(serve(url, workdir))
            return 0
        if args.child == "memory":
            from bench.memory import measure_memory

            url = args.database_url or f"sqlite+aiosqlite:///{workdir / 'memory.db'}"
            people = args.memory_people or FULL.memory_people
            warmup = min(100, max(1, people // 10))
            measured = asyncio.run(measure_memory(url, workdir, people=people, warmup=warmup))
            print(json.dumps(measured))
            return 0
        results = asyncio.run(run(args, workdir))
    path = report.write(results, args.out)
    if args.readme:
        report.update_readme(results)
    print(report.table(results))
    print(f"\nTotal {results['seconds']:.0f} s; results in {path}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
