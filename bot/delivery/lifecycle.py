"""The worker inside an Application: started in post_init, stopped in post_stop."""

from __future__ import annotations

from pathlib import Path

from sqlalchemy.engine import make_url

from bot.delivery.journal import SendJournal
from bot.delivery.pacing import FloodGate
from bot.delivery.policy import DeliveryPolicy
from bot.delivery.worker import DeliveryWorker
from bot.settings import Settings
from conversations.context import FirstStepApp, Services
from conversations.outcome import WAKE_KEY as WAKE_KEY  # the worker's wake-up in extras

WORKER_KEY = "firststep.delivery"


def attach_worker(
    application: FirstStepApp, services: Services, settings: Settings, *, start: bool
) -> DeliveryWorker:
    """Make the Application's worker, and start it unless the caller wants to drive it by
    hand (`build_application(delivery=False)`). A 429 pauses the worker's own sends
    (its FloodGate); replies to people are held only for the chat it came for
    (bot/delivery/limiter.py)."""
    gate = FloodGate()
    worker = DeliveryWorker(
        application.bot,
        services.database,
        services.ring,
        DeliveryPolicy.from_settings(settings),
        clock=services.clock,
        gate=gate,
        journal=SendJournal(directory) if start and (directory := journal_dir(settings)) else None,
    )
    application.bot_data[WORKER_KEY] = worker
    services.extras[WAKE_KEY] = worker.wake
    if start:
        worker.start()
    return worker


def journal_dir(settings: Settings) -> Path | None:
    """Where the send journal lives: the setting, else beside an SQLite file (none with
    PostgreSQL unless set: several hosts do not share a local directory)."""
    if settings.delivery_journal is not None:
        return settings.delivery_journal
    url = make_url(settings.database_url)
    if url.get_backend_name() != "sqlite" or not url.database or url.database == ":memory:":
        return None
    return Path(url.database).parent / "delivery-journal"


def worker_of(application: FirstStepApp) -> DeliveryWorker:
    """The Application's worker (after post_init), for tests and the sandbox."""
    worker = application.bot_data.get(WORKER_KEY)
    if not isinstance(worker, DeliveryWorker):
        raise RuntimeError("no delivery worker: post_init has not run")
    return worker


async def stop_worker(application: FirstStepApp) -> None:
    worker = application.bot_data.get(WORKER_KEY)
    if isinstance(worker, DeliveryWorker):
        await worker.stop()
