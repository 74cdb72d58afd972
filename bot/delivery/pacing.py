"""Pacing: never faster than Telegram allows, and silent while flood control is on.

Telegram's flood control belongs to the bot, not to one chat's messages: after a 429
with `retry_after`, anything sent before that time has passed only makes the wait
longer. `FloodGate` is that one pause for the whole process, shared by the delivery
worker and (through `PausingRateLimiter`) by every reply the handlers send. `Pacer`
spaces the worker's own sends so it stays under the overall rate even without PTB's
rate limiter (tests, or a deployment that turned it off).
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable, Coroutine
from datetime import timedelta
from typing import Any

from telegram.error import RetryAfter
from telegram.ext import AIORateLimiter

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


# PTB's limiter logs every 429 it does not retry as an ERROR with a traceback. With
# max_retries=0 that is every 429, and a 429 is expected: the FloodGate handles it, and
# PausingRateLimiter logs it as a warning with the wait instead.
PTB_LIMITER_LOGGER = "telegram.ext.AIORateLimiter"
PTB_GAVE_UP = "Rate limit hit after maximum"


class ExpectedFloodControl(logging.Filter):
    """Drops PTB's ERROR for a 429 it passed on (ours, a warning, says the same)."""

    def filter(self, record: logging.LogRecord) -> bool:
        return not (isinstance(record.msg, str) and record.msg.startswith(PTB_GAVE_UP))


class PausingRateLimiter(AIORateLimiter):
    """PTB's AIORateLimiter (30/s overall, 20/min per group) that also honours the
    shared FloodGate: a 429 anywhere pauses every chat-bound request in the process,
    whether it comes from a handler or from the delivery worker."""

    def __init__(self, gate: FloodGate, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.gate = gate
        ptb_log = logging.getLogger(PTB_LIMITER_LOGGER)
        if not any(isinstance(f, ExpectedFloodControl) for f in ptb_log.filters):
            # First, so the record is dropped before any other filter formats it.
            ptb_log.filters.insert(0, ExpectedFloodControl())

    async def process_request(
        self,
        callback: Callable[..., Coroutine[Any, Any, bool | dict[str, Any] | list[dict[str, Any]]]],
        args: Any,
        kwargs: dict[str, Any],
        endpoint: str,
        data: dict[str, Any],
        rate_limit_args: int | None,
    ) -> bool | dict[str, Any] | list[dict[str, Any]]:
        bound_to_chat = data.get("chat_id") is not None
        if bound_to_chat:
            await self.gate.wait()
        try:
            return await super().process_request(
                callback, args, kwargs, endpoint, data, rate_limit_args
            )
        except RetryAfter as error:
            seconds = retry_after_seconds(error)
            self.gate.hold(seconds)
            log.warning("event=flood_control method=%s retry_seconds=%.1f", endpoint, seconds)
            raise
