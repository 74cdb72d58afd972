"""Webhook mode: `firststep run --webhook`, behind a reverse proxy that ends TLS.

PTB's own webhook server (tornado) receives updates. Telegram sends the secret token we
registered with setWebhook in the `X-Telegram-Bot-Api-Secret-Token` header; PTB answers
403 to any request without it, or with another one, before the update is parsed or
queued. bot.webhook_limits bounds header and body time, body size and open connections,
and compares the secret in constant time. The secret is therefore required here:
without it anyone who learns the URL could post fake updates.

PTB logs a request's body when it cannot parse it (at CRITICAL, and at DEBUG for every
request); bot.logs' library filter (installed by build_application) keeps those records'
wording and drops their values. Polling stays the default (`firststep run`).
"""

from __future__ import annotations

from typing import Any
from urllib.parse import urlsplit

from bot import webhook_limits
from bot.aiohttp_request import close_loop, event_loop
from bot.app import build_application
from bot.housekeeping import install_operations
from bot.logs import configure_logging
from bot.runner import ALLOWED_UPDATES
from bot.settings import Settings
from conversations.context import FirstStepApp

BOOTSTRAP_RETRIES = 5

MISSING_SECRET = (
    "Setting FIRSTSTEP_WEBHOOK_SECRET is required with --webhook (1-256 characters from "  # noqa: S105
    "A-Z, a-z, 0-9, _ and -). Make one with: "
    "python3 -c 'import secrets; print(secrets.token_urlsafe(48))'"
)
MISSING_URL = (
    "Setting FIRSTSTEP_WEBHOOK_URL is required with --webhook: the https:// address of "
    "your reverse proxy that forwards to FIRSTSTEP_WEBHOOK_LISTEN:FIRSTSTEP_WEBHOOK_PORT."
)


def webhook_problem(settings: Settings) -> str | None:
    """One line saying what is missing for webhook mode, or None when ready."""
    if settings.webhook_secret is None:
        return MISSING_SECRET
    if settings.webhook_url is None:
        return MISSING_URL
    return None


def webhook_path(settings: Settings) -> str:
    if settings.webhook_path:
        return settings.webhook_path
    return urlsplit(settings.webhook_url or "").path or "/"


def webhook_options(settings: Settings) -> dict[str, Any]:
    """The arguments shared by Application.run_webhook and Updater.start_webhook."""
    problem = webhook_problem(settings)
    if problem is not None:
        raise ValueError(problem)
    assert settings.webhook_secret is not None
    return {
        "listen": settings.webhook_listen,
        "port": settings.webhook_port,
        "url_path": webhook_path(settings),
        "webhook_url": settings.webhook_url,
        "secret_token": settings.webhook_secret.get_secret_value(),
        "allowed_updates": ALLOWED_UPDATES,
        "drop_pending_updates": False,
        "bootstrap_retries": BOOTSTRAP_RETRIES,
    }


def run_webhook(settings: Settings) -> None:
    """Production webhook mode: PTB owns the loop and the signals, as in run_polling."""
    configure_logging(settings.log_level)
    webhook_limits.install()
    application = build_application(settings)
    install_operations(application, settings)
    loop = event_loop()
    try:
        application.run_webhook(**webhook_options(settings), close_loop=False)
    finally:
        close_loop(loop)


async def start_webhook_application(application: FirstStepApp, settings: Settings) -> None:
    """What run_webhook does, without owning the loop (tests, embedding)."""
    webhook_limits.install()
    await application.initialize()
    if application.post_init is not None:
        await application.post_init(application)
    assert application.updater is not None
    await application.updater.start_webhook(**webhook_options(settings))
    await application.start()
