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

from bot.wrapped_request import WrappedRequest


class AckAfterHandled(WrappedRequest):
    """The getUpdates request, waiting for the update queue before each call."""

    def __init__(self, inner: BaseRequest) -> None:
        super().__init__(inner)
        self.queue: asyncio.Queue[object] | None = None

    async def intercept(
        self, url: str, request_data: RequestData | None
    ) -> tuple[int, bytes] | None:
        if self.queue is not None and url.rsplit("/", 1)[-1].lower() == "getupdates":
            await self.queue.join()
        return None
