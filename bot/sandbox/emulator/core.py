"""``TelegramEmulator``: the parts composed, and the one bot-side entry point.

Why: ``handle`` is where a request meets the state: decode, record, faults, rate limit,
then the method (under the lock) or getUpdates (outside it).
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import Mapping
from dataclasses import replace
from typing import Any

from bot.sandbox.emulator.driver import Driver
from bot.sandbox.emulator.faults import Faults
from bot.sandbox.emulator.inspection import Inspection
from bot.sandbox.emulator.methods import METHODS, BotApi, Impl
from bot.sandbox.emulator.params import ApiError, Params, decode_params
from bot.sandbox.emulator.polling import Polling
from bot.sandbox.emulator.records import ApiCall, ApiReply, Fault, JSONDict, UploadedFile


class TelegramEmulator(Driver, Inspection, Faults, Polling, BotApi):
    """The fake Telegram: bot-side API (``handle``), person-side driver, inspection, faults."""

    async def handle(
        self,
        method: str,
        params: Mapping[str, Any],
        *,
        token: str | None = None,
        files: Mapping[str, UploadedFile] | None = None,
    ) -> ApiReply:
        """Answer one Bot API request. ``token=None`` skips the token check (internal use)."""
        if token is not None and token != self.token:
            return ApiReply.error(401, "Unauthorized")
        key = method.lower()
        impl = METHODS.get(key)
        with self._lock:
            try:
                decoded = decode_params(params)
            except ApiError as exc:
                decoded = dict(params)
                call = self._record(method, decoded)
                return self._finish(call, ApiReply.error(exc.status, exc.description))
            call = self._record(method, decoded)
            if impl is None and key != "getupdates":  # getUpdates is async: see below
                return self._finish(call, ApiReply.error(404, "Not Found: method not found"))
            args = Params(decoded, files or {})
            fault = self._take_fault(key, args)
            polling = key == "getupdates"
            if not polling:
                self._inflight += 1
        try:
            if fault is not None:
                reply = await self._apply_fault(fault, impl, args)
                if reply is not None:
                    return self._finish(call, reply)
            with self._lock:
                limited = self._rate_check(key, args)
            if limited is not None:
                return self._finish(call, limited)
            try:
                if impl is None:
                    result = await self._get_updates(args)
                else:
                    with self._lock:
                        result = impl(self, args)
            except ApiError as exc:
                return self._finish(
                    call, ApiReply.error(exc.status, exc.description, exc.parameters)
                )
            return self._finish(call, ApiReply.ok(result))
        finally:
            if not polling:
                with self._lock:
                    self._inflight -= 1
                    self._last_activity = time.monotonic()

    def _record(self, method: str, params: JSONDict) -> ApiCall:
        call = ApiCall(method, params, self.clock())
        self._calls.append(call)
        if method.lower() != "getupdates":
            self._last_activity = time.monotonic()
        return call

    def _finish(self, call: ApiCall, reply: ApiReply) -> ApiReply:
        with self._lock:
            call.status = None if reply.stall else reply.status
            if not reply.body.get("ok", True):
                call.description = reply.body.get("description")
            elif reply.stall:
                call.description = "stalled (injected timeout)"
        return reply

    async def _apply_fault(self, fault: Fault, impl: Impl | None, args: Params) -> ApiReply | None:
        if fault.delay > 0:
            await asyncio.sleep(fault.delay)
        if not fault.timeout and fault.status is None:
            return None
        if fault.applied and impl is not None:
            with self._lock, contextlib.suppress(ApiError):
                impl(self, args)
        if fault.timeout:
            return replace(ApiReply.error(504, "Gateway Timeout"), stall=True)
        assert fault.status is not None
        parameters = {"retry_after": fault.retry_after} if fault.retry_after else None
        return ApiReply.error(fault.status, fault.description, parameters)
