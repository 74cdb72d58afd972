"""build_application: the ONE factory, used by `firststep run`, the sandbox and every test."""

from __future__ import annotations

import asyncio
import gc
import logging
from functools import partial
from typing import Any

from babel.core import Locale
from telegram import BotCommand
from telegram.ext import Application, BaseUpdateProcessor, ContextTypes, ExtBot, Job
from telegram.request import BaseRequest

from bot.acks import AckAfterHandled
from bot.aiohttp_request import AiohttpRequest
from bot.delivery import TelegramLimiter, attach_worker, stop_worker
from bot.handlers import register_handlers
from bot.keyring import load_keyring
from bot.logs import install_log_privacy
from bot.newest_bot import NewestNotingBot
from bot.ordering import PerPersonProcessor
from bot.settings import Settings
from bot.webchat.channel import WebChannel
from bot.webchat.request import TwoDoorRequest
from conversations import i18n, texts
from conversations.context import (
    SERVICES_KEY,
    BotData,
    Clock,
    Context,
    FirstStepApp,
    Services,
    utc_now,
)
from conversations.i18n import _
from conversations.newest import NEWEST_KEY, NewestMessages
from storage.crypto import KeyRing
from storage.db import Database
from storage.directory import preload
from storage.migrate import upgrade_if_behind

log = logging.getLogger("firststep.app")
# The task reading the directory tables after start-up (bot_data key).
PRELOAD_KEY = "firststep.preload"
# The web door's channel (bot/webchat/channel.py; bot_data key).
WEBCHAT_KEY = "firststep.webchat"


class FirstStepApplication(
    Application[ExtBot[None], Context, dict[Any, Any], dict[Any, Any], BotData, Any]
):
    """PTB's Application, minus a record it keeps of every user and chat ever seen.

    After each update PTB notes the user and chat ids for its persistence to save, and
    only a persistence ever empties those sets. This bot keeps its state in the database
    and has no persistence, so the sets would grow by two entries per person for the life
    of the process; here they are not kept unless a persistence is set.
    """

    __slots__ = ()

    def _mark_for_persistence_update(
        self, *, update: object | None = None, job: Job[Any] | None = None
    ) -> None:
        if self.persistence is not None:
            super()._mark_for_persistence_update(update=update, job=job)


class MissingToken(RuntimeError):
    """No bot token: the CLI turns this into one line on how to set it or use the sandbox."""


async def _setup(
    settings: Settings,
    clock: Clock,
    ring: KeyRing | None,
    migrate: bool,
    delivery: bool,
    application: FirstStepApp,
) -> None:
    """post_init: open the database, check it, load keys, register the command list,
    start the delivery worker."""
    database = Database.from_url(settings.database_url)
    await database.verify()
    if migrate:
        await upgrade_if_behind(database)
    services = Services(
        settings=settings,
        database=database,
        ring=ring if ring is not None else load_keyring(settings),
        clock=clock,
    )
    application.bot_data[SERVICES_KEY] = services
    web_channel_of(application).bind(services)
    await set_commands(application)
    attach_worker(application, services, settings, start=delivery)
    # The directory's tables are read in a thread while polling starts, not before it
    # (start-up to the first getUpdates; issue 16). A lookup before they are in simply
    # reads them itself.
    application.bot_data[PRELOAD_KEY] = asyncio.get_running_loop().create_task(
        _preload_then_freeze()
    )
    log.info("event=app_ready")


async def _preload_then_freeze() -> None:
    try:
        await asyncio.to_thread(preload)
        # Everything loaded so far lives as long as the process: take it out of the
        # garbage collector's view, or every full collection walks all of it (measured: a
        # 77 ms pause every thousand or so updates; see bench/). Undone at shutdown.
        gc.freeze()
    finally:
        # `firststep run` starts with the collector off (bot.cli.run): start-up is over.
        gc.enable()


