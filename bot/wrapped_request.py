"""A request class that wraps another: everything goes on to the wrapped request
(`inner`), except what a subclass answers itself or does first in `intercept`."""

from __future__ import annotations

from telegram.request import BaseRequest, RequestData


class WrappedRequest(BaseRequest):
    __slots__ = ("inner",)

    def __init__(self, inner: BaseRequest) -> None:
        self.inner = inner

    def __repr__(self) -> str:
        return f"{type(self).__name__}({type(self.inner).__name__})"

    @property
    def read_timeout(self) -> float | None:
        return self.inner.read_timeout

    async def initialize(self) -> None:
        await self.inner.initialize()

    async def shutdown(self) -> None:
        await self.inner.shutdown()

    async def intercept(
        self, url: str, request_data: RequestData | None
    ) -> tuple[int, bytes] | None:
        """Runs before each call: a reply to give instead of the wrapped request's, or
        None to pass the call on."""
        return None

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
        reply = await self.intercept(url, request_data)
        if reply is not None:
            return reply
        return await self.inner.do_request(
            url,
            method,
            request_data,
            read_timeout=read_timeout,  # type: ignore[arg-type]
            write_timeout=write_timeout,  # type: ignore[arg-type]
            connect_timeout=connect_timeout,  # type: ignore[arg-type]
            pool_timeout=pool_timeout,  # type: ignore[arg-type]
        )
