"""getUpdates: long polling, offsets that confirm, and the conflict of two pollers.

Why apart: it is the one asynchronous method (it waits for updates), so the entry point
calls it outside the lock.
"""

from __future__ import annotations

import asyncio
import json

from bot.sandbox.emulator.params import ApiError, Params, bad_request
from bot.sandbox.emulator.records import JSONDict
from bot.sandbox.emulator.rules import GET_UPDATES_CONFLICT, LONG_POLL_CAP, WEBHOOK_CONFLICT
from bot.sandbox.emulator.state import EmulatorState, Poller, wake


class Polling(EmulatorState):
    """Handing queued updates to the bot."""

    async def _get_updates(self, args: Params) -> list[JSONDict]:
        loop = asyncio.get_running_loop()
        with self._lock:
            if self._webhook.get("url"):
                raise ApiError(409, WEBHOOK_CONFLICT)
            offset = args.opt_int("offset")
            limit = min(max(args.opt_int("limit") or 100, 1), 100)
            timeout = min(max(args.opt_float("timeout") or 0.0, 0.0), LONG_POLL_CAP)
            allowed = args.json_value("allowed_updates")
            if allowed is not None:
                if not isinstance(allowed, list):
                    raise bad_request("can't parse allowed updates JSON object")
                self._allowed = frozenset(str(kind) for kind in allowed) or None
            for other in self._pollers:
                other.conflicted = True
                other.loop.call_soon_threadsafe(wake, other.future)
            self._confirm(offset)
            batch = self._take_batch(limit)
            if batch or timeout <= 0:
                return batch
            poller = Poller(loop, loop.create_future())
            self._pollers.append(poller)
        deadline = loop.time() + timeout
        try:
            while (remaining := deadline - loop.time()) > 0:
                await asyncio.wait({poller.future}, timeout=remaining)
                with self._lock:
                    if poller.conflicted:
                        raise ApiError(409, GET_UPDATES_CONFLICT)
                    batch = self._take_batch(limit)
                    if batch:
                        return batch
                    poller.future = loop.create_future()
        finally:
            with self._lock:
                if poller in self._pollers:
                    self._pollers.remove(poller)
        with self._lock:
            return self._take_batch(limit)

    def _confirm(self, offset: int | None) -> None:
        self._expire()
        if offset is None or offset == 0:
            return
        if offset > 0:
            self._queue = [u for u in self._queue if u.forced or u.update_id >= offset]
            return
        ordered = sorted(self._queue, key=lambda u: u.update_id)
        self._queue = ordered[offset:]  # a negative offset keeps the newest -offset

    def _take_batch(self, limit: int) -> list[JSONDict]:
        self._expire()
        ordered = sorted(self._queue, key=lambda u: u.update_id)[:limit]
        for update in ordered:
            update.delivered = True
        forced = {id(u) for u in ordered if u.forced}
        if forced:
            self._queue = [u for u in self._queue if id(u) not in forced]
        return [json.loads(json.dumps(u.payload)) for u in ordered]
