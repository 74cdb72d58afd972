"""Polling acknowledges an update only once it was handled.

Telegram forgets updates up to the `offset` of the next getUpdates call, and PTB's
Updater makes that call as soon as it queued a batch: a process that died while
handling one lost it (a relayed message, a button press). Here getUpdates first waits
until every update already fetched was handled (the Application's update queue joined),
so a crash leaves them unacknowledged and they come again; each step claims its update
id in its own transaction (conversations/flow.py), so one handled before is not redone.
"""

from __future__ import annotations

import asyncio

from telegram.request import BaseRequest, RequestData


class AckAfterHandled(BaseRequest):
    """The getUpdates request, waiting for the update queue before each call."""

    def __init__(self, inner: BaseRequest) -> None:
        self.inner = inner
        self.queue: asyncio.Queue[object] | None = None

    def __repr__(self) -> str:
        return f"AckAfterHandled({type(self.inner).__name__})"

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
        if self.queue is not None and url.rsplit("/", 1)[-1].lower() == "getupdates":
            await self.queue.join()
        return await self.inner.do_request(
            url,
            method,
            request_data,
            read_timeout=read_timeout,  # type: ignore[arg-type]
            write_timeout=write_timeout,  # type: ignore[arg-type]
            connect_timeout=connect_timeout,  # type: ignore[arg-type]
            pool_timeout=pool_timeout,  # type: ignore[arg-type]
        )
