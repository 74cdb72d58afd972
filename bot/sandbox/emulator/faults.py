"""Faults and limits: injected failures and Telegram's rate limits, set up by tests and
matched against each incoming call.
"""

from __future__ import annotations

import math
import re
from collections import deque

from bot.sandbox.emulator.params import Params
from bot.sandbox.emulator.records import ApiReply, Fault
from bot.sandbox.emulator.rules import RATED_PREFIXES
from bot.sandbox.emulator.state import EmulatorState, RateLimit, locked


class Faults(EmulatorState):
    """Which call fails, how, and when the rate limit answers 429."""

    @locked
    def inject_fault(
        self,
        method: str,
        *,
        status: int | None = 502,
        description: str | None = None,
        retry_after: int | None = None,
        count: int = 1,
        chat_id: int | str | None = None,
        delay: float = 0.0,
        timeout: bool = False,
        applied: bool = False,
    ) -> Fault:
        """Make the next ``count`` calls of ``method`` (``"*"``: any) fail.

        ``status=None`` only delays. ``timeout`` makes the transport time out (in process:
        ``TimedOut``; over HTTP: the server stalls until the client gives up). ``applied``
        performs the call anyway, as when Telegram acted but the answer was lost.
        """
        if count == 0 or count < -1:
            raise ValueError("count is a positive number of calls, or -1 for forever")
        if status == 429 and retry_after is None:
            retry_after = 1
        if description is None:
            description = {
                400: "Bad Request: injected fault",
                403: "Forbidden: injected fault",
                409: "Conflict: injected fault",
                429: f"Too Many Requests: retry after {retry_after}",
                500: "Internal Server Error",
                502: "Bad Gateway",
                503: "Service Unavailable",
                504: "Gateway Timeout",
            }.get(status or 0, f"Error {status}: injected fault")
        fault = Fault(
            method="*" if method == "*" else method.lower(),
            status=status,
            description=description,
            retry_after=retry_after,
            remaining=count,
            chat_id=chat_id,
            delay=delay,
            timeout=timeout,
            applied=applied,
        )
        self._faults.append(fault)
        return fault

    @locked
    def clear_faults(self) -> None:
        self._faults.clear()

    @locked
    def faults(self) -> list[Fault]:
        return list(self._faults)

    @locked
    def enforce_rate_limit(
        self,
        overall_per_second: float | None = 30,
        *,
        per_chat_per_second: float | None = None,
        per_group_per_minute: float | None = 20,
        retry_after: int | None = None,
    ) -> None:
        """Answer 429 with ``retry_after`` when sends exceed these rates (clock-based)."""
        self._rate = RateLimit(
            overall_per_second, per_chat_per_second, per_group_per_minute, retry_after
        )

    @locked
    def disable_rate_limit(self) -> None:
        self._rate = None

    def _take_fault(self, key: str, args: Params) -> Fault | None:
        target = self._fault_target(key, args)
        for fault in self._faults:
            if fault.matches(key, target):
                fault.hits += 1
                if fault.remaining > 0:
                    fault.remaining -= 1
                    if fault.remaining == 0:
                        self._faults.remove(fault)
                return fault
        return None

    def _fault_target(self, key: str, args: Params) -> int | str | None:
        if key == "answercallbackquery":
            query = self._queries.get(args.opt_str("callback_query_id") or "")
            return query.chat_id if query else None
        value = args.values.get("chat_id")
        if isinstance(value, str) and re.fullmatch(r"-?\d+", value):
            return int(value)
        return value if isinstance(value, int | str) else None

    def _rate_check(self, key: str, args: Params) -> ApiReply | None:
        rate = self._rate
        if rate is None or not key.startswith(RATED_PREFIXES) or key == "sendchataction":
            return None
        now = self.clock()
        target = self._fault_target(key, args)
        windows: list[tuple[deque[float], float, float]] = []
        if rate.overall_per_second:
            windows.append((rate.overall, rate.overall_per_second, 1.0))
        if target is not None:
            chat_window = rate.chats.setdefault(target, deque())
            chat = self._chats.get(target) if isinstance(target, int) else None
            if chat is not None and chat.kind in ("group", "supergroup"):
                if rate.per_group_per_minute:
                    windows.append((chat_window, rate.per_group_per_minute, 60.0))
            elif rate.per_chat_per_second:
                windows.append((chat_window, rate.per_chat_per_second, 1.0))
        wait = 0.0
        for window, limit, span in windows:
            while window and window[0] <= now - span:
                window.popleft()
            if len(window) >= limit:
                wait = max(wait, window[0] + span - now)
        if wait > 0:
            retry = rate.retry_after or max(1, math.ceil(wait))
            return ApiReply.error(
                429, f"Too Many Requests: retry after {retry}", {"retry_after": retry}
            )
        rate.overall.append(now)
        if target is not None:
            rate.chats[target].append(now)
        return None
