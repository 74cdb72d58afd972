"""Resident memory before and after many distinct people went through the journey.

Run in a process of its own (`python -m bench --child memory`), so nothing the other
benchmarks left behind is counted. Each batch of people gets a fresh emulator, so only
what the bot itself keeps is measured; RSS is read after a full garbage collection.
"""

from __future__ import annotations

import logging
import time
from pathlib import Path
from typing import Any

from bench.apps import TOKEN, ErrorCounter, SwitchableRequest, build_full, start_full, stop_full
from bench.journey import JOURNEY
from bench.stats import rss_bytes
from bench.throughput import PersonIds, journeys
from bot.sandbox import EmulatorRequest, TelegramEmulator
from storage.crypto import KeyRing

MB = 1024 * 1024


async def measure_memory(
    database_url: str, workdir: Path, *, people: int, batch: int = 250, warmup: int = 100
) -> dict[str, Any]:
    emu = TelegramEmulator(TOKEN)
    request = SwitchableRequest(EmulatorRequest(emu))
    application = build_full(emu, database_url, workdir, KeyRing.generate(), request=request)
    errors = ErrorCounter()
    logging.getLogger("firststep.errors").addHandler(errors)
    ids = PersonIds(8_000_000_001)
    next_update = 1

    async def run_batch(count: int) -> None:
        nonlocal next_update
        fresh = TelegramEmulator(TOKEN, first_update_id=next_update)
        request.target = EmulatorRequest(fresh)
        await journeys(fresh, application, errors, ids.take(count))
        next_update += count * len(JOURNEY)
        request.target = EmulatorRequest(TelegramEmulator(TOKEN, first_update_id=next_update))

    await start_full(application)
    try:
        await run_batch(warmup)
        before = rss_bytes()
        started = time.perf_counter()
        done = 0
        while done < people:
            count = min(batch, people - done)
            await run_batch(count)
            done += count
        elapsed = time.perf_counter() - started
        after = rss_bytes()
    finally:
        await stop_full(application)
        logging.getLogger("firststep.errors").removeHandler(errors)
    return {
        "people": people,
        "rss_before_mb": before / MB,
        "rss_after_mb": after / MB,
        "growth_mb": (after - before) / MB,
        "bytes_per_person": (after - before) / people if people else 0.0,
        "seconds": elapsed,
    }
