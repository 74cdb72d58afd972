"""Limits on PTB's webhook server, so slow or huge requests cannot hold it (issue 15, 5).

PTB's webhook server is a tornado HTTPServer built with tornado's defaults: an hour to
send the headers, an hour for the body, bodies up to 100 MB read before the secret is
checked, and no cap on connections. `install()` configures the two tornado classes PTB
uses (PTB builds them by name from its webhook module; it offers no setting):

- headers must arrive within HEADER_TIMEOUT, a body within BODY_TIMEOUT, and a connection
  idle between requests is closed after HEADER_TIMEOUT too;
- a body over MAX_BODY_BYTES (Telegram's updates are a few kilobytes) is refused from its
  Content-Length, before it is read; headers over MAX_HEADER_BYTES likewise;
- past MAX_CONNECTIONS open connections a new one is closed at once, so unfinished
  connections cannot use up the process's file descriptors and starve Telegram's;
- the secret header is compared in constant time (hmac.compare_digest).

The reverse proxy in front must still end TLS, pass only the webhook path, and should
allow only Telegram's published source ranges and rate-limit per client
(docs/operating.md, "Webhook mode").
"""

from __future__ import annotations

import hmac
import ssl
from http import HTTPStatus
from typing import Any

import tornado.web
from telegram.ext._utils import webhookhandler
from tornado.httpserver import HTTPServer
from tornado.iostream import IOStream

HEADER_TIMEOUT = 10.0
BODY_TIMEOUT = 10.0
MAX_BODY_BYTES = 512 * 1024
MAX_HEADER_BYTES = 16 * 1024
MAX_CONNECTIONS = 200
SECRET_HEADER = "X-Telegram-Bot-Api-Secret-Token"  # noqa: S105


class LimitedHTTPServer(HTTPServer):
    """tornado's HTTPServer with our timeouts and sizes, and a cap on open connections."""

    def initialize(  # type: ignore[override]
        self,
        request_callback: Any,
        ssl_options: ssl.SSLContext | dict[str, Any] | None = None,
        **_ignored: Any,
    ) -> None:
        """PTB passes the app and ssl_options only; every limit is ours."""
        super().initialize(
            request_callback,
            ssl_options=ssl_options,
            idle_connection_timeout=HEADER_TIMEOUT,  # also the limit for the headers
            body_timeout=BODY_TIMEOUT,
            max_body_size=MAX_BODY_BYTES,
            max_header_size=MAX_HEADER_BYTES,
        )

    def handle_stream(self, stream: IOStream, address: tuple[Any, ...]) -> None:
        if len(self._connections) >= MAX_CONNECTIONS:
            stream.close()
            return
        super().handle_stream(stream, address)


class ConstantTimeTelegramHandler(webhookhandler.TelegramHandler):
    """PTB's handler, with the secret compared in constant time (PTB uses !=)."""

    def _validate_post(self) -> None:
        if self.request.headers.get("Content-Type", None) != "application/json":
            raise tornado.web.HTTPError(HTTPStatus.FORBIDDEN)
        secret: str | None = self.secret_token
        if secret is None:
            return
        given = self.request.headers.get(SECRET_HEADER, "").encode("utf-8", "replace")
        if not hmac.compare_digest(given, secret.encode("utf-8")):
            raise tornado.web.HTTPError(HTTPStatus.FORBIDDEN)


def install() -> None:
    """Make PTB's webhook module build our classes (idempotent; call before it starts)."""
    setattr(webhookhandler, "HTTPServer", LimitedHTTPServer)  # noqa: B010
    setattr(webhookhandler, "TelegramHandler", ConstantTimeTelegramHandler)  # noqa: B010
