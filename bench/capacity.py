"""What ships, over loopback HTTP (issue 16, item 6): the production Application as built
for `firststep run` — the shipped rate limiter on, people served side by side, the outbox
worker running — against the emulator's HTTP server, which holds the bot to Telegram's
rates (30 sends in any second, 3 in any second to one chat) and answers 429 beyond them.
Every Bot API call waits a simulated round trip to Telegram (40 ms) before it goes.

- sustained: 300 people go through the whole journey in staggered ticks; updates per
  second over all of it, and CPU per update (the emulator runs in this same process, so
  its work is counted too: an upper bound);
- first reply: new people send /start at 15 updates a second (offered, open loop); the
  time from each update until the bot's first call to that person's chat, p50 and p99.
"""

from __future__ import annotations

import asyncio
import resource
import time
from functools import partial
from pathlib import Path
from typing import Any

from telegram import Update
from telegram.ext import TypeHandler
from telegram.request import RequestData

from bench import mentors
from bench.apps import MENTOR_IDS, TOKEN, bench_settings
from bench.journey import JOURNEY, check_finished, register
from bench.loopback import AnyApp, journey_ticks
from bench.stats import median, per_second, percentile
from bench.throughput import PersonIds
from bot.aiohttp_request import AiohttpRequest
from bot.app import build_application
from bot.runner import start_application, stop_application
from bot.sandbox import EmulatorServer, TelegramEmulator
from storage.crypto import KeyRing

ROUND_TRIP_S = 0.040
OFFERED_PER_S = 15.0


class RoundTripRequest(AiohttpRequest):
    """The Bot API client the bot ships with (aiohttp), after a simulated round trip to
    Telegram."""

    async def do_request(
        self,
        url: str,
        method: str,
        request_data: RequestData | None = None,
        read_timeout: Any = AiohttpRequest.DEFAULT_NONE,
        write_timeout: Any = AiohttpRequest.DEFAULT_NONE,
        connect_timeout: Any = AiohttpRequest.DEFAULT_NONE,
        pool_timeout: Any = AiohttpRequest.DEFAULT_NONE,
    ) -> tuple[int, bytes]:
        await asyncio.sleep(ROUND_TRIP_S)
        return await super().do_request(
            url, method, request_data, read_timeout, write_timeout, connect_timeout, pool_timeout
        )


SEEN_KEY = "bench.last_update_id"


async def _note(update: object, context: Any) -> None:
    if isinstance(update, Update):
        data = context.application.bot_data
        data[SEEN_KEY] = max(data.get(SEEN_KEY, 0), update.update_id)


def watch(application: AnyApp) -> None:
    """Notes the newest update the bot began to handle (first of all handlers; it stops
    nothing), so `settle` needs no scan of the emulator's call log."""
    application.add_handler(TypeHandler(Update, _note), group=-100)


async def settle(emu: TelegramEmulator, application: AnyApp, timeout: float = 120.0) -> None:
    """Until every update given to the emulator so far was fully handled: the bot began
    the newest one (so all are in PTB's queue or done), then the queue is empty."""
    last = emu._next_update_id - 1  # the emulator's own counter: the newest update made
    await emu.wait_for(
        lambda: application.bot_data.get(SEEN_KEY, 0) >= last,
        timeout,
        interval=0.002,
        message="updates begun",
    )
    await asyncio.wait_for(application.update_queue.join(), timeout)


async def timed_ticks(emu: TelegramEmulator, application: AnyApp, acts: list[Any]) -> float:
    total = 0.0
    for act in acts:
        started = time.perf_counter()
        act()
        await settle(emu, application)
        total += time.perf_counter() - started
    return total


def _cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def _first_replies(emu: TelegramEmulator, sent: dict[int, float]) -> list[float]:
    """Seconds from each person's update to the bot's first successful call to them."""
    first: dict[int, float] = {}
    for call in emu.calls():
        chat = call.params.get("chat_id")
        if isinstance(chat, int) and chat in sent and chat not in first and call.status == 200:
            first[chat] = call.at - sent[chat]
    missing = set(sent) - set(first)
    if missing:
        raise AssertionError(f"{len(missing)} people got no reply")
    return list(first.values())


async def measure_capacity(
    database_url: str, workdir: Path, *, people: int = 300, offered_people: int = 300
) -> dict[str, Any]:
    emu = TelegramEmulator(TOKEN)
    emu.enforce_rate_limit(overall_per_second=30, per_chat_per_second=3)
    ids = PersonIds(9_500_000_001)
    async with EmulatorServer(emu) as server:
        settings = bench_settings(emu, database_url, workdir).model_copy(
            update={"telegram_api_url": server.base_url}
        )
        application = build_application(
            settings,
            request=RoundTripRequest(connection_pool_size=256),
            get_updates_request=RoundTripRequest(read_timeout=5.0),
            ring=KeyRing.generate(),
        )
        watch(application)
        await start_application(application)
        try:
            feed = partial(settle, emu, application)
            await mentors.join(emu, application, MENTOR_IDS, feed)

            crowd = ids.take(people)
            register(emu, crowd)
            calls_before = len(emu.calls())
            cpu_before = _cpu()
            seconds = await timed_ticks(emu, application, journey_ticks(emu, crowd))
            cpu = _cpu() - cpu_before
            check_finished(emu, crowd)
            updates = people * len(JOURNEY)
            chat_calls = [
                c for c in emu.calls()[calls_before:] if c.params.get("chat_id") is not None
            ]

            newcomers = ids.take(offered_people)
            register(emu, newcomers)
            sent: dict[int, float] = {}
            started = time.monotonic()
            for number, person in enumerate(newcomers):
                due = started + number / OFFERED_PER_S
                await asyncio.sleep(max(0.0, due - time.monotonic()))
                sent[person] = time.time()
                emu.user_sends(person, "/start")
            await feed()
            waits = _first_replies(emu, sent)
        finally:
            await stop_application(application)
    refused = sum(1 for c in emu.calls() if c.status == 429)
    return {
        "round_trip_ms": ROUND_TRIP_S * 1000,
        "people": people,
        "sustained_updates_per_s": per_second(updates, seconds),
        "cpu_per_update_ms": cpu / updates * 1000,
        "chat_calls_per_update": len(chat_calls) / updates,
        "offered_per_s": OFFERED_PER_S,
        "first_reply_p50_ms": median(waits) * 1000,
        "first_reply_p99_ms": percentile(waits, 0.99) * 1000,
        "refused_429": refused,
    }
