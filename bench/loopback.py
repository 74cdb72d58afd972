"""The real polling loop over loopback HTTP: python-telegram-bot's Updater and HTTPXRequest
against the emulator's `EmulatorServer`, for the full bot and the echo baseline in turn.

Each tick the people due a step act through the emulator's driver; the tick ends when
the bot has fetched every update and finished handling it. Updates per second are taken
over the ticks, so the HTTP round trips (getUpdates, sendMessage, answerCallbackQuery…)
are all inside the measurement.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable, Sequence
from functools import partial
from pathlib import Path
from typing import Any

from telegram.ext import Application, ContextTypes, MessageHandler, filters

from bench import mentors
from bench.apps import MENTOR_IDS, TOKEN, bench_settings, echo_reply
from bench.journey import JOURNEY, check_finished, echo_texts, register, schedule
from bench.stats import median, per_second
from bench.throughput import PersonIds
from bot.app import build_application
from bot.runner import start_application, stop_application
from bot.sandbox import EmulatorServer, TelegramEmulator
from storage.crypto import KeyRing

AnyApp = Application[Any, Any, Any, Any, Any, Any]


async def settle(emu: TelegramEmulator, application: AnyApp, timeout: float = 30.0) -> None:
    """Until every queued update was fetched and fully handled."""
    deadline = time.monotonic() + timeout
    while emu.pending_updates():
        if time.monotonic() > deadline:
            raise AssertionError("the bot did not fetch its updates in time")
        await asyncio.sleep(0.001)
    for _ in range(3):
        await asyncio.sleep(0)
    await asyncio.wait_for(application.update_queue.join(), timeout)


async def ticks(
    emu: TelegramEmulator, application: AnyApp, ticks: Sequence[Callable[[], object]]
) -> float:
    """Seconds from each tick's first action until the bot has handled it, summed."""
    total = 0.0
    for act in ticks:
        started = time.perf_counter()
        act()
        await settle(emu, application)
        total += time.perf_counter() - started
    return total


def journey_ticks(emu: TelegramEmulator, people: Sequence[int]) -> list[Callable[[], object]]:
    def tick(entries: list[tuple[int, int]]) -> Callable[[], object]:
        return lambda: [JOURNEY[index].act(emu, person) for person, index in entries]

    return [tick(entries) for entries in schedule(people)]


def echo_ticks(
    emu: TelegramEmulator, people: Sequence[int], sizes: Sequence[int]
) -> list[Callable[[], object]]:
    texts = iter(echo_texts(sum(sizes)))
    senders = iter(range(sum(sizes)))

    def tick(size: int) -> Callable[[], object]:
        return lambda: [
            emu.user_sends(people[next(senders) % len(people)], next(texts)) for _ in range(size)
        ]

    return [tick(size) for size in sizes]


def _echo_app(server: EmulatorServer) -> AnyApp:
    application = (
        Application.builder()
        .token(TOKEN)
        .base_url(server.base_url)
        .context_types(ContextTypes())
        .build()
    )
    application.add_handler(MessageHandler(filters.TEXT, echo_reply))
    return application


async def _start_echo(application: AnyApp) -> None:
    await application.initialize()
    assert application.updater is not None
    await application.updater.start_polling(poll_interval=0.0, timeout=1)
    await application.start()


async def _stop_echo(application: AnyApp) -> None:
    assert application.updater is not None
    await application.updater.stop()
    await application.stop()
    await application.shutdown()


async def measure_http(
    database_url: str, workdir: Path, *, people: int, rounds: int
) -> dict[str, Any]:
    """Alternating rounds: the full bot's journeys, then as many echo updates, over HTTP."""
    emu = TelegramEmulator(TOKEN)
    ring = KeyRing.generate()
    ids = PersonIds(9_000_000_001)
    full_rates: list[float] = []
    echo_rates: list[float] = []
    joined: list[bool] = []
    async with EmulatorServer(emu) as server:
        settings = bench_settings(emu, database_url, workdir).model_copy(
            update={"telegram_api_url": server.base_url}
        )

        async def full_round() -> None:
            # No rate limiter and no outbox worker: both are measured on their own.
            application = build_application(settings, ring=ring, rate_limit=False, delivery=False)
            await start_application(application)
            try:
                if not joined:
                    await mentors.join(
                        emu, application, MENTOR_IDS, partial(settle, emu, application)
                    )
                    joined.append(True)
                crowd = ids.take(people)
                register(emu, crowd)
                seconds = await ticks(emu, application, journey_ticks(emu, crowd))
                check_finished(emu, crowd)
            finally:
                await stop_application(application)
            full_rates.append(per_second(people * len(JOURNEY), seconds))

        async def echo_round() -> None:
            application = _echo_app(server)
            await _start_echo(application)
            try:
                crowd = ids.take(people)
                register(emu, crowd)
                sizes = [len(tick) for tick in schedule(crowd)]
                seconds = await ticks(emu, application, echo_ticks(emu, crowd, sizes))
            finally:
                await _stop_echo(application)
            echo_rates.append(per_second(sum(sizes), seconds))

        for number in range(rounds):
            order = (echo_round, full_round) if number % 2 == 0 else (full_round, echo_round)
            for run in order:
                await run()
    ratios = [f / e for f, e in zip(full_rates, echo_rates, strict=True)]
    return {
        "people_per_round": people,
        "rounds": rounds,
        "full_updates_per_s": median(full_rates),
        "echo_updates_per_s": median(echo_rates),
        "ratio": median(ratios),
        "full_rounds": [round(r, 1) for r in full_rates],
        "echo_rounds": [round(r, 1) for r in echo_rates],
    }
