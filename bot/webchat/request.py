"""The request class of both doors: Bot API calls addressed to a web chat go to the web
channel; everything else goes on, unchanged, to the wrapped request (the shipped aiohttp
client to Telegram, or the emulator in tests and the sandbox)."""

from __future__ import annotations

from telegram.request import BaseRequest, RequestData

from bot.webchat.channel import WebChannel
from bot.wrapped_request import WrappedRequest


class TwoDoorRequest(WrappedRequest):
    __slots__ = ("channel",)

    def __init__(self, inner: BaseRequest, channel: WebChannel) -> None:
        super().__init__(inner)
        self.channel = channel

    async def intercept(
        self, url: str, request_data: RequestData | None
    ) -> tuple[int, bytes] | None:
        if request_data is not None and not request_data.contains_files:
            api_method = url.rsplit("/", 1)[-1]
            params = request_data.parameters  # values as they are: no JSON encoding yet
            if self.channel.is_for_web(api_method, params):
                return await self.channel.call(api_method, params)
        return None
