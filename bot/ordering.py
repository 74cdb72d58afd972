"""People served side by side, each person strictly in order.

PTB handles updates one at a time unless given an update processor. One at a time, the
bot spends most of each update waiting on Telegram's round trip, so a poster campaign
queues people behind each other. `PerPersonProcessor` lets updates of different people
run at the same time (at most `people` at once), while one person's updates still run
one after another, in the order they arrived (getUpdates returns them in update-id
order, and PTB starts their tasks in that order).
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Hashable
from typing import Any

from telegram import Update
from telegram.ext import BaseUpdateProcessor

# Updates PTB may hold as tasks at once (running or waiting their turn) per person slot;
# past that PTB itself waits before taking more from its queue.
WAITING_PER_SLOT = 8
MIN_WAITING = 256


def person_key(update: object) -> Hashable | None:
    """Whose turn an update waits for: the sender, else the chat; None for neither."""
    if not isinstance(update, Update):
        return None
    if update.effective_user is not None:
        return ("user", update.effective_user.id)
    if update.effective_chat is not None:
        return ("chat", update.effective_chat.id)
    return None


class PerPersonProcessor(BaseUpdateProcessor):
    """At most `people` updates at once, never two of the same person at once, and one
    person's updates in arrival order (each waits for the one before it)."""

    __slots__ = ("_slots", "_tails")

    def __init__(self, people: int) -> None:
        super().__init__(max(MIN_WAITING, people * WAITING_PER_SLOT))
        self._slots = asyncio.BoundedSemaphore(people)
        # The last update each person has in flight: the next one waits for it. Entries
        # go when that update finishes with nobody behind it, so this stays small.
        self._tails: dict[Hashable, asyncio.Future[None]] = {}

    @property
    def people_in_flight(self) -> int:
        return len(self._tails)

    async def do_process_update(self, update: object, coroutine: Awaitable[Any]) -> None:
        key = person_key(update)
        if key is None:
            async with self._slots:
                await coroutine
            return
        previous = self._tails.get(key)
        mine: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self._tails[key] = mine  # registered before any await: arrival order is kept
        try:
            if previous is not None:
                await asyncio.wait([previous])  # never raises, even if it failed
            async with self._slots:
                await coroutine
        finally:
            mine.set_result(None)
            if self._tails.get(key) is mine:
                del self._tails[key]

    async def initialize(self) -> None:
        """Nothing to open."""

    async def shutdown(self) -> None:
        """Nothing to close: PTB waits for the running updates itself."""
