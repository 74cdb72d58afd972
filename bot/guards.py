"""The checks every update passes before any flow sees it (handler group -2).

Order: only private chats (groups and channels get no reply and no write; the bot leaves
a group it is added to) → edits ignored → per-person rate limit (in memory, before any
database write) → update_id deduplication → only text, buttons and shared locations
(media is never downloaded) → a length cap on text. A refused update stops here with
`ApplicationHandlerStop`.

Deduplication: an update a person flow will take is claimed inside that flow's own
transaction (`defer_claim`), so the claim commits with the step it caused and the update
costs one commit, not two. Anything else is claimed here, before it is acted on.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass

from telegram import Chat, ChatMember, Update
from telegram.ext import ApplicationHandlerStop, TypeHandler

from conversations import texts
from conversations.common import event
from conversations.context import Context
from conversations.flow import defer_claim, handled_by_flow
from storage.updates import claim_update

MEDIA_ATTRIBUTES = (
    "photo",
    "sticker",
    "voice",
    "video",
    "video_note",
    "audio",
    "document",
    "animation",
    "contact",
    "venue",
    "poll",
    "dice",
    "game",
    "story",
)


@dataclass(slots=True)
class _Window:
    started: float
    count: int
    warned: bool


class RateLimiter:
    """At most `limit` updates per person per window; one gentle note, then silence.

    Kept in memory only (a restart forgives everyone), bounded by pruning windows
    that have ended.
    """

    def __init__(
        self,
        limit: int,
        window_seconds: float,
        clock: Callable[[], float] = time.monotonic,
        max_tracked: int = 50_000,
    ) -> None:
        self.limit = limit
        self.window = window_seconds
        self._clock = clock
        self._max = max_tracked
        self._windows: dict[int, _Window] = {}

    def __repr__(self) -> str:
        return f"RateLimiter(limit={self.limit}, window={self.window}, tracked={len(self)})"

    def __len__(self) -> int:
        return len(self._windows)

    def check(self, key: int) -> str:
        """'ok', 'warn' (first update over the limit) or 'drop'."""
        now = self._clock()
        window = self._windows.get(key)
        if window is None or now - window.started >= self.window:
            if len(self._windows) >= self._max:
                self._prune(now)
            self._windows[key] = _Window(now, 1, False)
            return "ok"
        window.count += 1
        if window.count <= self.limit:
            return "ok"
        if not window.warned:
            window.warned = True
            return "warn"
        return "drop"

    def _prune(self, now: float) -> None:
        expired = [k for k, w in self._windows.items() if now - w.started >= self.window]
        for key in expired:
            del self._windows[key]
        if len(self._windows) >= self._max:
            # Still full of live windows: forget the oldest half rather than grow.
            oldest = sorted(self._windows.items(), key=lambda item: item[1].started)
            for key, _ in oldest[: len(oldest) // 2]:
                del self._windows[key]


RATE_LIMITER_KEY = "firststep.rate_limiter"


def _rate_limiter(context: Context) -> RateLimiter:
    limiter = context.bot_data.get(RATE_LIMITER_KEY)
    if limiter is None:
        settings = context.services.settings
        limiter = RateLimiter(settings.rate_limit_messages, settings.rate_limit_window_seconds)
        context.bot_data[RATE_LIMITER_KEY] = limiter
    assert isinstance(limiter, RateLimiter)
    return limiter


async def _leave_if_added_to_group(update: Update, context: Context) -> None:
    member = update.my_chat_member
    if member is None or member.chat.type == Chat.PRIVATE:
        return
    if member.new_chat_member.status in (ChatMember.MEMBER, ChatMember.ADMINISTRATOR):
        event("guard.left_group")
        await context.bot.leave_chat(member.chat.id)


async def guard(update: Update, context: Context) -> None:
    """Runs first for every update; raises ApplicationHandlerStop to refuse it."""
    chat = update.effective_chat
    if update.my_chat_member is not None:
        await _leave_if_added_to_group(update, context)
        raise ApplicationHandlerStop
    if chat is None or chat.type != Chat.PRIVATE or update.effective_user is None:
        raise ApplicationHandlerStop
    if update.edited_message is not None:
        raise ApplicationHandlerStop
    if update.message is None and update.callback_query is None:
        # Nothing else (reactions, polls, payments…) is part of this service.
        raise ApplicationHandlerStop

    verdict = _rate_limiter(context).check(update.effective_user.id)
    if verdict != "ok":
        if verdict == "warn":
            event("guard.rate_limited")
            await context.bot.send_message(chat.id, texts.SLOW_DOWN)
        if update.callback_query is not None:
            await update.callback_query.answer()
        raise ApplicationHandlerStop

    services = context.services
    if _flow_will_claim(update, context):
        defer_claim(context, update.update_id)
    elif not await claim_update(services.database, update.update_id, services.clock()):
        event("guard.duplicate_update")
        raise ApplicationHandlerStop

    message = update.message
    if message is None:
        return
    if any(getattr(message, name, None) for name in MEDIA_ATTRIBUTES):
        event("guard.media_refused")
        await context.bot.send_message(chat.id, texts.ONLY_TEXT)
        raise ApplicationHandlerStop
    if message.location is not None:
        return
    if message.text is None:
        event("guard.unsupported_message")
        await context.bot.send_message(chat.id, texts.ONLY_TEXT)
        raise ApplicationHandlerStop
    limit = services.settings.max_text_length
    if len(message.text) > limit:
        event("guard.too_long")
        await context.bot.send_message(
            chat.id, texts.TOO_LONG.format(length=len(message.text), limit=limit)
        )
        raise ApplicationHandlerStop


def _flow_will_claim(update: Update, context: Context) -> bool:
    """A person flow takes this update, and no check below refuses it first."""
    message = update.message
    if (
        message is not None
        and message.text is not None
        and len(message.text) > context.services.settings.max_text_length
    ):
        return False
    return handled_by_flow(update, context.application.handlers.get(0, []))


def build_guard_handler() -> TypeHandler[Update, Context, None]:
    return TypeHandler(Update, guard)
