"""Telegram's sending rules, kept by one rate limiter for every call the bot makes.

Telegram asks a bot to send about 30 messages a second in all, about one a second to any
one chat (short bursts are fine) and 20 a minute to a group. "In a second" is any
second here, as an emulator counting a sliding window checks it. `TelegramLimiter` keeps
those, and two more things PTB's AIORateLimiter does not:

- replies to people go first: a bulk send (the outbox's cards and reminders, marked
  with `rate_limit_args=BULK`) only takes overall capacity no reply is waiting for;
- a 429 (`RetryAfter`) holds the chat it came for, not every chat: other people's
  replies go on, and the reply itself goes again after the hold. The outbox worker
  still pauses its own sends (`FloodGate`).
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable, Coroutine
from typing import Any

from aiolimiter import AsyncLimiter
from telegram.error import RetryAfter
from telegram.ext import BaseRateLimiter

from bot.delivery.pacing import FLOOD_MARGIN, Monotonic, retry_after_seconds
from conversations.door import is_web_chat

# Replies to people pass no rate_limit_args; the outbox worker's sends pass BULK.
BULK = 1
OVERALL_PER_SECOND = 30
# A leaky bucket lets through its burst plus a second's flow in any one second, so the
# steady flow is the rate less the burst: never more than the rate in any second.
OVERALL_BURST = 3
# Telegram counts a send when it arrives, the limiter when it leaves: a send held up on
# the way (a busy event loop, a full connection pool, a slow hop) arrives bunched with
# later ones. The steady flow leaves room for this much spread, so that the sends let
# go in any 1 + TRANSIT_SPREAD_SECONDS still number at most the rate: without it the
# bench's loopback section met 133 refusals (429) from an emulator counting a sliding
# second, in windows holding 31 sends.
TRANSIT_SPREAD_SECONDS = 0.2
CHAT_BURST = 2  # sends one chat may get at once; then one a second (at most 3 in a second)
CHAT_PER_SECOND = 1.0
GROUP_PER_MINUTE = 20
# How often a waiting bulk send looks again for capacity no reply needs.
BULK_LOOK_SECONDS = 0.01
# A reply that meets a 429 waits out its chat's hold and goes again (a person gets it
# late rather than an error); bulk sends raise at once: the outbox reschedules them.
REPLY_RETRIES = 2
# Chat limiters kept before the idle ones are dropped (memory stays flat with people).
PRUNE_AT = 2_000

log = logging.getLogger(__name__)

ChatId = int | str
Result = bool | dict[str, Any] | list[dict[str, Any]]


class TelegramLimiter(BaseRateLimiter[int]):
    """Overall, per-chat and per-group rates; replies before bulk; per-chat 429 holds."""

    def __init__(
        self,
        *,
        overall_per_second: float = OVERALL_PER_SECOND,
        chat_burst: float = CHAT_BURST,
        chat_per_second: float = CHAT_PER_SECOND,
        monotonic: Monotonic = time.monotonic,
    ) -> None:
        steady = (overall_per_second - OVERALL_BURST) / (1 + TRANSIT_SPREAD_SECONDS)
        self._overall = AsyncLimiter(OVERALL_BURST, OVERALL_BURST / steady)
        self._chat_burst = chat_burst
        self._chat_period = chat_burst / chat_per_second
        self._chats: dict[ChatId, AsyncLimiter] = {}
        self._held: dict[ChatId, float] = {}
        self._monotonic = monotonic
        self._replies_waiting = 0

    async def initialize(self) -> None:
        """Nothing to open."""

    async def shutdown(self) -> None:
        """Nothing to close."""

    def held_for(self, chat: ChatId) -> float:
        """Seconds this chat is still held after a 429 (0 when free)."""
        until = self._held.get(chat)
        if until is None:
            return 0.0
        left = until - self._monotonic()
        if left <= 0:
            del self._held[chat]
            return 0.0
        return left

    def _chat_limiter(self, chat: ChatId) -> AsyncLimiter:
        limiter = self._chats.get(chat)
        if limiter is None:
            if len(self._chats) >= PRUNE_AT:
                self._prune()
            group = isinstance(chat, str) or chat < 0
            limiter = (
                AsyncLimiter(GROUP_PER_MINUTE, 60.0)
                if group
                else AsyncLimiter(self._chat_burst, self._chat_period)
            )
            self._chats[chat] = limiter
        return limiter

    def _prune(self) -> None:
        """Forget chats whose bucket has drained: a new one behaves the same."""
        for chat, limiter in list(self._chats.items()):
            if limiter.has_capacity(limiter.max_rate):
                del self._chats[chat]

    async def _take_overall(self, bulk: bool) -> None:
        if not bulk:
            self._replies_waiting += 1
            try:
                await self._overall.acquire()
            finally:
                self._replies_waiting -= 1
            return
        # Only capacity that is free now and that no reply is waiting for.
        while self._replies_waiting or not self._overall.has_capacity():  # noqa: ASYNC110 (a timed look, as capacity comes back by the clock)
            await asyncio.sleep(BULK_LOOK_SECONDS)
        await self._overall.acquire()  # free now: returns without waiting

    async def process_request(
        self,
        callback: Callable[..., Coroutine[Any, Any, Result]],
        args: Any,
        kwargs: dict[str, Any],
        endpoint: str,
        data: dict[str, Any],
        rate_limit_args: int | None,
    ) -> Result:
        chat = data.get("chat_id")
        if chat is None or is_web_chat(chat):
            # getUpdates, answerCallbackQuery…: not a message to a chat; a web chat is
            # not Telegram's and keeps its own limits (bot/webchat).
            return await callback(*args, **kwargs)
        bulk = rate_limit_args == BULK
        tries = 1 if bulk else 1 + REPLY_RETRIES
        for attempt in range(1, tries + 1):
            while (left := self.held_for(chat)) > 0:  # noqa: ASYNC110 (a hold ends by the clock)
                await asyncio.sleep(left)
            await self._chat_limiter(chat).acquire()
            await self._take_overall(bulk)
            try:
                return await callback(*args, **kwargs)
            except RetryAfter as error:
                seconds = retry_after_seconds(error)
                # Expected, not an error: a warning with the wait (never the chat id).
                log.warning(
                    "event=flood_control method=%s retry_seconds=%.1f bulk=%s",
                    endpoint,
                    seconds,
                    bulk,
                )
                until = self._monotonic() + seconds + FLOOD_MARGIN
                self._held[chat] = max(self._held.get(chat, 0.0), until)
                if attempt == tries:
                    raise
        raise AssertionError("unreachable: the last attempt returns or raises")