async def preloaded(application: FirstStepApp) -> None:
    """Until start-up's background reading of the directory is done (tests, bench)."""
    task = application.bot_data.get(PRELOAD_KEY)
    if isinstance(task, asyncio.Task):
        await asyncio.shield(task)


async def _end_preload(application: FirstStepApp) -> None:
    task = application.bot_data.pop(PRELOAD_KEY, None)
    if isinstance(task, asyncio.Task):
        await asyncio.wait([task])  # a thread cannot be cancelled; it is short


async def set_commands(application: FirstStepApp) -> None:
    """The command list in Telegram's menu: in the source language for everyone, and in
    each other shipped language for people whose Telegram uses it."""
    for locale in i18n.shipped():
        with i18n.using(locale):
            commands = [BotCommand(name, _(text)) for name, text in texts.COMMANDS.items()]
        code = None if locale == i18n.SOURCE else Locale.parse(locale).language
        await application.bot.set_my_commands(commands, language_code=code)


async def _stop(application: FirstStepApp) -> None:
    """post_stop: the worker stops before the bot and the database close."""
    await stop_worker(application)


async def _teardown(application: FirstStepApp) -> None:
    await stop_worker(application)
    await _end_preload(application)
    gc.unfreeze()  # what this Application held can be collected again
    services = application.bot_data.get(SERVICES_KEY)
    if isinstance(services, Services):
        await services.database.dispose()


def web_channel_of(application: FirstStepApp) -> WebChannel:
    channel = application.bot_data[WEBCHAT_KEY]
    assert isinstance(channel, WebChannel)
    return channel


def build_application(
    settings: Settings,
    *,
    request: BaseRequest | None = None,
    get_updates_request: BaseRequest | None = None,
    clock: Clock = utc_now,
    ring: KeyRing | None = None,
    migrate: bool = True,
    rate_limit: bool = True,
    delivery: bool = True,
    update_processor: BaseUpdateProcessor | None = None,
) -> FirstStepApp:
    """The production Application; tests and the sandbox inject `request` and `clock`.

    `delivery=False` attaches the outbox worker without starting it, for tests that
    drive it by hand (`bot.delivery.worker_of(app).run_once()`).
    """
    if settings.telegram_token is None:
        raise MissingToken
    # Before anything can log: library records lose their values (updates, payloads, URL).
    install_log_privacy()
    # aiohttp, not PTB's default httpx: the same calls for about half the CPU (issue 16;
    # `python -m bench --only clients` measures the three side by side).
    # Calls addressed to a web chat go to the web door instead (bot/webchat).
    channel = WebChannel()
    # Updates are acknowledged once handled, so a crash mid-update loses none (bot/acks.py).
    acks = AckAfterHandled(get_updates_request or request or AiohttpRequest(connection_pool_size=1))
    newest = NewestMessages()
    bot: ExtBot[None] = NewestNotingBot(
        settings.telegram_token.get_secret_value(),
        newest=newest,
        base_url=settings.telegram_api_url,
        request=TwoDoorRequest(request or AiohttpRequest(), channel),
        get_updates_request=acks,
        # Telegram's rates, replies before the outbox's bulk sends, and a 429 holds only
        # the chat it came for (bot/delivery/limiter.py).
        rate_limiter=TelegramLimiter() if rate_limit else None,
    )
    application: FirstStepApp = (
        Application.builder()
        .application_class(FirstStepApplication)
        .bot(bot)
        .context_types(ContextTypes(context=Context, bot_data=BotData))
        .post_init(partial(_setup, settings, clock, ring, migrate, delivery))
        .post_stop(_stop)
        .post_shutdown(_teardown)
        .concurrent_updates(update_processor or PerPersonProcessor(settings.concurrent_people))
        .build()
    )
    acks.queue = application.update_queue
    application.bot_data[WEBCHAT_KEY] = channel
    application.bot_data[NEWEST_KEY] = newest
    register_handlers(application)
    return application
