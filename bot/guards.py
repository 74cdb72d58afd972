"""The checks every update passes before any flow sees it (handler group -2).

Order: only private chats (groups and channels get no reply and no write; the bot leaves
a group it is added to) → per-person rate limit (in memory, before any database write)
→ update_id deduplication → edits (never change anything) → only text, buttons, shared
locations and the sender's own contact (media is never downloaded) → a length cap on
text. A refused update stops here with `ApplicationHandlerStop`.

Whatever is refused, a message that signals danger still gets the urgent-help reply
first: the crisis check in group -1 never sees what stops here, so the guard runs it.

Deduplication: an update that passes every check here and that a person flow would take
(its handler is a `conversations.flow.FlowHandler`) is claimed by whoever acts on it,
inside their own transaction (`defer_claim`): the flow step, or the mentor gate when a
mentor sent it. The claim commits with what the update caused and the update costs one
commit, not two. Anything else is claimed here, before it is acted on.
"""

from __future__ import annotations

from collections import OrderedDict, deque
from collections.abc import Callable
from dataclasses import dataclass
from typing import Literal

from telegram import Chat, ChatMember, Message, Update
from telegram.ext import ApplicationHandlerStop, TypeHandler

from conversations import texts
from conversations.common import answer, event
from conversations.context import Context
from conversations.flow import PERSON_GROUP, defer_claim, taken_by_flow
from conversations.i18n import _
from conversations.safety.urgent_help import is_crisis, send_crisis_reply
from storage.repositories.updates import claim_update_from

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

Verdict = Literal["ok", "warn", "drop"]


@dataclass(slots=True)
class _Window:
    started: float
    count: int
    warned: bool = False
    crisis_replied: bool = False


