"""Pacing: never faster than Telegram allows, and silent while flood control is on.

After a 429 with `retry_after`, the outbox worker sends nothing more until that time
has passed (`FloodGate`, the worker's own pause); replies to people are held only for
the chat the 429 came for (`TelegramLimiter`, bot/delivery/limiter.py). `Pacer`
spaces the worker's own sends so it stays under the overall rate even without PTB's
rate limiter (tests, or a deployment that turned it off).
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable
from datetime import timedelta

from telegram.error import RetryAfter

log = logging.getLogger("firststep.flood")

Monotonic = Callable[[], float]
# Held a little past Telegram's retry_after (as PTB's AIORateLimiter does), so a row
# rescheduled for exactly that time is due when the pause ends.
FLOOD_MARGIN = 0.1


def retry_after_seconds(error: RetryAfter) -> float:
    """PTB gives an int or (with PTB_TIMEDELTA) a timedelta."""
    value = error.retry_after
    return value.total_seconds() if isinstance(value, timedelta) else float(value)


class FloodGate:
    """A process-wide pause: `hold(s)` after a 429, `wait()` before every send."""

    def __init__(self, monotonic: Monotonic = time.monotonic) -> None:
        self._monotonic = monotonic
        self._until = 0.0

    def hold(self, seconds: float) -> None:
        """Nothing may be sent for `seconds` (plus a margin) from now; a longer hold
        made earlier stands."""
        self._until = max(self._until, self._monotonic() + max(0.0, seconds) + FLOOD_MARGIN)

    @property
    def remaining(self) -> float:
        return max(0.0, self._until - self._monotonic())

    async def wait(self) -> None:
        """Until the pause is over; a hold made meanwhile (another 429) is waited too."""
        while True:
            left = self.remaining
            if left <= 0:
                return
            await asyncio.sleep(left)


class Pacer:
    """At most one send per 1/rate seconds: steady, no bursts, so any one-second
    window holds at most rate + 1 sends."""

    def __init__(self, per_second: float, monotonic: Monotonic = time.monotonic) -> None:
        if per_second <= 0:
            raise ValueError("per_second must be positive")
        self._interval = 1.0 / per_second
        self._monotonic = monotonic
        self._next = 0.0
        self._lock = asyncio.Lock()

    async def take(self) -> None:
        async with self._lock:
            wait = self._next - self._monotonic()
            if wait > 0:
                await asyncio.sleep(wait)
            self._next = max(self._monotonic(), self._next) + self._interval
