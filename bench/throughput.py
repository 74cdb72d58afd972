"""Full journey against a bare PTB echo, in process, alternating rounds in one run.

Each round sends `people` new scripted people through the full bot and the same number
of text updates through the echo bot; which side goes first alternates. Both sides time
only `feed` (parse the raw JSON, build the Update, process it); making the updates with
the emulator's driver is the person's side and is not timed.
"""

from __future__ import annotations

import itertools
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from bench.anatomy import per_update
from bench.apps import Bots, ErrorCounter, feed, fetch_raw, running_bots
from bench.journey import JOURNEY, check_finished, echo_texts, register, schedule
from bench.stats import median, per_second, percentile
from bot.sandbox import TelegramEmulator
from conversations.context import FirstStepApp


@dataclass
class Side:
    """One side's timings over all rounds (ns per update, per round; CPU s per round)."""

    rounds: list[list[int]] = field(default_factory=list)
    cpu: list[float] = field(default_factory=list)

    def cpu_us_per_update(self) -> list[float]:
        return [c / len(r) * 1e6 for c, r in zip(self.cpu, self.rounds, strict=True)]

    def rate(self, index: int) -> float:
        latencies = self.rounds[index]
        return per_second(len(latencies), sum(latencies) / 1e9)

    def rates(self) -> list[float]:
        return [self.rate(i) for i in range(len(self.rounds))]

    def all_latencies(self) -> list[int]:
        return [value for latencies in self.rounds for value in latencies]


class PersonIds:
    """Fresh telegram ids, so every round's people are new to the bot."""

    def __init__(self, first: int) -> None:
        self._ids: Iterator[int] = itertools.count(first)

    def take(self, count: int) -> list[int]:
        return [next(self._ids) for _ in range(count)]


async def run_journeys(
    bots: Bots, people: Sequence[int], cpu: list[float] | None = None
) -> list[int]:
    """Send `people` through the whole journey; returns the full bot's ns per update."""
    return await journeys(bots.emu, bots.full, bots.errors, people, cpu)


async def journeys(
    emu: TelegramEmulator,
    application: FirstStepApp,
    errors: ErrorCounter,
    people: Sequence[int],
    cpu: list[float] | None = None,
) -> list[int]:
    """The scripted journeys of `people` through one Application, tick by tick."""
    register(emu, people)
    latencies: list[int] = []
    ticks: list[float] = []
    for tick in schedule(people):
        for person, index in tick:
            JOURNEY[index].act(emu, person)
        latencies.extend(await feed(application, await fetch_raw(emu), ticks))
    if cpu is not None:
        cpu.append(sum(ticks))
    check_finished(emu, people)
    if errors.count:
        raise AssertionError(f"the full bot logged {errors.count} handler errors")
    return latencies


async def run_echo(
    bots: Bots, people: Sequence[int], updates: int, cpu: list[float] | None = None
) -> list[int]:
    """The same number of text updates through the echo bot."""
    register(bots.emu, people)
    for k, text in enumerate(echo_texts(updates)):
        bots.emu.user_sends(people[k % len(people)], text)
    raws = await fetch_raw(bots.emu)
    latencies = await feed(bots.echo, raws, cpu)
    echoed = sum(len(bots.emu.bot_texts(person)) for person in people)
    if echoed != updates:
        raise AssertionError(f"the echo bot answered {echoed} of {updates} updates")
    return latencies


@dataclass
class ThroughputResult:
    full: Side
    echo: Side
    people: int
    updates_per_round: int
    per_update: dict[str, float] = field(default_factory=dict)

    def ratios(self) -> list[float]:
        return [f / e for f, e in zip(self.full.rates(), self.echo.rates(), strict=True)]

    def summary(self) -> dict[str, Any]:
        latencies = self.full.all_latencies()
        return {
            "people_per_round": self.people,
            "updates_per_round": self.updates_per_round,
            "rounds": len(self.full.rounds),
            "full_updates_per_s": median(self.full.rates()),
            "echo_updates_per_s": median(self.echo.rates()),
            "ratio": median(self.ratios()),
            "full_rounds": [round(r, 1) for r in self.full.rates()],
            "echo_rounds": [round(r, 1) for r in self.echo.rates()],
            "ratio_rounds": [round(r, 3) for r in self.ratios()],
            "full_cpu_us_per_update": median(self.full.cpu_us_per_update()),
            "echo_cpu_us_per_update": median(self.echo.cpu_us_per_update()),
            "cpu_ratio": median(
                [
                    e / f
                    for f, e in zip(
                        self.full.cpu_us_per_update(), self.echo.cpu_us_per_update(), strict=True
                    )
                ]
            ),
            "latency_us": {
                "p50": percentile(latencies, 0.50) / 1e3,
                "p90": percentile(latencies, 0.90) / 1e3,
                "p99": percentile(latencies, 0.99) / 1e3,
                "max": max(latencies, default=0) / 1e3,
            },
            "per_update": self.per_update,
        }


async def measure(
    database_url: str, workdir: Path, *, people: int, rounds: int, warmup: int = 20
) -> ThroughputResult:
    """`rounds` alternating rounds of `people` journeys vs as many echo updates."""
    ids = PersonIds(7_000_000_001)
    updates = people * len(JOURNEY)
    result = ThroughputResult(Side(), Side(), people, updates)
    async with running_bots(database_url, workdir) as bots:
        # Warm both sides up (imports, statement caches, first connections), untimed.
        await run_journeys(bots, ids.take(warmup))
        await run_echo(bots, ids.take(warmup), warmup * len(JOURNEY))
        for number in range(rounds):
            full_people, echo_people = ids.take(people), ids.take(people)
            full, echo = result.full, result.echo
            if number % 2 == 0:
                echo.rounds.append(await run_echo(bots, echo_people, updates, echo.cpu))
                full.rounds.append(await run_journeys(bots, full_people, full.cpu))
            else:
                full.rounds.append(await run_journeys(bots, full_people, full.cpu))
                echo.rounds.append(await run_echo(bots, echo_people, updates, echo.cpu))
        # Countable units per update (statements, commits, round trips), untimed.
        result.per_update = await per_update(bots, ids.take(min(people, 12)), run_journeys)
    return result
