"""The request class of both doors: Bot API calls addressed to a web chat go to the web
channel; everything else goes on, unchanged, to the wrapped request (the shipped aiohttp
client to Telegram, or the emulator in tests and the sandbox)."""

from __future__ import annotations

from telegram.request import BaseRequest, RequestData

from bot.webchat.channel import WebChannel


class TwoDoorRequest(BaseRequest):
    __slots__ = ("channel", "inner")

    def __init__(self, inner: BaseRequest, channel: WebChannel) -> None:
        self.inner = inner
        self.channel = channel

    def __repr__(self) -> str:
        return f"TwoDoorRequest({type(self.inner).__name__})"

    @property
    def read_timeout(self) -> float | None:
        return self.inner.read_timeout

    async def initialize(self) -> None:
        await self.inner.initialize()

    async def shutdown(self) -> None:
        await self.inner.shutdown()

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
        if request_data is not None and not request_data.contains_files:
            api_method = url.rsplit("/", 1)[-1]
            params = request_data.parameters  # values as they are: no JSON encoding yet
            if self.channel.is_for_web(api_method, params):
                return await self.channel.call(api_method, params)
        return await self.inner.do_request(
            url,
            method,
            request_data,
            read_timeout=read_timeout,  # type: ignore[arg-type]
            write_timeout=write_timeout,  # type: ignore[arg-type]
            connect_timeout=connect_timeout,  # type: ignore[arg-type]
            pool_timeout=pool_timeout,  # type: ignore[arg-type]
        )
