"""In-process front-end: a PTB ``BaseRequest`` that answers from a ``TelegramEmulator``.

Why ``do_request`` and not ``post``: PTB's own envelope parsing and error mapping then run
(400 → BadRequest, 403 → Forbidden, 429 → RetryAfter, 5xx → NetworkError), exactly as with
real Telegram, while no socket is opened. Wire it as both requests of an application::

    app = (
        ApplicationBuilder()
        .token(emulator.token)
        .request(EmulatorRequest(emulator))
        .get_updates_request(EmulatorRequest(emulator))
        .build()
    )
"""

from __future__ import annotations

import re
from urllib.parse import unquote, urlsplit

from telegram.error import TimedOut
from telegram.request import BaseRequest, RequestData

from bot.sandbox.emulator import ApiReply, TelegramEmulator, UploadedFile

__all__ = ["EmulatorRequest"]

_API_PATH = re.compile(r"/bot(?P<token>[^/]+)/(?P<method>[A-Za-z0-9_]+)$")


class EmulatorRequest(BaseRequest):
    """Routes PTB's requests to the emulator; an injected timeout raises ``TimedOut``."""

    __slots__ = ("_emulator", "_read_timeout")

    def __init__(self, emulator: TelegramEmulator, *, read_timeout: float | None = 5.0) -> None:
        self._emulator = emulator
        self._read_timeout = read_timeout

    @property
    def read_timeout(self) -> float | None:
        return self._read_timeout

    async def initialize(self) -> None:
        """Nothing to open: there is no connection pool."""

    async def shutdown(self) -> None:
        """Nothing to close."""

    async def do_request(
        self,
        url: str,
        method: str,
        request_data: RequestData | None = None,
        read_timeout: object = BaseRequest.DEFAULT_NONE,
        write_timeout: object = BaseRequest.DEFAULT_NONE,
        connect_timeout: object = BaseRequest.DEFAULT_NONE,
        pool_timeout: object = BaseRequest.DEFAULT_NONE,
    ) -> tuple[int, bytes]:
        match = _API_PATH.search(unquote(urlsplit(url).path))
        if method != "POST" or match is None:
            return 404, ApiReply.error(404, "Not Found").encode()
        params = request_data.json_parameters if request_data else {}
        files = {
            name: UploadedFile(filename, _read(content), mime_type)
            for name, (filename, content, mime_type) in (
                request_data.multipart_data.items() if request_data else ()
            )
        }
        reply = await self._emulator.handle(
            match["method"], params, token=match["token"], files=files
        )
        if reply.stall:
            raise TimedOut("Timed out (injected by the emulator)")
        return reply.status, reply.encode()


def _read(content: object) -> bytes:
    if isinstance(content, bytes):
        return content
    read = getattr(content, "read", None)
    data = read() if callable(read) else b""
    return data if isinstance(data, bytes) else bytes(str(data), "utf-8")
