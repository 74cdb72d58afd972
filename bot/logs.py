"""Logging that carries event names only: no message text, no ids, never the bot token.

Two layers, because an operator may turn every logger up to DEBUG:

- `install_log_privacy()` puts `LibraryPrivacy` on the loggers of the libraries we run
  (PTB, httpx, the database drivers). A logger's own filter runs whatever its level and
  whatever handlers are attached later, so even at DEBUG a library record keeps its
  wording but loses its arguments: PTB would otherwise log every update (names,
  usernames, message text) and every request (chat ids, our replies) at DEBUG, and its
  API URL, which holds the token.
- `RedactTokens` on the handlers `configure_logging` creates removes anything
  token-shaped that reaches them from anywhere else.

Our own loggers (`firststep.*`) only ever log event names, counts and random request ids.
"""

from __future__ import annotations

import logging
import re
import traceback
from collections.abc import Mapping

TOKEN_PATTERN = re.compile(r"\d{5,}:[A-Za-z0-9_-]{20,}")
REDACTED = "[redacted-token]"
HIDDEN = "[hidden]"
NOISY_LOGGERS = (
    "httpx",
    "httpcore",
    "aiohttp",
    "apscheduler",
    "telegram.ext.Updater",
    "aiosqlite",
)
# Namespaces whose records may carry what people sent us, pseudonyms, or the token.
LIBRARY_NAMESPACES = (
    "telegram",
    "httpx",
    "httpcore",
    "aiohttp",
    "hpack",
    "sqlalchemy",
    "aiosqlite",
    "asyncpg",
)
# PTB's request log names the Bot API method (`sendMessage`): safe to keep. Nothing else
# a library logs is.
_METHOD_NAME = re.compile(r"[a-z][A-Za-z]{2,40}")
_NAMES_METHOD = "Bot API endpoint"


def _redact_exception(record: logging.LogRecord) -> None:
    """Format the traceback now, with token-shaped strings removed (InvalidToken quotes it)."""
    if record.exc_info and not record.exc_text:
        record.exc_text = "".join(traceback.format_exception(*record.exc_info)).rstrip("\n")
    if record.exc_text:
        record.exc_text = TOKEN_PATTERN.sub(REDACTED, record.exc_text)
    record.exc_info = None


class LibraryPrivacy(logging.Filter):
    """Keeps a library record's wording and drops its values (updates, payloads, URLs)."""

    def filter(self, record: logging.LogRecord) -> bool:
        template = record.msg if isinstance(record.msg, str) else HIDDEN
        if record.args:
            record.msg = _hide_values(template, record.args)
            record.args = None
        else:
            record.msg = template
        record.msg = TOKEN_PATTERN.sub(REDACTED, record.msg)
        _redact_exception(record)
        return True


_FORMAT_SPEC = re.compile(r"%(?:\([^)]*\))?[-#0 +]*\d*(?:\.\d+)?[diouxXeEfFgGcrsa]")


def _hide_values(template: str, args: object) -> str:
    """The message with every value replaced, except a Bot API method name PTB names."""
    if isinstance(args, Mapping):
        return _FORMAT_SPEC.sub(HIDDEN, template)
    values = args if isinstance(args, tuple) else (args,)
    names_method = _NAMES_METHOD in template
    shown = [
        value
        if index == 0 and names_method and isinstance(value, str) and _METHOD_NAME.fullmatch(value)
        else HIDDEN
        for index, value in enumerate(values)
    ]
    pieces = iter(shown)
    return _FORMAT_SPEC.sub(lambda _: next(pieces, HIDDEN), template.replace("%%", "\0")).replace(
        "\0", "%"
    )


class RedactTokens(logging.Filter):
    """Rewrites a record's message with token-shaped strings removed."""

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        if TOKEN_PATTERN.search(message):
            record.msg = TOKEN_PATTERN.sub(REDACTED, message)
            record.args = None
        _redact_exception(record)
        return True


def _library_loggers() -> list[logging.Logger]:
    names = {
        name
        for name in logging.root.manager.loggerDict
        if any(name == ns or name.startswith(f"{ns}.") for ns in LIBRARY_NAMESPACES)
    }
    names.update(LIBRARY_NAMESPACES)
    return [logging.getLogger(name) for name in sorted(names)]


def install_log_privacy() -> None:
    """Put `LibraryPrivacy` on every library logger that exists (they are made at import).

    Called by build_application, so the bot, the sandbox and the tests are all covered.
    """
    for logger in _library_loggers():
        if not any(isinstance(f, LibraryPrivacy) for f in logger.filters):
            logger.addFilter(LibraryPrivacy())


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
    install_log_privacy()


class StartUpAborts(logging.Filter):
    """Drops PTB's "retry loop aborted" records while the bot starts, until `disarm()`.

    When getMe fails at start-up (a refused token, a mistyped API URL, Telegram out of
    reach), PTB logs the failure with a 50-line traceback and then raises the same error to
    `firststep run`, which says in one line what to fix. Once the bot is up the records
    pass again: then they are the only notice of, say, a token revoked while running.
    """

    def __init__(self) -> None:
        super().__init__()
        self.armed = True

    def disarm(self) -> None:
        self.armed = False

    def filter(self, record: logging.LogRecord) -> bool:
        return not (self.armed and "Aborting" in str(record.msg))


def quiet_start_up_aborts() -> StartUpAborts:
    """Put a StartUpAborts on PTB's retry-loop logger; disarm it once the bot has started."""
    quiet = StartUpAborts()
    logging.getLogger("telegram.ext").addFilter(quiet)
    return quiet
