"""Logging that carries event names only: no message text, no ids, never the bot token.

httpx logs every request URL at INFO, and the URL contains the token, so httpx is held
at WARNING; a filter on every handler also redacts anything token-shaped that slips in
(e.g. PTB logging a payload it could not parse).
"""

from __future__ import annotations

import logging
import re

TOKEN_PATTERN = re.compile(r"\d{5,}:[A-Za-z0-9_-]{20,}")
REDACTED = "[redacted-token]"
NOISY_LOGGERS = ("httpx", "httpcore", "apscheduler", "telegram.ext.Updater", "aiosqlite")


class RedactTokens(logging.Filter):
    """Rewrites a record's message with token-shaped strings removed."""

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        if TOKEN_PATTERN.search(message):
            record.msg = TOKEN_PATTERN.sub(REDACTED, message)
            record.args = None
        if record.exc_text:
            record.exc_text = TOKEN_PATTERN.sub(REDACTED, record.exc_text)
        return True


def configure_logging(level: str = "INFO") -> None:
    """Root handler with redaction; chatty libraries quietened."""
    root = logging.getLogger()
    if not any(isinstance(f, RedactTokens) for h in root.handlers for f in h.filters):
        handler = logging.StreamHandler()
        handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s %(message)s"))
        handler.addFilter(RedactTokens())
        root.addHandler(handler)
    root.setLevel(level)
    for name in NOISY_LOGGERS:
        logging.getLogger(name).setLevel(logging.WARNING)


def install_redaction(handler: logging.Handler) -> None:
    """Add the token filter to a handler someone else created (tests, embedding apps)."""
    if not any(isinstance(f, RedactTokens) for f in handler.filters):
        handler.addFilter(RedactTokens())
