"""Three HTTP clients for PTB, in the same run (issue 16, item 4): httpx as PTB sets it
up, httpx tuned for HTTP/1.1 keep-alive, and the shipped aiohttp request class. The
full bot goes through the journey over loopback HTTP against the emulator's server
(limiter off, people side by side), in alternating rounds; updates per second and CPU
per update (the emulator's server runs in this process too, the same for all three)."""

from __future__ import annotations

import resource
from collections.abc import Callable
from functools import partial
from pathlib import Path
from typing import Any

import httpx
from telegram.request import BaseRequest, HTTPXRequest

from bench import mentors
from bench.apps import MENTOR_IDS, TOKEN, bench_settings
from bench.capacity import settle, timed_ticks, watch
from bench.journey import JOURNEY, check_finished, register
from bench.loopback import journey_ticks
from bench.stats import median, per_second
from bench.throughput import PersonIds
from bot.aiohttp_request import AiohttpRequest
from bot.app import build_application
from bot.runner import start_application, stop_application
from bot.sandbox import EmulatorServer, TelegramEmulator
from storage.crypto import KeyRing


def _httpx_tuned(read_timeout: float = 5.0) -> BaseRequest:
    return HTTPXRequest(
        connection_pool_size=256,
        read_timeout=read_timeout,
        http_version="1.1",
        httpx_kwargs={
            "limits": httpx.Limits(
                max_connections=256, max_keepalive_connections=256, keepalive_expiry=60.0
            )
        },
    )


CLIENTS: dict[str, Callable[[float], BaseRequest]] = {
    "httpx": lambda read: HTTPXRequest(read_timeout=read),
    "httpx_tuned": _httpx_tuned,
    "aiohttp": lambda read: AiohttpRequest(read_timeout=read),
}


def _cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


async def measure_clients(
    database_url: str, workdir: Path, *, people: int, rounds: int
) -> dict[str, Any]:
    emu = TelegramEmulator(TOKEN)
    ring = KeyRing.generate()
    ids = PersonIds(9_700_000_001)
    rates: dict[str, list[float]] = {name: [] for name in CLIENTS}
    cpu: dict[str, list[float]] = {name: [] for name in CLIENTS}
    async with EmulatorServer(emu) as server:
        settings = bench_settings(emu, database_url, workdir).model_copy(
            update={"telegram_api_url": server.base_url}
        )
        joined = False
        for number in range(rounds):
            names = list(CLIENTS) if number % 2 == 0 else list(reversed(CLIENTS))
            for name in names:
                make = CLIENTS[name]
                application = build_application(
                    settings,
                    request=make(5.0),
                    get_updates_request=make(5.0),
                    ring=ring,
                    rate_limit=False,
                    delivery=False,
                )
                watch(application)
                await start_application(application)
                try:
                    if not joined:
                        await mentors.join(
                            emu, application, MENTOR_IDS, partial(settle, emu, application)
                        )
                        joined = True
                    crowd = ids.take(people)
                    register(emu, crowd)
                    before = _cpu()
                    seconds = await timed_ticks(emu, application, journey_ticks(emu, crowd))
                    used = _cpu() - before
                    check_finished(emu, crowd)
                finally:
                    await stop_application(application)
                updates = people * len(JOURNEY)
                rates[name].append(per_second(updates, seconds))
                cpu[name].append(used / updates * 1000)
    result: dict[str, Any] = {"people_per_round": people, "rounds": rounds}
    for name in CLIENTS:
        result[f"{name}_updates_per_s"] = median(rates[name])
        result[f"{name}_cpu_ms"] = median(cpu[name])
    return result
