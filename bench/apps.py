"""The two bots under test, both fed raw update JSON in process.

`full_bot` is the production Application from `build_application` (real database, real
key ring, every handler), wired to the emulator through `EmulatorRequest`. `echo_bot` is
the baseline: a bare python-telegram-bot Application with one handler that echoes text,
on its own `EmulatorRequest` to the same emulator, so both pay the same API costs.

`feed` is the timed loop both share: parse the raw JSON, build the `Update`, process it,
exactly as the polling loop does for each update it fetched.
"""

from __future__ import annotations

import json
import logging
import time
from collections.abc import AsyncIterator, Iterable
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from telegram import Bot, Update
from telegram.ext import Application, ContextTypes, MessageHandler, filters
from telegram.request import BaseRequest

from bench import mentors
from bot.app import build_application
from bot.sandbox import EmulatorRequest, TelegramEmulator
from bot.settings import Settings
from bot.wrapped_request import WrappedRequest
from conversations.context import FirstStepApp
from storage.crypto import KeyRing

TOKEN = "123456789:AAF-bench-token-for-first-step-0001"


class ErrorCounter(logging.Handler):
    """Counts handler errors the bot logged, so a broken journey fails the bench loudly."""

    def __init__(self) -> None:
        super().__init__(logging.ERROR)
        self.count = 0

    def emit(self, record: logging.LogRecord) -> None:
        self.count += 1


@dataclass
class Bots:
    """One emulator and the Applications under test that talk to it."""

    emu: TelegramEmulator
    full: FirstStepApp
    echo: Application[Any, Any, Any, Any, Any, Any]
    errors: ErrorCounter = field(default_factory=ErrorCounter)


def bench_settings(emu: TelegramEmulator, database_url: str, workdir: Path) -> Settings:
    return Settings(
        _env_file=None,
        telegram_token=emu.token,
        database_url=database_url,
        keyring=workdir / "unused-keyring.json",
    )


def build_full(
    emu: TelegramEmulator,
    database_url: str,
    workdir: Path,
    ring: KeyRing,
    request: BaseRequest | None = None,
) -> FirstStepApp:
    """The production Application, minus two things measured on their own elsewhere:
    the rate limiter (in process it would pace the whole bench to 30 sends a second) and
    the outbox worker (attached, not started: the cards the journeys make wait for it)."""
    return build_application(
        bench_settings(emu, database_url, workdir),
        request=request or EmulatorRequest(emu),
        ring=ring,
        rate_limit=False,
        delivery=False,
    )


class SwitchableRequest(WrappedRequest):
    """Forwards to whichever emulator is current (`inner`, replaced between batches), so
    a long run can drop old chats.

    The memory benchmark gives each batch of people a fresh emulator: otherwise the
    emulator's own record of every chat would be counted as the bot's memory.
    """


async def echo_reply(update: Update, context: Any) -> None:
    message = update.message
    assert message is not None and message.text is not None
    await message.reply_text(message.text)


def build_echo(emu: TelegramEmulator) -> Application[Any, Any, Any, Any, Any, Any]:
    """The baseline: a bare PTB Application that echoes every text message."""
    application = (
        Application.builder()
        .token(emu.token)
        .request(EmulatorRequest(emu))
        .get_updates_request(EmulatorRequest(emu))
        .context_types(ContextTypes())
        .build()
    )
    application.add_handler(MessageHandler(filters.TEXT, echo_reply))
    return application


async def start_full(application: FirstStepApp) -> None:
    """Initialise and run post_init (database, migrations, services) without polling."""
    await application.initialize()
    if application.post_init is not None:
        await application.post_init(application)


async def stop_full(application: FirstStepApp) -> None:
    if application.post_stop is not None:
        await application.post_stop(application)
    await application.shutdown()
    if application.post_shutdown is not None:
        await application.post_shutdown(application)


MENTOR_IDS = (6_900_000_001, 6_900_000_002, 6_900_000_003)


@asynccontextmanager
async def running_bots(
    database_url: str, workdir: Path, *, emu: TelegramEmulator | None = None
) -> AsyncIterator[Bots]:
    """Both bots initialised against one emulator, three mentors joined at the scripted
    office; errors the full bot logs are counted."""
    emu = emu or TelegramEmulator(TOKEN)
    bots = Bots(emu, build_full(emu, database_url, workdir, KeyRing.generate()), build_echo(emu))
    error_log = logging.getLogger("firststep.errors")
    error_log.addHandler(bots.errors)
    try:
        await start_full(bots.full)
        await mentors.join(emu, bots.full, MENTOR_IDS, lambda: feed_all(bots.full, emu))
        await bots.echo.initialize()
        try:
            yield bots
        finally:
            await bots.echo.shutdown()
            await stop_full(bots.full)
    finally:
        error_log.removeHandler(bots.errors)


async def feed_all(application: FirstStepApp, emu: TelegramEmulator) -> list[int]:
    return await feed(application, await fetch_raw(emu))


async def fetch_raw(emu: TelegramEmulator) -> list[str]:
    """Everything queued for the bot, as the raw JSON getUpdates would carry (and confirm)."""
    raws: list[str] = []
    offset = 0
    while True:
        reply = await emu.handle("getUpdates", {"offset": offset, "timeout": 0, "limit": 100})
        batch = reply.body["result"]
        if not batch:
            return raws
        raws.extend(json.dumps(update, ensure_ascii=False) for update in batch)
        offset = batch[-1]["update_id"] + 1


async def feed(
    application: Application[Any, Any, Any, Any, Any, Any],
    raws: Iterable[str],
    cpu: list[float] | None = None,
) -> list[int]:
    """The timed loop: per update, parse + build + process; nanoseconds each.

    `cpu`, when given, gets the process CPU seconds of the loop (all threads: aiosqlite
    runs statements on its own), which other processes on the machine do not inflate.
    """
    bot: Bot = application.bot
    latencies: list[int] = []
    clock = time.perf_counter_ns
    cpu_started = time.process_time()
    for raw in raws:
        started = clock()
        update = Update.de_json(json.loads(raw), bot)
        await application.process_update(update)
        latencies.append(clock() - started)
    if cpu is not None:
        cpu.append(time.process_time() - cpu_started)
    return latencies
