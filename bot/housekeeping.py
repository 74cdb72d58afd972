"""What `firststep run` does besides answering people: the daily retention purge and the
/healthz server, in polling and webhook mode alike.

The purge is a JobQueue job at `purge_at_utc` every day, plus one catch-up shortly after
start when the last purge is more than a day old (a bot restarted every night at the
purge time would otherwise never purge). It is idempotent, so two processes sharing a
PostgreSQL database may both run it.
"""

from __future__ import annotations

import errno
import logging
from collections.abc import Callable, Coroutine
from datetime import UTC, timedelta
from typing import TYPE_CHECKING, Any

from telegram.ext import Job

from bot.health import Check, Health, HealthServer, check_health, start_health_server
from bot.logs import quiet_start_up_aborts
from bot.settings import Settings
from conversations.context import SERVICES_KEY, Context, FirstStepApp, Services
from storage.operations.retention import RetentionPolicy, last_purge_at, purge, record_purge

if TYPE_CHECKING:
    from bot.webchat.server import RunningWebChat

log = logging.getLogger("firststep.housekeeping")

PURGE_JOB = "firststep.purge"
CATCH_UP_JOB = "firststep.purge.catch_up"
CATCH_UP_DELAY = timedelta(minutes=2)
HEALTH_KEY = "firststep.health_server"
WEBCHAT_SERVER_KEY = "firststep.webchat_server"


async def run_purge(services: Services, policy: RetentionPolicy) -> dict[str, int]:
    """One purge at the service's clock, noted in operator_notes and logged as counts."""
    now = services.clock()
    counts = await purge(services.database, now, policy, ring=services.ring)
    await record_purge(services.database, now, counts)
    log.info("event=retention_purge %s", " ".join(f"{name}={n}" for name, n in counts.items()))
    return counts


def purge_callback(settings: Settings) -> Callable[[Context], Coroutine[Any, Any, None]]:
    policy = RetentionPolicy.from_settings(settings)

    async def purge_job(context: Context) -> None:
        await run_purge(context.services, policy)

    return purge_job


async def schedule_purge(application: FirstStepApp, settings: Settings) -> list[Job[Context]]:
    """The daily job, and a catch-up run when the last purge is overdue."""
    queue = application.job_queue
    if queue is None:  # pragma: no cover - the job-queue extra is a dependency
        raise RuntimeError("PTB's JobQueue is missing: install python-telegram-bot[job-queue]")
    callback = purge_callback(settings)
    at = settings.purge_at_utc.replace(tzinfo=UTC)
    jobs = [queue.run_daily(callback, time=at, name=PURGE_JOB)]
    services = application.bot_data.services
    last = await last_purge_at(services.database)
    if last is None or services.clock() - last > timedelta(days=1):
        jobs.append(queue.run_once(callback, when=CATCH_UP_DELAY, name=CATCH_UP_JOB))
    return jobs


class WebChatUnavailable(RuntimeError):
    """The web chat's port cannot be opened: `firststep run` says so in one line."""


async def _open_web_chat(app: FirstStepApp, settings: Settings) -> RunningWebChat:
    # Imported only when the web chat is on: its server (aiohttp.web) is otherwise not
    # needed, and importing it was part of start-up before the first getUpdates (issue 16).
    from bot.webchat.server import start_web_chat

    try:
        return await start_web_chat(app, settings)
    except OSError as error:
        why = "in use" if error.errno == errno.EADDRINUSE else type(error).__name__
        raise WebChatUnavailable(
            f"cannot open the web chat on {settings.webchat_listen}:{settings.webchat_port} "
            f"({why}): set FIRSTSTEP_WEBCHAT_PORT to a free port, or 0 to turn it off"
        ) from None


def health_check_for(application: FirstStepApp) -> Check:
    async def check() -> Health:
        services = application.bot_data.get(SERVICES_KEY)
        if not isinstance(services, Services):
            return Health(False, "starting")
        return await check_health(services.database, services.ring)

    return check


def install_operations(application: FirstStepApp, settings: Settings) -> None:
    """Wrap post_init / post_shutdown: schedule the purge, start and stop /healthz."""
    setup = application.post_init
    teardown = application.post_shutdown
    quiet = quiet_start_up_aborts()

    async def post_init(app: FirstStepApp) -> None:
        # The web door first (bot/webchat): a port that cannot be bound stops start-up
        # in one line, before anything else starts. It answers 503 until the services
        # below are ready.
        if settings.webchat_port:
            app.bot_data[WEBCHAT_SERVER_KEY] = await _open_web_chat(app, settings)
        quiet.disarm()  # getMe answered: from now on PTB's own abort records are the notice
        if setup is not None:
            await setup(app)
        await schedule_purge(app, settings)
        if settings.health_port:
            try:
                app.bot_data[HEALTH_KEY] = await start_health_server(
                    health_check_for(app), settings.health_listen, settings.health_port
                )
            except OSError as error:
                # People are served without it; monitoring will notice the missing port.
                log.error(
                    "event=health_server_unavailable port=%d errno=%s",
                    settings.health_port,
                    error.errno,
                )

    async def post_shutdown(app: FirstStepApp) -> None:
        web_chat: RunningWebChat | None = app.bot_data.pop(WEBCHAT_SERVER_KEY, None)
        if web_chat is not None:
            await web_chat.stop()
        server = app.bot_data.pop(HEALTH_KEY, None)
        if isinstance(server, HealthServer):
            await server.stop()
        if teardown is not None:
            await teardown(app)

    application.post_init = post_init
    application.post_shutdown = post_shutdown
