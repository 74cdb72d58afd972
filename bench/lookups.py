"""Hot lookups on their own (µs per call) and the time from nothing to the first poll."""

from __future__ import annotations

import time
import timeit
from collections.abc import Callable
from functools import partial
from pathlib import Path
from typing import Any

from bench.apps import TOKEN, bench_settings
from bench.stats import median
from bot.app import build_application
from bot.runner import start_application, stop_application
from bot.sandbox import EmulatorRequest, TelegramEmulator
from conversations.safety.check import assess
from storage.crypto import KeyRing
from storage.directory import (
    AreaLookup,
    PilotAnswer,
    locate_point,
    locate_text,
    pilot_answer,
    search_offices,
)

QUIET = "I drink most days and want to stop, and I'd like to talk to someone about work"
URGENT = "I can't go on any more, I want to end it all tonight"
LONG = ("Some days are better than others and I keep trying to cut down. " * 16)[:1000]


def per_call_us(fn: Callable[[], Any], repeats: int, budget: float) -> float:
    """Median over `repeats` timings of a loop sized to about `budget` seconds.

    CPU time of this thread, not wall time: on a shared machine other processes take
    turns on the cores, which would otherwise be counted as the lookup's cost.
    """
    timer = timeit.Timer(fn, timer=time.thread_time)
    # Size the loop from a run of about a tenth of the budget (timeit's autorange always
    # spends 0.2 s per lookup, whatever the budget, which made tiny runs slow).
    number, elapsed = 1, timer.timeit(1)
    while elapsed < budget / 10 and number < 10_000_000:
        number *= 2
        elapsed = timer.timeit(number)
    number = max(1, int(number * budget / max(elapsed, 1e-9)))
    return median([t / number * 1e6 for t in timer.repeat(repeats, number)])


def _must(value: object) -> object:
    if value is None:
        raise AssertionError("lookup returned nothing")
    return value


def _answer(found: object) -> PilotAnswer:
    """What the finder does with a decided lookup: the pilot answer for its authority."""
    if not isinstance(found, AreaLookup):
        raise AssertionError("lookup found no place")
    return pilot_answer(found)


def lookup_costs(*, repeats: int = 5, budget: float = 0.05) -> dict[str, float]:
    """µs per call of the lookups every finder or free-text update makes."""
    checks: dict[str, Callable[[], Any]] = {
        "postcode_nearest_offices": lambda: _answer(locate_text("PO1 2AB")),
        "location_nearest_offices": lambda: _answer(locate_point(50.7989, -1.0912)),
        "town_exact": lambda: _answer(locate_text("Portsmouth")),
        "town_misspelt": lambda: locate_text("Portsmuoth"),
        "jobcentre_by_name": lambda: _must(search_offices("Kentish Town").offices or None),
        "crisis_quiet_message": lambda: assess(QUIET),
        "crisis_urgent_message": lambda: _must(assess(URGENT)),
        "crisis_1000_chars": lambda: assess(LONG),
    }
    for fn in checks.values():
        fn()  # warm caches and lazy tables before timing
    return {name: per_call_us(fn, repeats, budget) for name, fn in checks.items()}


async def startup_seconds(database_url: str, workdir: Path, *, runs: int = 3) -> dict[str, Any]:
    """build_application + start_application until the emulator sees the first getUpdates.

    The first run meets an empty database (migrations run); later runs a ready one.
    """
    ring = KeyRing.generate()
    times: list[float] = []
    for _ in range(runs):
        emu = TelegramEmulator(TOKEN)
        started = time.time()
        application = build_application(
            bench_settings(emu, database_url, workdir),
            request=EmulatorRequest(emu),
            get_updates_request=EmulatorRequest(emu, read_timeout=5.0),
            ring=ring,
            rate_limit=False,
        )
        await start_application(application)
        try:
            first = await emu.wait_for(partial(emu.calls, "getUpdates"), 10.0, interval=0.001)
        finally:
            await stop_application(application)
        times.append(first[0].at - started)
    return {
        "first_start_s": times[0],
        "restart_s": median(times[1:]) if len(times) > 1 else times[0],
        "runs": [round(t, 3) for t in times],
    }
