"""Mentor notifications through the outbox, against the 30 messages a second Telegram
allows a bot, over loopback HTTP.

People ask for a mentor through the real bot (no rate limiter, no worker: that part is
set-up), which leaves one card per mentor waiting in the outbox. Then the production
stack starts on the same database: the TelegramLimiter and the delivery worker, with
the emulator enforcing 30 messages a second overall. Every card must arrive, with no 429.
"""

from __future__ import annotations

from functools import partial
from pathlib import Path
from typing import Any

from bench import mentors
from bench.apps import TOKEN, bench_settings
from bench.journey import check_finished, register
from bench.loopback import journey_ticks, settle, ticks
from bench.throughput import PersonIds
from bot.app import build_application
from bot.delivery import worker_of
from bot.runner import start_application, stop_application
from bot.sandbox import EmulatorServer, TelegramEmulator
from storage.crypto import KeyRing

TELEGRAM_LIMIT = 30
MENTOR_IDS = (6_800_000_001, 6_800_000_002, 6_800_000_003, 6_800_000_004, 6_800_000_005)


async def measure_outbox(database_url: str, workdir: Path, *, people: int) -> dict[str, Any]:
    emu = TelegramEmulator(TOKEN)
    ring = KeyRing.generate()
    crowd = PersonIds(6_700_000_001).take(people)
    async with EmulatorServer(emu) as server:
        settings = bench_settings(emu, database_url, workdir).model_copy(
            update={"telegram_api_url": server.base_url}
        )
        # Set-up: mentors join, people ask for one. Cards wait in the outbox.
        setup = build_application(settings, ring=ring, rate_limit=False, delivery=False)
        await start_application(setup)
        try:
            await mentors.join(emu, setup, MENTOR_IDS, partial(settle, emu, setup))
            register(emu, crowd)
            await ticks(emu, setup, journey_ticks(emu, crowd))
            check_finished(emu, crowd)
        finally:
            await stop_application(setup)

        # Production stack: rate limiter and worker, Telegram's overall limit enforced.
        cards = people * len(MENTOR_IDS)
        emu.enforce_rate_limit(overall_per_second=TELEGRAM_LIMIT)
        since = emu.clock()
        application = build_application(settings, ring=ring, rate_limit=True, delivery=False)
        await start_application(application)
        worker = worker_of(application)
        try:
            worker.start()
            await emu.wait_for(
                lambda: _to_mentors(emu, since, 200) >= cards,
                max(30.0, 4 * cards / TELEGRAM_LIMIT),
                message="every card delivered",
            )
        finally:
            await worker.stop()
            await stop_application(application)
    delivered = [c for c in emu.calls("sendMessage") if c.at >= since and c.status == 200]
    span = delivered[-1].at - delivered[0].at if len(delivered) > 1 else 0.0
    return {
        "people": people,
        "mentors": len(MENTOR_IDS),
        "cards": cards,
        "delivered": _to_mentors(emu, since, 200),
        "delivered_per_s": (len(delivered) - 1) / span if span > 0 else 0.0,
        "status_429": sum(c.status == 429 for c in emu.calls() if c.at >= since),
        "seconds": span,
        "limit_per_s": TELEGRAM_LIMIT,
        "configured_per_s": settings.delivery_messages_per_second,
    }


def _to_mentors(emu: TelegramEmulator, since: float, status: int) -> int:
    chats = {str(chat) for chat in MENTOR_IDS}
    return sum(
        1
        for call in emu.calls("sendMessage")
        if call.at >= since and call.status == status and str(call.params.get("chat_id")) in chats
    )
