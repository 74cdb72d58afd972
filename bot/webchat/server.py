"""The web chat's HTTP server (aiohttp.web), served by `firststep run` when
FIRSTSTEP_WEBCHAT_PORT is set, behind the same reverse proxy (TLS and HSTS are the
proxy's; docs/operating.md).

- `GET /`, `/chat.js`, `/chat.css`: the page (static; strict CSP, nothing inline).
- `POST /api/chats`: a new chat; answers a random 256-bit token (only its hash is kept).
- `POST /api/send`: a message or a button press, as a Telegram-shaped update for the
  same Application; answers once it was handled.
- `GET /api/events`: Server-Sent Events with ids; `Last-Event-ID` replays what was missed.
- `POST /api/recovery-code`, `POST /api/recover`: a short code to come back to a chat.

The token travels in the Authorization header (no cookies). No address is stored or
logged; there is no access log.
"""

from __future__ import annotations

import asyncio
import html
import ipaddress
import json
import logging
import re
import secrets
from importlib import resources
from typing import Any

from aiohttp import web

from bot.settings import Settings
from bot.webchat import updates
from bot.webchat.channel import WebChannel
from bot.webchat.ids import new_web_chat_id
from bot.webchat.limits import Limits
from conversations.context import SERVICES_KEY, FirstStepApp, Services
from conversations.person.entry import web_start_payload
from storage.repositories import webchat as store

log = logging.getLogger("firststep.webchat")

MAX_BODY = 8 * 1024
HANDLE_SECONDS = 30.0
STREAM_SECONDS = 300.0  # a stream ends after this; the page reconnects with its last id
WAKE_SECONDS = 10.0  # a stream looks at the database at least this often (and keeps alive)
MAX_TEXT = 4096
STREAMS_PER_CHAT = 4  # open event streams one chat may hold (a few tabs, a reconnect)
CODE_ALPHABET = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"  # Crockford's base32: no I, L, O, U
_CLIENT_ID = re.compile(r"[A-Za-z0-9_-]{8,64}")
_PHONE = re.compile(r"\+?[0-9 ()-]{6,24}")
_LANGUAGE = re.compile(r"[A-Za-z]{2,3}(-[A-Za-z0-9]{2,8})?")
_STATIC = {
    "/": ("index.html", "text/html; charset=utf-8"),
    "/chat.js": ("chat.js", "text/javascript; charset=utf-8"),
    "/chat.css": ("chat.css", "text/css; charset=utf-8"),
}
CSP = (
    "default-src 'none'; script-src 'self'; style-src 'self'; connect-src 'self'; "
    "img-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'"
)
HEADERS = {
    "Content-Security-Policy": CSP,
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
    "Cache-Control": "no-store",
    "Permissions-Policy": "geolocation=(), camera=(), microphone=(), interest-cohort=()",
    "Cross-Origin-Opener-Policy": "same-origin",
    "Cross-Origin-Resource-Policy": "same-origin",
}


def _json(status: int, body: dict[str, Any]) -> web.Response:
    return web.json_response(body, status=status)


def _address(request: web.Request) -> str:
    """Whose limits a request counts against: the peer, or behind a proxy on this host
    the address the proxy saw (the last X-Forwarded-For entry). Held in memory only."""
    peer = request.remote or ""
    forwarded = request.headers.get("X-Forwarded-For", "")
    try:
        loopback = ipaddress.ip_address(peer).is_loopback
    except ValueError:
        loopback = False
    if loopback and forwarded:
        return forwarded.rsplit(",", 1)[-1].strip()
    return peer


def recovery_code() -> str:
    raw = "".join(secrets.choice(CODE_ALPHABET) for _ in range(10))
    return f"{raw[:5]}-{raw[5:]}"


