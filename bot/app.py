"""build_application: the ONE factory, used by `firststep run`, the sandbox and every test."""

from __future__ import annotations

import gc
import logging
from functools import partial
from typing import Any

from babel.core import Locale
from telegram import BotCommand
from telegram.ext import Application, ContextTypes, ExtBot, Job
from telegram.request import BaseRequest

from bot.delivery import FloodGate, PausingRateLimiter, attach_worker, stop_worker
from bot.handlers import register_handlers
from bot.keyring import load_keyring
from bot.logs import install_log_privacy
from bot.settings import Settings
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
from storage.crypto import KeyRing
from storage.db import Database
from storage.directory import preload
from storage.migrate import upgrade

log = logging.getLogger("firststep.app")


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
        await upgrade(database)
    services = Services(
        settings=settings,
        database=database,
        ring=ring if ring is not None else load_keyring(settings),
        clock=clock,
    )
    application.bot_data[SERVICES_KEY] = services
    await set_commands(application)
    attach_worker(application, services, settings, start=delivery)
    preload()
    # Everything loaded so far lives as long as the process: take it out of the garbage
    # collector's view, or every full collection walks all of it (measured: a 77 ms pause
    # every thousand or so updates; see bench/). Undone at shutdown.
    gc.freeze()
    log.info("event=app_ready")


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
    gc.unfreeze()  # what this Application held can be collected again
    services = application.bot_data.get(SERVICES_KEY)
    if isinstance(services, Services):
        await services.database.dispose()


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
) -> FirstStepApp:
    """The production Application; tests and the sandbox inject `request` and `clock`.

    `delivery=False` attaches the outbox worker without starting it, for tests that
    drive it by hand (`bot.delivery.worker_of(app).run_once()`).
    """
    if settings.telegram_token is None:
        raise MissingToken
    # Before anything can log: library records lose their values (updates, payloads, URL).
    install_log_privacy()
    builder = (
        Application.builder()
        .application_class(FirstStepApplication)
        .token(settings.telegram_token.get_secret_value())
        .base_url(settings.telegram_api_url)
        .context_types(ContextTypes(context=Context, bot_data=BotData))
        .post_init(partial(_setup, settings, clock, ring, migrate, delivery))
        .post_stop(_stop)
        .post_shutdown(_teardown)
    )
    if rate_limit:
        # A 429 pauses every send in the process (handlers and worker) via the FloodGate.
        limiter = PausingRateLimiter(FloodGate(), max_retries=0)
        builder = builder.rate_limiter(limiter)  # type: ignore[arg-type]
    if request is not None:
        builder = builder.request(request).get_updates_request(get_updates_request or request)
    application: FirstStepApp = builder.build()
    register_handlers(application)
    return application
