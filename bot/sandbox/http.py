"""Loopback HTTP front-end: the emulator as a real Bot API server on 127.0.0.1.

Why: end-to-end and subprocess tests (and the sandbox page) need PTB's real HTTPXRequest,
connection pool, form encoding and timeouts. Point an application at it with::

    async with EmulatorServer(emulator) as server:
        app = (
            ApplicationBuilder()
            .token(emulator.token)
            .base_url(server.base_url)
            .base_file_url(server.base_file_url)
            .build()
        )

Routes: ``POST|GET /bot<token>/<method>`` (form, JSON or multipart bodies), a small JSON
control API under ``/_emulator/`` (for the browser page and subprocess tests), and static
files from ``static_dir``. Stdlib asyncio streams, HTTP/1.1 keep-alive, no dependencies.
"""

from __future__ import annotations

import asyncio
import contextlib
import ipaddress
import json
import mimetypes
from collections.abc import Callable
from dataclasses import dataclass
from email.message import EmailMessage
from email.parser import BytesParser
from email.policy import HTTP
from http import HTTPStatus
from pathlib import Path
from types import TracebackType
from typing import Any, Final
from urllib.parse import parse_qsl, unquote, urlsplit

from bot.sandbox.emulator import (
    ApiReply,
    EmulatorUsageError,
    Injected,
    TelegramEmulator,
    UploadedFile,
)

__all__ = ["EmulatorServer"]

_MAX_BODY: Final = 20 * 1024 * 1024
_MAX_HEAD: Final = 64 * 1024
_WATCH_INTERVAL: Final = 0.05
_PLACEHOLDER_PAGE: Final = (
    b"<!doctype html><meta charset='utf-8'><title>First Step sandbox</title>"
    b"<p>The Telegram emulator is running. No sandbox page is installed.</p>"
)


class _HttpError(Exception):
    def __init__(self, status: int, description: str | None = None) -> None:
        super().__init__(description or HTTPStatus(status).phrase)
        self.status = status
        self.description = description or HTTPStatus(status).phrase


@dataclass(frozen=True, slots=True)
class _Request:
    method: str
    path: str
    query: str
    headers: dict[str, str]
    body: bytes
    keep_alive: bool


@dataclass(frozen=True, slots=True)
class _Response:
    status: int
    body: bytes
    content_type: str = "application/json"

    @classmethod
    def json(cls, status: int, payload: Any) -> _Response:
        return cls(status, json.dumps(payload, ensure_ascii=False).encode())


