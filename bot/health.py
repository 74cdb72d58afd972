"""`/healthz`: is this process able to serve people right now?

A tiny tornado server of its own (tornado ships with PTB's webhook extra), apart from
PTB's webhook server so it needs no private PTB API, and so it works in polling mode
too. It answers 200 "ok", or 503 with a short reason that never contains a secret, an
exception text or a connection string: the database answers, the key ring wraps and
unwraps with its primary KEK, and the ring holds every KEK version that stored data
keys use (a key rotated elsewhere but not yet loaded here shows up as 503).
"""

from __future__ import annotations

import asyncio
import logging
import secrets
import socket
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

import tornado.httpserver
import tornado.web
from sqlalchemy import text

from storage.crypto import KeyRing, new_dek, unwrap_dek, wrap_dek
from storage.db import Database
from storage.repositories.subjects import kek_usage

log = logging.getLogger("firststep.health")

CHECK_TIMEOUT_SECONDS = 5.0


@dataclass(frozen=True, slots=True)
class Health:
    ok: bool
    reason: str


OK = Health(True, "ok")
Check = Callable[[], Awaitable[Health]]


async def check_health(database: Database, ring: KeyRing) -> Health:
    """The three checks, cheapest first; the first failure is the reason."""
    try:
        async with asyncio.timeout(CHECK_TIMEOUT_SECONDS):
            async with database.read() as connection:  # no write lock (SQLite)
                await connection.execute(text("SELECT 1"))
            in_use = await kek_usage(database)
    except Exception:  # any failure means "not serving"; its text may hold secrets
        log.warning("event=health_database_failed")
        return Health(False, "database unavailable")
    probe_subject = secrets.token_hex(16)
    try:
        dek = new_dek()
        if unwrap_dek(ring, wrap_dek(ring, dek, probe_subject), probe_subject) != dek:
            raise ValueError
    except Exception:  # never echo: an exception could carry key material
        log.warning("event=health_keyring_failed")
        return Health(False, "key ring cannot wrap and unwrap with its primary KEK")
    missing = sorted(set(in_use) - set(ring.kek_versions))
    if missing:
        versions = ", ".join(str(version) for version in missing)
        return Health(False, f"key ring lacks KEK version(s) {versions} used by stored keys")
    return OK


class _HealthHandler(tornado.web.RequestHandler):
    def initialize(self, check: Check) -> None:
        self._check = check

    def set_default_headers(self) -> None:
        self.set_header("Content-Type", "text/plain; charset=utf-8")
        self.set_header("Cache-Control", "no-store")

    async def get(self) -> None:
        result = await self._check()
        self.set_status(200 if result.ok else 503)
        self.finish(result.reason + "\n")

    async def head(self) -> None:
        result = await self._check()
        self.set_status(200 if result.ok else 503)
        self.finish()


class _HealthApp(tornado.web.Application):
    def log_request(self, handler: tornado.web.RequestHandler) -> None:
        """Quiet: a health probe every few seconds is not news."""


class HealthServer:
    """The running /healthz server; `port` is the bound port (useful when asked for 0)."""

    def __init__(self, server: tornado.httpserver.HTTPServer, sockets: list[socket.socket]):
        self._server = server
        self.port = int(sockets[0].getsockname()[1])

    async def stop(self) -> None:
        self._server.stop()
        await self._server.close_all_connections()


def _bind(listen: str, port: int) -> socket.socket:
    """A listening socket, closed again if it cannot bind (the port may be taken)."""
    family = socket.AF_INET6 if ":" in listen else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    try:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind((listen, port))
        sock.listen(16)
        sock.setblocking(False)
    except OSError:
        sock.close()
        raise
    return sock


async def start_health_server(check: Check, listen: str, port: int) -> HealthServer:
    app = _HealthApp([(r"/healthz", _HealthHandler, {"check": check})])
    server = tornado.httpserver.HTTPServer(app, xheaders=True)
    sockets = [_bind(listen, port)]
    server.add_sockets(sockets)
    health = HealthServer(server, sockets)
    log.info("event=health_server_started port=%d", health.port)
    return health
