"""A PTB request class on aiohttp, for every Bot API call the bot makes.

Why: over loopback HTTP about half the CPU an update took was PTB's default client
(httpx, httpcore, h11, anyio); aiohttp does the same work in less (issue 16; the bench's
`clients` section measures the three side by side). PTB documents custom `BaseRequest`s
for exactly this. Behaviour is PTB's: it builds the request data and reads the reply;
this only moves bytes, and turns aiohttp's failures into PTB's `TimedOut` and
`NetworkError` as HTTPXRequest does.
"""

from __future__ import annotations

import asyncio
import weakref
from typing import Any

import aiohttp
from telegram.error import NetworkError, TimedOut
from telegram.request import BaseRequest, RequestData


class AiohttpRequest(BaseRequest):
    """One aiohttp session with a keep-alive pool; PTB's default timeouts."""

    __slots__ = ("_connect", "_pool_size", "_read", "_session", "_write")

    def __init__(
        self,
        *,
        connection_pool_size: int = 256,
        read_timeout: float | None = 5.0,
        write_timeout: float | None = 5.0,
        connect_timeout: float | None = 5.0,
    ) -> None:
        self._pool_size = connection_pool_size
        self._read = read_timeout
        self._write = write_timeout
        self._connect = connect_timeout
        self._session: aiohttp.ClientSession | None = None

    @property
    def read_timeout(self) -> float | None:
        return self._read

    async def initialize(self) -> None:
        if self._session is None or self._session.closed:
            connector = aiohttp.TCPConnector(limit=self._pool_size, keepalive_timeout=60.0)
            self._session = aiohttp.ClientSession(connector=connector)
        OPEN.add(self)

    async def shutdown(self) -> None:
        if self._session is not None and not self._session.closed:
            await self._session.close()
        self._session = None
        OPEN.discard(self)

    def _seconds(self, value: Any, default: float | None) -> float | None:
        return default if value is BaseRequest.DEFAULT_NONE else value

    async def do_request(
        self,
        url: str,
        method: str,
        request_data: RequestData | None = None,
        read_timeout: Any = BaseRequest.DEFAULT_NONE,
        write_timeout: Any = BaseRequest.DEFAULT_NONE,
        connect_timeout: Any = BaseRequest.DEFAULT_NONE,
        pool_timeout: Any = BaseRequest.DEFAULT_NONE,
    ) -> tuple[int, bytes]:
        if self._session is None:
            await self.initialize()
        assert self._session is not None
        read = self._seconds(read_timeout, self._read)
        connect = self._seconds(connect_timeout, self._connect)
        timeout = aiohttp.ClientTimeout(total=None, sock_connect=connect, sock_read=read)
        data: aiohttp.FormData | dict[str, str] | None = None
        if request_data is not None:
            if request_data.contains_files:
                form = aiohttp.FormData()
                for name, value in request_data.json_parameters.items():
                    form.add_field(name, value)
                for name, (filename, content, mime) in request_data.multipart_data.items():
                    form.add_field(name, content, filename=filename, content_type=mime)
                data = form
            else:
                data = request_data.json_parameters
        try:
            async with self._session.request(method, url, data=data, timeout=timeout) as response:
                return response.status, await response.read()
        except TimeoutError as error:
            raise TimedOut from error
        except aiohttp.ClientError as error:
            raise NetworkError(f"aiohttp: {type(error).__name__}") from error


# Requests whose session is open. A start-up that fails inside PTB (getMe refused, say)
# never shuts its requests down, and aiohttp would then log "Unclosed client session" as
# an ERROR at exit, after the one line `firststep run` promises.
OPEN: weakref.WeakSet[AiohttpRequest] = weakref.WeakSet()


def event_loop() -> asyncio.AbstractEventLoop:
    """The loop PTB's run_polling/run_webhook will use: the current one, or a new one set
    as current (as PTB does when there is none), so close_loop can close it after."""
    try:
        loop = asyncio.get_event_loop()
    except RuntimeError:
        loop = None
    if loop is None or loop.is_closed():
        loop = asyncio.new_event_loop()
        asyncio.set_event_loop(loop)
    return loop


def close_loop(loop: asyncio.AbstractEventLoop) -> None:
    """After PTB's run_polling/run_webhook (called with close_loop=False): close any
    session start-up left open, then the loop."""
    try:
        for request in list(OPEN):
            loop.run_until_complete(request.shutdown())
    finally:
        loop.close()