class EmulatorServer:
    """A Bot API HTTP server for one emulator; ephemeral port unless ``port`` is given."""

    def __init__(
        self,
        emulator: TelegramEmulator,
        *,
        host: str = "127.0.0.1",
        port: int = 0,
        static_dir: Path | str | None = None,
        stall_limit: float = 30.0,
    ) -> None:
        if host != "localhost" and not ipaddress.ip_address(host).is_loopback:
            # The control API lets anyone who can connect speak as any person.
            raise ValueError(f"the emulator only listens on loopback, not {host}")
        self.emulator = emulator
        self.host = host
        self._requested_port = port
        self._static_dir = Path(static_dir).resolve() if static_dir is not None else None
        self._stall_limit = stall_limit
        self._server: asyncio.Server | None = None
        self._connections: set[asyncio.Task[None]] = set()
        self._port: int | None = None

    # ------------------------------------------------------------------ lifecycle

    async def start(self) -> None:
        if self._server is not None:
            raise RuntimeError("the server is already running")
        self._server = await asyncio.start_server(
            self._on_connect, self.host, self._requested_port, limit=_MAX_HEAD
        )
        self._port = self._server.sockets[0].getsockname()[1]

    async def stop(self) -> None:
        """Stop listening and end every open connection, even one in a long poll."""
        server, self._server = self._server, None
        if server is None:
            return
        server.close()
        tasks = list(self._connections)
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        await server.wait_closed()

    async def __aenter__(self) -> EmulatorServer:
        await self.start()
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.stop()

    @property
    def port(self) -> int:
        if self._port is None:
            raise RuntimeError("the server is not started")
        return self._port

    @property
    def url(self) -> str:
        return f"http://{self.host}:{self.port}"

    @property
    def base_url(self) -> str:
        """For ``ApplicationBuilder().base_url(...)``: PTB appends the token."""
        return f"{self.url}/bot"

    @property
    def base_file_url(self) -> str:
        return f"{self.url}/file/bot"

    # ------------------------------------------------------------------ connections

    async def _on_connect(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        task = asyncio.current_task()
        if task is not None:
            self._connections.add(task)
        try:
            await self._serve(reader, writer)
        except (asyncio.CancelledError, ConnectionError, asyncio.IncompleteReadError):
            # Shutdown, or a client that went away mid-request (a cancelled long poll, a
            # killed bot process): nothing to answer and nobody to tell.
            pass
        finally:
            writer.close()
            with contextlib.suppress(Exception, asyncio.CancelledError):
                await writer.wait_closed()
            if task is not None:
                self._connections.discard(task)

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        while True:
            try:
                request = await _read_request(reader)
            except _HttpError as exc:
                await _send(writer, _Response.json(exc.status, _error(exc)), keep_alive=False)
                return
            if request is None:
                return
            response = await self._dispatch(request, reader)
            if response is None:  # the client hung up while we were answering
                return
            await _send(writer, response, keep_alive=request.keep_alive)
            if not request.keep_alive:
                return

    async def _dispatch(self, request: _Request, reader: asyncio.StreamReader) -> _Response | None:
        path = request.path
        try:
            if path.startswith("/bot"):
                return await self._api(request, reader)
            if path.startswith("/_emulator/"):
                return self._control(request)
            if path.startswith("/file/bot"):
                return _Response.json(404, _error(_HttpError(404)))
            return self._static(request)
        except _HttpError as exc:
            return _Response.json(exc.status, _error(exc))

    # ------------------------------------------------------------------ Bot API

    async def _api(self, request: _Request, reader: asyncio.StreamReader) -> _Response | None:
        token, _, method = request.path.removeprefix("/bot").partition("/")
        if not method or "/" in method:
            reply = ApiReply.error(404, "Not Found")
            return _Response(reply.status, reply.encode())
        params, files = _api_params(request)
        task = asyncio.ensure_future(self.emulator.handle(method, params, token=token, files=files))
        if not await _until_done_or_hangup(task, reader, None):
            return None
        reply = task.result()
        if reply.stall:
            stall = asyncio.ensure_future(asyncio.sleep(self._stall_limit))
            if not await _until_done_or_hangup(stall, reader, self._stall_limit):
                return None
        return _Response(reply.status, reply.encode())

    # ------------------------------------------------------------------ control API

    def _control(self, request: _Request) -> _Response:
        self._check_local(request)
        route = request.path.removeprefix("/_emulator/").strip("/")
        emu = self.emulator
        try:
            if request.method == "GET":
                if route == "calls":
                    method = dict(parse_qsl(request.query)).get("method")
                    return _ok([c.to_dict() for c in emu.calls(method)])
                if route == "users":
                    return _ok([_user_dict(u.to_api()) for u in emu.users()])
                if route.startswith("keyboards/"):  # the reply keyboard a person sees now
                    chat_id = int(route.removeprefix("keyboards/"))
                    return _ok(emu.reply_keyboard(chat_id))
                if route.startswith("chats/"):
                    chat_id = int(route.removeprefix("chats/"))
                    return _ok([m.to_dict() for m in emu.chat(chat_id)])
                raise _HttpError(404)
            if request.method != "POST":
                raise _HttpError(405)
            if request.headers.get("content-type", "").split(";")[0].strip() != "application/json":
                raise _HttpError(415, "control requests must be application/json")
            body = json.loads(request.body or b"{}")
            if not isinstance(body, dict):
                raise _HttpError(400, "a JSON object is expected")
            action = self._actions().get(route)
            if action is None:
                raise _HttpError(404)
            return _ok(action(body))
        except EmulatorUsageError as exc:
            return _Response.json(400, {"ok": False, "description": str(exc)})
        except (KeyError, TypeError, ValueError) as exc:
            return _Response.json(400, {"ok": False, "description": f"bad request: {exc!r}"})

    def _actions(self) -> dict[str, Callable[[dict[str, Any]], Any]]:
        emu = self.emulator

        def users(b: dict[str, Any]) -> Any:
            user = emu.register_user(
                int(b["user_id"]),
                str(b.get("first_name", "Alex")),
                username=b.get("username"),
                last_name=b.get("last_name"),
                language_code=b.get("language_code", "en"),
                started=bool(b.get("started", False)),
            )
            return _user_dict(user.to_api())

        return {
            "users": users,
            "send": lambda b: _injected(
                emu.user_sends(
                    int(b["user_id"]),
                    str(b["text"]),
                    chat_id=b.get("chat_id"),
                    reply_to_message_id=_optional_int(b.get("reply_to_message_id")),
                )
            ),
            "press": lambda b: _injected(
                emu.user_presses(
                    int(b["user_id"]),
                    int(b["message_id"]),
                    str(b["data"]),
                    chat_id=b.get("chat_id"),
                )
            ),
            "tap": lambda b: _injected(
                emu.tap_reply_button(
                    int(b["user_id"]), str(b["text"]), lat=b.get("lat"), lon=b.get("lon")
                )
            ),
            "location": lambda b: _injected(
                emu.user_sends_location(int(b["user_id"]), float(b["lat"]), float(b["lon"]))
            ),
        }

    def _check_local(self, request: _Request) -> None:
        """Only pages served from this origin may drive people (blocks DNS rebinding)."""
        host = request.headers.get("host", "")
        allowed = {f"{name}:{self.port}" for name in ("127.0.0.1", "localhost", "[::1]")}
        if host not in allowed:
            raise _HttpError(403, "the control API only answers local requests")

    # ------------------------------------------------------------------ static files

    def _static(self, request: _Request) -> _Response:
        if request.method != "GET":
            raise _HttpError(405)
        relative = unquote(request.path).lstrip("/") or "index.html"
        if self._static_dir is None:
            if relative == "index.html":
                return _Response(200, _PLACEHOLDER_PAGE, "text/html; charset=utf-8")
            raise _HttpError(404)
        target = (self._static_dir / relative).resolve()
        if not target.is_relative_to(self._static_dir) or not target.is_file():
            if relative == "index.html":
                return _Response(200, _PLACEHOLDER_PAGE, "text/html; charset=utf-8")
            raise _HttpError(404)
        content_type = mimetypes.guess_type(target.name)[0] or "application/octet-stream"
        if content_type.startswith("text/") or content_type.endswith(("javascript", "json")):
            content_type += "; charset=utf-8"
        return _Response(200, target.read_bytes(), content_type)


# ---------------------------------------------------------------------- HTTP helpers


async def _read_request(reader: asyncio.StreamReader) -> _Request | None:
    """Read one request; None at a clean end of the connection."""
    try:
        head = await reader.readuntil(b"\r\n\r\n")
    except asyncio.IncompleteReadError as exc:
        if not exc.partial.strip():
            return None
        raise _HttpError(400) from None
    except asyncio.LimitOverrunError:
        raise _HttpError(431) from None
    lines = head.decode("latin-1").split("\r\n")
    parts = lines[0].split(" ")
    if len(parts) != 3 or not parts[2].startswith("HTTP/1."):
        raise _HttpError(400)
    method, target, version = parts
    headers: dict[str, str] = {}
    for line in lines[1:]:
        if line:
            name, sep, value = line.partition(":")
            if not sep:
                raise _HttpError(400)
            headers[name.strip().lower()] = value.strip()
    if headers.get("transfer-encoding", "").lower() == "chunked":
        body = await _read_chunked(reader)
    else:
        length = int(headers.get("content-length", "0") or 0)
        if length < 0 or length > _MAX_BODY:
            raise _HttpError(413)
        body = await reader.readexactly(length)
    connection = headers.get("connection", "").lower()
    keep_alive = connection != "close" if version == "HTTP/1.1" else connection == "keep-alive"
    split = urlsplit(target)
    return _Request(method.upper(), split.path, split.query, headers, body, keep_alive)


async def _read_chunked(reader: asyncio.StreamReader) -> bytes:
    body = bytearray()
    while True:
        size_line = await reader.readuntil(b"\r\n")
        size = int(size_line.split(b";")[0].strip() or b"0", 16)
        if size == 0:
            await reader.readuntil(b"\r\n")
            return bytes(body)
        if len(body) + size > _MAX_BODY:
            raise _HttpError(413)
        body += await reader.readexactly(size)
        await reader.readexactly(2)


async def _send(writer: asyncio.StreamWriter, response: _Response, *, keep_alive: bool) -> None:
    try:
        phrase = HTTPStatus(response.status).phrase
    except ValueError:
        phrase = "Unknown"
    head = (
        f"HTTP/1.1 {response.status} {phrase}\r\n"
        f"Content-Type: {response.content_type}\r\n"
        f"Content-Length: {len(response.body)}\r\n"
        "Cache-Control: no-store\r\n"
        f"Connection: {'keep-alive' if keep_alive else 'close'}\r\n\r\n"
    )
    writer.write(head.encode("latin-1") + response.body)
    await writer.drain()


async def _until_done_or_hangup(
    task: asyncio.Future[Any], reader: asyncio.StreamReader, limit: float | None
) -> bool:
    """Wait for ``task``; cancel it and return False if the client closes the connection.

    A long poll or an injected stall must not outlive the client that asked for it.
    """
    loop = asyncio.get_running_loop()
    deadline = None if limit is None else loop.time() + limit
    try:
        while not task.done():
            await asyncio.wait({task}, timeout=_WATCH_INTERVAL)
            if reader.at_eof() or reader.exception() is not None:
                break
            if deadline is not None and loop.time() >= deadline:
                break
    finally:
        if not task.done():
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task
    return not (reader.at_eof() or reader.exception() is not None)


def _api_params(request: _Request) -> tuple[dict[str, Any], dict[str, UploadedFile]]:
    params: dict[str, Any] = dict(parse_qsl(request.query, keep_blank_values=True))
    files: dict[str, UploadedFile] = {}
    content_type = request.headers.get("content-type", "")
    kind = content_type.split(";")[0].strip().lower()
    if not request.body:
        return params, files
    if kind == "application/x-www-form-urlencoded":
        params.update(parse_qsl(request.body.decode("utf-8"), keep_blank_values=True))
    elif kind == "application/json":
        try:
            body = json.loads(request.body)
        except ValueError:
            raise _HttpError(400, "Bad Request: can't parse JSON object") from None
        if not isinstance(body, dict):
            raise _HttpError(400, "Bad Request: JSON object expected")
        params.update(body)
    elif kind == "multipart/form-data":
        _parse_multipart(content_type, request.body, params, files)
    return params, files


def _parse_multipart(
    content_type: str, body: bytes, params: dict[str, Any], files: dict[str, UploadedFile]
) -> None:
    parser = BytesParser(EmailMessage, policy=HTTP)
    message = parser.parsebytes(f"Content-Type: {content_type}\r\n\r\n".encode() + body)
    for part in message.iter_parts():
        if not isinstance(part, EmailMessage):
            continue
        name = part.get_param("name", header="content-disposition")
        if not isinstance(name, str):
            continue
        payload = part.get_payload(decode=True)
        data = payload if isinstance(payload, bytes) else b""
        filename = part.get_filename()
        if filename is not None:
            files[name] = UploadedFile(filename, data, part.get_content_type())
        else:
            params[name] = data.decode("utf-8")


def _error(exc: _HttpError) -> dict[str, Any]:
    return {"ok": False, "error_code": exc.status, "description": exc.description}


def _ok(result: Any) -> _Response:
    return _Response.json(200, {"ok": True, "result": result})


def _injected(injected: Injected) -> dict[str, Any]:
    return {
        "update_id": injected.update_id,
        "chat_id": injected.chat_id,
        "message_id": injected.message_id,
        "callback_query_id": injected.callback_query_id,
    }


def _optional_int(value: Any) -> int | None:
    return None if value is None else int(value)


def _user_dict(api_user: dict[str, Any]) -> dict[str, Any]:
    return {"user_id": api_user["id"], **{k: v for k, v in api_user.items() if k != "id"}}