class RateLimiter:
    """At most `limit` updates per person per window; one gentle note, then silence.

    Kept in memory only (a restart forgives everyone). Windows are kept in the order they
    started, so each check first forgets the windows that have ended: the map holds only
    the people who wrote within the last window, never everyone the process has seen.
    `max_tracked` caps it even under a flood of new senders. The clock is the service
    clock, so tests can move time on.
    """

    def __init__(
        self,
        limit: int,
        window_seconds: float,
        clock: Callable[[], float],
        max_tracked: int = 50_000,
    ) -> None:
        self.limit = limit
        self.window = window_seconds
        self._clock = clock
        self._max = max_tracked
        # Oldest window first: a new window for a key moves it to the end.
        self._windows: OrderedDict[int, _Window] = OrderedDict()

    def __repr__(self) -> str:
        return f"RateLimiter(limit={self.limit}, window={self.window}, tracked={len(self)})"

    def __len__(self) -> int:
        return len(self._windows)

    def _ended(self, window: _Window, now: float) -> bool:
        # A clock that went backwards (wall time) also ends a window.
        return not 0 <= now - window.started < self.window

    def _live(self, key: int, now: float) -> _Window | None:
        window = self._windows.get(key)
        if window is None or self._ended(window, now):
            return None
        return window

    def _forget_ended(self, now: float) -> None:
        """Drop ended windows from the old end; each is dropped once, so O(1) amortised."""
        windows = self._windows
        while windows and self._ended(next(iter(windows.values())), now):
            windows.popitem(last=False)

    def check(self, key: int) -> Verdict:
        """'ok', 'warn' (first update over the limit) or 'drop'."""
        now = self._clock()
        self._forget_ended(now)
        window = self._live(key, now)
        if window is None:
            if len(self._windows) >= self._max:
                # All live: forget the oldest half rather than grow.
                for _ in range(len(self._windows) // 2):
                    self._windows.popitem(last=False)
            self._windows.pop(key, None)
            self._windows[key] = _Window(now, 1)
            return "ok"
        window.count += 1
        if window.count <= self.limit:
            return "ok"
        if not window.warned:
            window.warned = True
            return "warn"
        return "drop"

    def allow_crisis_reply(self, key: int) -> bool:
        """Someone over the limit still gets the urgent-help reply, once per window."""
        window = self._live(key, self._clock())
        if window is None:
            return True
        if window.crisis_replied:
            return False
        window.crisis_replied = True
        return True


class RecentUpdates:
    """The last `size` update ids seen by this process: duplicates caught without a write.

    The database remembers update ids only for people and mentors we know (see
    `claim_update_from`); this catches a redelivery from someone we don't know yet.
    """

    def __init__(self, size: int = 20_000) -> None:
        self._order: deque[int] = deque()
        self._ids: set[int] = set()
        self._size = size

    def __repr__(self) -> str:
        return f"RecentUpdates({len(self._ids)})"

    def __len__(self) -> int:
        return len(self._ids)

    def __contains__(self, update_id: object) -> bool:
        return update_id in self._ids

    def add(self, update_id: int) -> None:
        if update_id in self._ids:
            return
        self._ids.add(update_id)
        self._order.append(update_id)
        if len(self._order) > self._size:
            self._ids.discard(self._order.popleft())


RATE_LIMITER_KEY = "firststep.rate_limiter"
RECENT_UPDATES_KEY = "firststep.recent_updates"


def _rate_limiter(context: Context) -> RateLimiter:
    limiter = context.bot_data.get(RATE_LIMITER_KEY)
    if limiter is None:
        services = context.services
        limiter = RateLimiter(
            services.settings.rate_limit_messages,
            services.settings.rate_limit_window_seconds,
            clock=lambda: services.clock().timestamp(),
        )
        context.bot_data[RATE_LIMITER_KEY] = limiter
    assert isinstance(limiter, RateLimiter)
    return limiter


def _recent_updates(context: Context) -> RecentUpdates:
    recent = context.bot_data.get(RECENT_UPDATES_KEY)
    if recent is None:
        recent = context.bot_data[RECENT_UPDATES_KEY] = RecentUpdates()
    assert isinstance(recent, RecentUpdates)
    return recent


async def _leave_if_added_to_group(update: Update, context: Context) -> None:
    member = update.my_chat_member
    if member is None or member.chat.type == Chat.PRIVATE:
        return
    if member.new_chat_member.status in (ChatMember.MEMBER, ChatMember.ADMINISTRATOR):
        event("guard.left_group")
        await context.bot.leave_chat(member.chat.id)


def _words(message: Message | None) -> str | None:
    """What a person wrote in a message, as text or as a caption."""
    if message is None:
        return None
    return message.text or message.caption


async def _over_limit(update: Update, context: Context, verdict: Verdict, user_id: int) -> None:
    """Too fast: urgent help still comes first, then one note, then quiet taps."""
    chat_id = update.effective_chat.id if update.effective_chat else user_id
    words = _words(update.message) or _words(update.edited_message)
    if is_crisis(words) and _rate_limiter(context).allow_crisis_reply(user_id):
        await send_crisis_reply(context, chat_id, words)
    if verdict == "warn":
        event("guard.rate_limited")
        await context.bot.send_message(chat_id, _(texts.SLOW_DOWN))
    if update.callback_query is not None:
        await answer(update.callback_query, _(texts.SLOW_DOWN_TOAST))


async def _is_duplicate(update: Update, context: Context, user_id: int) -> bool:
    recent = _recent_updates(context)
    if update.update_id in recent:
        return True
    if _flow_will_claim(update, context, user_id):
        defer_claim(context, update.update_id)
        recent.add(update.update_id)
        return False
    services = context.services
    claimed = await claim_update_from(
        services.database, services.ring, user_id, update.update_id, services.clock()
    )
    recent.add(update.update_id)
    return not claimed


async def guard(update: Update, context: Context) -> None:
    """Runs first for every update; raises ApplicationHandlerStop to refuse it."""
    if update.my_chat_member is not None:
        await _leave_if_added_to_group(update, context)
        raise ApplicationHandlerStop
    chat, user = update.effective_chat, update.effective_user
    if chat is None or chat.type != Chat.PRIVATE or user is None:
        raise ApplicationHandlerStop
    message, edited = update.message, update.edited_message
    if message is None and edited is None and update.callback_query is None:
        # Nothing else (reactions, polls, payments…) is part of this service.
        raise ApplicationHandlerStop

    verdict = _rate_limiter(context).check(user.id)
    if verdict != "ok":
        await _over_limit(update, context, verdict, user.id)
        raise ApplicationHandlerStop

    if await _is_duplicate(update, context, user.id):
        event("guard.duplicate_update")
        raise ApplicationHandlerStop

    if edited is not None:
        # An edit never changes what we keep or where the person is.
        event("guard.edit_ignored")
        if not await send_crisis_reply(context, chat.id, _words(edited)):
            await context.bot.send_message(chat.id, _(texts.EDITS_IGNORED))
        raise ApplicationHandlerStop
    if message is None:
        return
    if message.contact is not None and message.contact.user_id == user.id:
        # The person's own number, shared on purpose with the contact button: only the
        # mentor request reads it (at the step that asked); everywhere else it is refused.
        return
    if any(getattr(message, name, None) for name in MEDIA_ATTRIBUTES):
        event("guard.media_refused")
        await send_crisis_reply(context, chat.id, message.caption)
        await context.bot.send_message(chat.id, _(texts.ONLY_TEXT))
        raise ApplicationHandlerStop
    if message.location is not None:
        return
    if message.text is None:
        event("guard.unsupported_message")
        await context.bot.send_message(chat.id, _(texts.ONLY_TEXT))
        raise ApplicationHandlerStop
    limit = context.services.settings.max_text_length
    if len(message.text) > limit:
        event("guard.too_long")
        await send_crisis_reply(context, chat.id, message.text)
        await context.bot.send_message(
            chat.id, _(texts.TOO_LONG).format(length=len(message.text), limit=limit)
        )
        raise ApplicationHandlerStop


def _flow_will_claim(update: Update, context: Context, user_id: int) -> bool:
    """The update passes every check below and a person flow takes it (and claims it)."""
    if update.edited_message is not None:
        return False
    message = update.message
    if message is not None:
        own_contact = message.contact is not None and message.contact.user_id == user_id
        if not own_contact and (
            any(getattr(message, name, None) for name in MEDIA_ATTRIBUTES)
            or (
                message.location is None
                and (
                    message.text is None
                    or len(message.text) > context.services.settings.max_text_length
                )
            )
        ):
            return False
    return taken_by_flow(update, context.application.handlers.get(PERSON_GROUP, []))


def build_guard_handler() -> TypeHandler[Update, Context, None]:
    return TypeHandler(Update, guard)
