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

from bench import mentors
from bench.apps import (
    MENTOR_IDS,
    TOKEN,
    ErrorCounter,
    SwitchableRequest,
    build_full,
    feed_all,
    start_full,
    stop_full,
)
from bench.journey import JOURNEY
from bench.stats import rss_bytes
from bench.throughput import PersonIds, journeys
from bot.guards import RATE_LIMITER_KEY, RECENT_UPDATES_KEY
from bot.sandbox import EmulatorRequest, TelegramEmulator
from conversations.context import FirstStepApp
from conversations.newest import NEWEST_KEY
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
    next_update = 1_000_000  # clear of the mentors' own updates in the first emulator

    async def run_batch(count: int) -> None:
        nonlocal next_update
        fresh = TelegramEmulator(TOKEN, first_update_id=next_update)
        request.inner = EmulatorRequest(fresh)
        await journeys(fresh, application, errors, ids.take(count))
        next_update += count * len(JOURNEY)
        request.inner = EmulatorRequest(TelegramEmulator(TOKEN, first_update_id=next_update))

    await start_full(application)
    try:
        await mentors.join(emu, application, MENTOR_IDS, lambda: feed_all(application, emu))
        await run_batch(warmup)
        before = rss_bytes()
        curve: list[tuple[int, float]] = [(0, 0.0)]
        started = time.perf_counter()
        done = 0
        while done < people:
            count = min(batch, people - done)
            await run_batch(count)
            done += count
            curve.append((done, (rss_bytes() - before) / MB))
        elapsed = time.perf_counter() - started
        after = rss_bytes()
        kept = entries_kept(application)
    finally:
        await stop_full(application)
        logging.getLogger("firststep.errors").removeHandler(errors)
    return {
        "people": people,
        "rss_before_mb": before / MB,
        "rss_after_mb": after / MB,
        "growth_mb": (after - before) / MB,
        "bytes_per_person": (after - before) / people if people else 0.0,
        "second_half_bytes_per_person": _second_half_slope(curve),
        "growth_curve_mb": [[n, round(mb, 2)] for n, mb in curve],
        "entries_kept": kept,
        "seconds": elapsed,
    }


def entries_kept(application: FirstStepApp) -> dict[str, int]:
    """Sizes of the in-process maps that could hold an entry per person, at the end: what
    the RSS growth is made of, if anything is kept per person."""
    bot_data = application.bot_data
    return {
        "ptb_user_data": len(application.user_data),
        "ptb_chat_data": len(application.chat_data),
        "ptb_user_ids_for_persistence": len(application._user_ids_to_be_updated_in_persistence),
        "ptb_chat_ids_for_persistence": len(application._chat_ids_to_be_updated_in_persistence),
        "rate_windows": len(bot_data.get(RATE_LIMITER_KEY, ())),
        "recent_update_ids": len(bot_data.get(RECENT_UPDATES_KEY, ())),
        # The newest message id of each chat heard from lately (at most 10,000 chats).
        "newest_message_ids": len(bot_data.get(NEWEST_KEY, ())),
    }


def _second_half_slope(curve: list[tuple[int, float]]) -> float:
    """Bytes per person over the second half of the run: whether growth is still going on
    (caches filling up level off; memory kept per person does not)."""
    half = curve[-1][0] / 2
    start = min(curve, key=lambda point: abs(point[0] - half))
    people = curve[-1][0] - start[0]
    return (curve[-1][1] - start[1]) * MB / people if people else 0.0