class WebChatServer:
    """The routes, bound to one Application (its channel and services)."""

    def __init__(
        self, application: FirstStepApp, settings: Settings, limits: Limits | None = None
    ) -> None:
        self.application = application
        self.settings = settings
        self.closing = asyncio.Event()  # set on shutdown: open event streams end
        self.limits = limits or Limits(
            messages_per_minute=settings.rate_limit_messages,
            new_chats_per_minute=settings.webchat_new_chats_per_minute,
        )
        self._pages = {
            path: (resources.files("bot.webchat").joinpath("static", name).read_bytes(), kind)
            for path, (name, kind) in _STATIC.items()
        }
        page, kind = self._pages["/"]
        exit_url = html.escape(settings.webchat_exit_url, quote=True).encode()
        self._pages["/"] = (page.replace(b"{{EXIT}}", exit_url), kind)

    @property
    def channel(self) -> WebChannel:
        channel = self.application.bot_data["firststep.webchat"]
        assert isinstance(channel, WebChannel)
        return channel

    @property
    def services(self) -> Services:
        services = self.application.bot_data.get(SERVICES_KEY)
        if not isinstance(services, Services):
            raise web.HTTPServiceUnavailable
        return services

    def app(self) -> web.Application:
        app = web.Application(client_max_size=MAX_BODY, middlewares=[self._guard])
        app.on_shutdown.append(self._close_streams)
        for path in self._pages:
            app.router.add_get(path, self.page)
        app.router.add_post("/api/chats", self.new_chat)
        app.router.add_post("/api/send", self.send)
        app.router.add_get("/api/events", self.events)
        app.router.add_post("/api/recovery-code", self.give_code)
        app.router.add_post("/api/recover", self.recover)
        return app

    async def _close_streams(self, app: web.Application) -> None:
        self.closing.set()

    # -- every request -----------------------------------------------------------------------
    @web.middleware
    async def _guard(self, request: web.Request, handler: Any) -> web.StreamResponse:
        if request.method == "POST" and not self._origin_ok(request):
            response: web.StreamResponse = _json(403, {"error": "origin"})
        else:
            try:
                response = await handler(request)
            except web.HTTPException as error:
                response = _json(error.status, {"error": error.reason.lower()})
        if not response.prepared:  # an event stream sent its headers already
            response.headers.update(HEADERS)
        return response

    def _origin_ok(self, request: web.Request) -> bool:
        origin = request.headers.get("Origin")
        if origin is None:
            return False
        if self.settings.webchat_origin:
            return origin == self.settings.webchat_origin
        host = request.headers.get("X-Forwarded-Host") or request.host
        return origin in (f"https://{host}", f"http://{host}")

    async def _chat(self, request: web.Request) -> int:
        auth = request.headers.get("Authorization", "")
        if not auth.startswith("Bearer ") or len(auth) > 200:
            raise web.HTTPUnauthorized
        services = self.services
        chat_id = await store.chat_of(services.database, auth[7:], services.clock())
        if chat_id is None:
            raise web.HTTPUnauthorized
        return chat_id

    async def _body(self, request: web.Request) -> dict[str, Any]:
        try:
            body = await request.json()
        except (ValueError, UnicodeDecodeError):
            raise web.HTTPBadRequest from None
        if not isinstance(body, dict):
            raise web.HTTPBadRequest
        return body

    # -- the page ----------------------------------------------------------------------------
    async def page(self, request: web.Request) -> web.Response:
        content, kind = self._pages[request.path]
        return web.Response(body=content, headers={"Content-Type": kind})

    # -- the API -----------------------------------------------------------------------------
    async def new_chat(self, request: web.Request) -> web.Response:
        if not self.limits.may_start(_address(request)):
            return _json(429, {"error": "busy", "retry_seconds": 60})
        services = self.services
        token = secrets.token_urlsafe(32)
        while not await store.create_chat(
            services.database, services.ring, new_web_chat_id(), token, services.clock()
        ):
            pass  # an id already taken (once in 2**52): draw again
        log.info("event=webchat_started")
        return _json(200, {"token": token, "start": await self._start_command(request)})

    async def _start_command(self, request: web.Request) -> str:
        """The first message the page sends: `/start`, or an office's `/start jc_…` when
        the page was opened from its link or poster (`?office=<id>&src=poster`), read by
        the same code as Telegram's deep links so both doors are counted alike."""
        try:
            body = await request.json() if request.can_read_body else {}
        except (ValueError, UnicodeDecodeError):
            body = {}
        query = body if isinstance(body, dict) else {}
        payload = web_start_payload(
            {key: value for key, value in query.items() if isinstance(value, str)}
        )
        return f"/start {payload}" if payload else "/start"

    async def send(self, request: web.Request) -> web.Response:
        chat_id = await self._chat(request)
        body = await self._body(request)
        client_id = body.get("id")
        language = body.get("lang") or "en"
        if not isinstance(client_id, str) or not _CLIENT_ID.fullmatch(client_id):
            raise web.HTTPBadRequest
        if not isinstance(language, str) or not _LANGUAGE.fullmatch(language):
            language = "en"
        if not self.limits.may_send(chat_id, _address(request)):
            return _json(429, {"error": "slow", "retry_seconds": 10})
        text, data, message = body.get("text"), body.get("data"), body.get("message")
        phone = body.get("contact")
        if isinstance(text, str) and 0 < len(text) <= MAX_TEXT:
            raw = updates.text_update(chat_id, client_id, text, language)
        elif isinstance(phone, str) and _PHONE.fullmatch(phone):
            raw = updates.contact_update(chat_id, client_id, phone, language)
        elif isinstance(data, str) and len(data) <= 64 and isinstance(message, int):
            raw = updates.button_update(chat_id, client_id, message, data, language)
        else:
            raise web.HTTPBadRequest
        try:
            async with asyncio.timeout(HANDLE_SECONDS):
                await updates.handle(self.application, raw)
        except TimeoutError:
            # Still being handled: the page sends it again with the same id, and the
            # update is not handled twice.
            return _json(503, {"error": "slow", "retry_seconds": 2})
        return _json(200, {"ok": True})

    async def events(self, request: web.Request) -> web.StreamResponse:
        chat_id = await self._chat(request)
        try:
            last = int(request.headers.get("Last-Event-ID") or request.query.get("after") or 0)
        except ValueError:
            raise web.HTTPBadRequest from None
        if self.channel.listening(chat_id) >= STREAMS_PER_CHAT:
            return _json(429, {"error": "streams", "retry_seconds": 5})
        response = web.StreamResponse(
            headers={"Content-Type": "text/event-stream", "X-Accel-Buffering": "no", **HEADERS}
        )
        await response.prepare(request)
        await response.write(b"retry: 2000\n\n")
        services = self.services
        loop = asyncio.get_running_loop()
        deadline = loop.time() + STREAM_SECONDS
        wake = self.channel.listen(chat_id)
        try:
            while loop.time() < deadline and not self.closing.is_set():
                wake.clear()
                events = await store.events_after(services.database, services.ring, chat_id, last)
                for event in events:
                    data = json.dumps(event.body, ensure_ascii=False)
                    await response.write(f"id: {event.seq}\ndata: {data}\n\n".encode())
                    last = event.seq
                if events:
                    continue
                closing = asyncio.ensure_future(self.closing.wait())
                woken = asyncio.ensure_future(wake.wait())
                try:
                    done, _ = await asyncio.wait(
                        [closing, woken], timeout=WAKE_SECONDS, return_when=asyncio.FIRST_COMPLETED
                    )
                finally:
                    closing.cancel()
                    woken.cancel()
                if not done:
                    await response.write(b": still here\n\n")
        except ConnectionResetError:
            pass
        finally:
            self.channel.unlisten(chat_id, wake)
        return response

    async def give_code(self, request: web.Request) -> web.Response:
        chat_id = await self._chat(request)
        code = recovery_code()
        digest = await asyncio.to_thread(store.recovery_hash, code)
        await store.set_recovery(self.services.database, chat_id, digest)
        return _json(200, {"code": code})

    async def recover(self, request: web.Request) -> web.Response:
        if not self.limits.may_start(_address(request)):
            return _json(429, {"error": "busy", "retry_seconds": 60})
        body = await self._body(request)
        code = body.get("code")
        if not isinstance(code, str) or len(code) > 20:
            raise web.HTTPBadRequest
        services = self.services
        token = secrets.token_urlsafe(32)
        digest = await asyncio.to_thread(store.recovery_hash, code)
        found = await store.recover(services.database, digest, token, services.clock())
        if found is None:
            return _json(404, {"error": "code"})
        return _json(200, {"token": token})


class RunningWebChat:
    def __init__(self, runner: web.AppRunner, port: int) -> None:
        self.runner = runner
        self.port = port

    async def stop(self) -> None:
        await self.runner.cleanup()


async def start_web_chat(
    application: FirstStepApp, settings: Settings, *, port: int | None = None
) -> RunningWebChat:
    server = WebChatServer(application, settings)
    runner = web.AppRunner(
        server.app(), access_log=None, handle_signals=False, shutdown_timeout=5.0
    )
    await runner.setup()
    site = web.TCPSite(
        runner, settings.webchat_listen, settings.webchat_port if port is None else port
    )
    await site.start()
    server_sockets = getattr(site._server, "sockets", None) or []
    bound = server_sockets[0].getsockname()[1] if server_sockets else 0
    log.info("event=webchat_server_started port=%d", bound)
    return RunningWebChat(runner, int(bound))
