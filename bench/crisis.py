"""The crisis check's cost: import, first check (the data files read), µs per message.

Issue 11's budget: the module imports in well under 100 ms, and one check of a
200-character message takes at most 100 µs. Import and first-check times come from fresh
interpreters (the best of several: a shared machine only ever adds time).
"""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Callable
from typing import Any

from bench.lookups import per_call_us
from conversations.safety.check import assess

# Three 200-character messages: everyday talk, a check-in, the urgent reply (the
# verdicts are asserted, so a retrained model that moved one shows here at once).
QUIET_200 = (
    "I drink most days and want to stop, and I'd like to talk to someone about work. "
    "My work coach said there are mentors at the Jobcentre, so how do I ask for one? "
    "Thanks for any help"
)[:200]
CHECKIN_200 = (
    "been a rough few weeks if im honest, lost my job and the drink has got worse, "
    "whats the point anymore. dont really know why im writing this, my sister said to "
    "try it. sorry for going on x"
)[:200]
URGENT_200 = (
    "please help my mate took a load of pills and some gin at the party and now he wont "
    "wake up, his lips look blue and hes making a weird snoring noise. what do i do, we "
    "are at his flat now"
)[:200]
LONG_1000 = ("I need help finding a job near Portsmouth and a peer mentor to talk to. " * 15)[:1000]

# The standard library the bot imports anyway (Python's own start-up is not the check's).
_STDLIB = "json, re, dataclasses, enum, typing, pathlib, functools, itertools, math, collections"
_CHILD = f"""
import time, json as _j
import {_STDLIB}
t0 = time.perf_counter()
import conversations.safety.check as check
t1 = time.perf_counter()
check.assess("hello, is anyone there")
t2 = time.perf_counter()
print(_j.dumps({{"import_ms": (t1 - t0) * 1e3, "first_check_ms": (t2 - t1) * 1e3}}))
"""


def _fresh(runs: int) -> dict[str, float]:
    found: list[dict[str, float]] = []
    for _ in range(runs):
        out = subprocess.run(
            [sys.executable, "-c", _CHILD], capture_output=True, text=True, check=True
        )
        found.append(json.loads(out.stdout))
    return {key: min(run[key] for run in found) for key in found[0]}


def _must(tier: str | None, text: str) -> Callable[[], Any]:
    verdict = assess(text)
    got = verdict.tier.value if verdict else None
    if got != tier:
        raise AssertionError(f"crisis bench message expected {tier}, got {got}")
    return lambda: assess(text)


def crisis_costs(*, runs: int = 5, repeats: int = 5, budget: float = 0.05) -> dict[str, float]:
    checks = {
        "quiet_200_us": _must(None, QUIET_200),
        "checkin_200_us": _must("checkin", CHECKIN_200),
        "urgent_200_us": _must("urgent", URGENT_200),
        "quiet_1000_us": lambda: assess(LONG_1000),
    }
    results = {name: per_call_us(fn, repeats, budget) for name, fn in checks.items()}
    results.update(_fresh(runs))
    return results
