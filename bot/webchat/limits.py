"""The web door's limits, held in memory only (nothing about an address is ever kept).

- Each session and each address may send `per_minute` messages a minute (a sliding
  window); past it the page is told to slow down.
- New chats: each address may start a few a minute, and all addresses together at most
  `new_chats_per_minute`. Past the global budget nobody is refused for good: the page
  says "try again in a minute" and keeps the person's place on the page. A real person
  starts one chat; a flood of new sessions runs into the budget, not into people already
  talking (their messages never touch it).
"""

from __future__ import annotations

import time
from collections import deque
from collections.abc import Callable, Hashable

Monotonic = Callable[[], float]

# Old windows are forgotten once this many keys are held (a flood of addresses).
MAX_KEYS = 50_000


class Window:
    """At most `limit` events per `seconds` per key, in a sliding window."""

    def __init__(self, limit: int, seconds: float, clock: Monotonic = time.monotonic) -> None:
        self.limit = limit
        self.seconds = seconds
        self._clock = clock
        self._seen: dict[Hashable, deque[float]] = {}

    def allow(self, key: Hashable) -> bool:
        now = self._clock()
        seen = self._seen.get(key)
        if seen is None:
            if len(self._seen) >= MAX_KEYS:
                self._forget_old(now)
            seen = self._seen[key] = deque()
        while seen and seen[0] <= now - self.seconds:
            seen.popleft()
        if len(seen) >= self.limit:
            return False
        seen.append(now)
        return True

    def _forget_old(self, now: float) -> None:
        for key in [k for k, v in self._seen.items() if not v or v[-1] <= now - self.seconds]:
            del self._seen[key]
        if len(self._seen) >= MAX_KEYS:
            self._seen.clear()


class Limits:
    def __init__(
        self,
        *,
        messages_per_minute: int = 30,
        new_chats_per_minute: int = 60,
        new_chats_per_address: int = 5,
        clock: Monotonic = time.monotonic,
    ) -> None:
        self.session = Window(messages_per_minute, 60.0, clock)
        self.address = Window(messages_per_minute * 2, 60.0, clock)
        self.new_by_address = Window(new_chats_per_address, 60.0, clock)
        self.new_overall = Window(new_chats_per_minute, 60.0, clock)

    def may_send(self, chat_id: int, address: str) -> bool:
        return self.session.allow(chat_id) and self.address.allow(address)

    def may_start(self, address: str) -> bool:
        return self.new_by_address.allow(address) and self.new_overall.allow("all")
