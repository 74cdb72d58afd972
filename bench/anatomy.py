"""What one update costs in countable units, beside the timings: SQL statements, commits,
driver round trips (aiosqlite runs every call on its own thread, so each is a thread
hand-off) and Bot API calls. Counts are stable where timings on a shared machine are not.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import Any

import aiosqlite.core
from sqlalchemy import event, text

from bench.apps import Bots
from bench.stats import median
from storage.db import Database


@dataclass
class Counts:
    statements: int = 0
    commits: int = 0
    round_trips: int = 0


@asynccontextmanager
async def counting(database: Database) -> AsyncIterator[Counts]:
    """Count statements and commits on the engine, and aiosqlite's thread round trips."""
    counts = Counts()
    engine = database.engine.sync_engine

    def on_statement(*_: Any) -> None:
        counts.statements += 1

    def on_commit(*_: Any) -> None:
        counts.commits += 1

    original: Any = aiosqlite.core.Connection._execute

    async def counted(self: Any, fn: Any, *args: Any, **kwargs: Any) -> Any:
        counts.round_trips += 1
        return await original(self, fn, *args, **kwargs)

    event.listen(engine, "before_cursor_execute", on_statement)
    event.listen(engine, "commit", on_commit)
    aiosqlite.core.Connection._execute = counted  # type: ignore[method-assign]
    try:
        yield counts
    finally:
        aiosqlite.core.Connection._execute = original  # type: ignore[method-assign]
        event.remove(engine, "before_cursor_execute", on_statement)
        event.remove(engine, "commit", on_commit)


Journeys = Callable[[Bots, Sequence[int]], Awaitable[list[int]]]


async def per_update(bots: Bots, people: Sequence[int], journeys: Journeys) -> dict[str, float]:
    """Average counts per update over the journeys of `people` (untimed)."""
    database = bots.full.bot_data.services.database
    since = bots.emu.clock()
    async with counting(database) as counts:
        latencies = await journeys(bots, people)
    updates = len(latencies)
    api_calls = [c for c in bots.emu.calls() if c.at >= since and c.method != "getUpdates"]
    return {
        "sql_statements": counts.statements / updates,
        "commits": counts.commits / updates,
        "driver_round_trips": counts.round_trips / updates,
        "bot_api_calls": len(api_calls) / updates,
        "select_1_us": await select_one_us(database),
        "bot_api_call_us": await bot_api_call_us(bots, people[0]),
    }


async def select_one_us(database: Database, *, samples: int = 300) -> float:
    """Median µs of the cheapest statement through the same engine: on SQLite, what
    SQLAlchemy and the driver cost around a statement that does nothing."""
    times: list[float] = []
    async with database.engine.connect() as connection:
        for _ in range(samples):
            started = time.perf_counter()
            await connection.execute(text("SELECT 1"))
            times.append(time.perf_counter() - started)
        await connection.rollback()
    await asyncio.sleep(0)
    return median(times) * 1e6


async def bot_api_call_us(bots: Bots, chat_id: int, *, samples: int = 300) -> float:
    """Median µs of one sendMessage through the full bot's own Bot to the emulator: what
    each of the journey's Bot API calls costs in python-telegram-bot alone (the request
    built, answered in process, the answer parsed back into a Message)."""
    bot = bots.full.bot
    times: list[float] = []
    for _ in range(samples):
        started = time.perf_counter()
        await bot.send_message(chat_id, "Thank you.")
        times.append(time.perf_counter() - started)
    return median(times) * 1e6
