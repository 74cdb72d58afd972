"""Running the Application: polling for production, and a start/stop pair for the sandbox
and the tests (which need the same start-up as `run_polling`, in an event loop they own)."""

from __future__ import annotations

from telegram import Update

from bot.aiohttp_request import close_loop, event_loop
from bot.app import build_application
from bot.housekeeping import install_operations
from bot.logs import configure_logging
from bot.settings import Settings
from conversations.context import FirstStepApp

# Edits are asked for only so the guard can say it ignores them (and still answer a
# crisis written into an edit); they never change anything.
ALLOWED_UPDATES = [
    Update.MESSAGE,
    Update.EDITED_MESSAGE,
    Update.CALLBACK_QUERY,
    Update.MY_CHAT_MEMBER,
]


def run_polling(settings: Settings) -> None:
    """Production: keep updates that arrived while we were down (drop_pending_updates=False)."""
    configure_logging(settings.log_level)
    application = build_application(settings)
    install_operations(application, settings)
    loop = event_loop()
    try:
        application.run_polling(
            allowed_updates=ALLOWED_UPDATES, drop_pending_updates=False, close_loop=False
        )
    finally:
        close_loop(loop)


async def start_application(application: FirstStepApp, *, poll_timeout: float = 1.0) -> None:
    """What run_polling does, without owning the loop: initialize, post_init, poll, start."""
    await application.initialize()
    if application.post_init is not None:
        await application.post_init(application)
    assert application.updater is not None
    await application.updater.start_polling(
        poll_interval=0.0,
        timeout=int(poll_timeout),
        allowed_updates=ALLOWED_UPDATES,
        drop_pending_updates=False,
    )
    await application.start()


async def stop_application(application: FirstStepApp) -> None:
    if application.updater is not None and application.updater.running:
        await application.updater.stop()
    if application.running:
        await application.stop()
    if application.post_stop is not None:
        await application.post_stop(application)
    await application.shutdown()
    if application.post_shutdown is not None:
        await application.post_shutdown(application)
