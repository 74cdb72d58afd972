"""What the fake Telegram holds: chats, messages, queued updates, queries, files.

Why: the Bot API methods, the person-side driver, the inspection helpers and the fault
layer are separate classes over this one state (``EmulatorState``), composed into
``TelegramEmulator``. Helpers more than one of them need live here too.
"""

from __future__ import annotations

import asyncio
import functools
import random
import string
import threading
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Concatenate, ParamSpec, TypeVar

from bot.sandbox.emulator.params import ApiError, bad_request
from bot.sandbox.emulator.records import (
    ApiCall,
    CallbackAnswer,
    ChatMessage,
    Clock,
    EmulatedUser,
    Fault,
    JSONDict,
)
from bot.sandbox.emulator.rules import DEFAULT_EXCLUDED_UPDATES, FILE_ID_PREFIX, UPDATE_RETENTION

_P = ParamSpec("_P")
_R = TypeVar("_R")
_S = TypeVar("_S", bound="EmulatorState")


@dataclass(slots=True)
class StoredMessage:
    """A message as the server holds it; edits change it (``ChatMessage`` is a snapshot)."""

    chat_id: int
    message_id: int
    sender: JSONDict | None
    date: int
    kind: str
    content: JSONDict
    from_bot: bool = False
    sender_chat: JSONDict | None = None
    reply_markup: JSONDict | None = None
    parse_mode: str | None = None
    protect_content: bool = False
    deleted: bool = False
    edit_count: int = 0
    edit_date: int | None = None
    reply_to: StoredMessage | None = None
    extra: JSONDict = field(default_factory=dict)

    @property
    def text(self) -> str | None:
        value = self.content.get("text", self.content.get("caption"))
        return value if isinstance(value, str) else None

    @property
    def entities(self) -> list[JSONDict]:
        value = self.content.get("entities", self.content.get("caption_entities"))
        return list(value) if isinstance(value, list) else []

    @property
    def inline_markup(self) -> JSONDict | None:
        markup = self.reply_markup
        return markup if markup is not None and "inline_keyboard" in markup else None

    def to_api(self, chat: JSONDict, *, nested: bool = True) -> JSONDict:
        data: JSONDict = {"message_id": self.message_id}
        if self.sender is not None:
            data["from"] = self.sender
        if self.sender_chat is not None:
            data["sender_chat"] = self.sender_chat
        data["chat"] = chat
        data["date"] = self.date
        if self.edit_date is not None:
            data["edit_date"] = self.edit_date
        if nested and self.reply_to is not None:
            data["reply_to_message"] = self.reply_to.to_api(chat, nested=False)
        data.update(self.extra)
        data.update(self.content)
        if self.protect_content:
            data["has_protected_content"] = True
        if self.inline_markup is not None:
            data["reply_markup"] = self.inline_markup
        return data

    def snapshot(self, chat: JSONDict) -> ChatMessage:
        return ChatMessage(
            chat_id=self.chat_id,
            message_id=self.message_id,
            from_bot=self.from_bot,
            sender_id=self.sender["id"] if self.sender else None,
            date=self.date,
            kind=self.kind,
            text=self.text,
            entities=tuple(self.entities),
            reply_markup=self.reply_markup,
            parse_mode=self.parse_mode,
            protect_content=self.protect_content,
            deleted=self.deleted,
            edit_count=self.edit_count,
            reply_to_message_id=self.reply_to.message_id if self.reply_to else None,
            raw=self.to_api(chat),
        )


@dataclass(slots=True)
class StoredChat:
    """A chat: its members' view of the bot, its messages and the keyboard shown in it."""

    chat_id: int
    kind: str
    chat_instance: str
    title: str | None = None
    user: EmulatedUser | None = None
    username: str | None = None
    bot_status: str = "member"
    started: bool = False
    next_message_id: int = 1
    messages: dict[int, StoredMessage] = field(default_factory=dict)
    reply_keyboard: JSONDict | None = None
    actions: list[str] = field(default_factory=list)

    def to_api(self) -> JSONDict:
        data: JSONDict = {"id": self.chat_id, "type": self.kind}
        if self.user is not None:
            data["first_name"] = self.user.first_name
            if self.user.last_name:
                data["last_name"] = self.user.last_name
            if self.user.username:
                data["username"] = self.user.username
        else:
            data["title"] = self.title or str(self.chat_id)
            if self.username:
                data["username"] = self.username
        return data

    def take_message_id(self) -> int:
        message_id = self.next_message_id
        self.next_message_id += 1
        return message_id


@dataclass(slots=True)
class QueuedUpdate:
    """An update waiting for the bot; ``forced`` ones are delivered once, whatever the offset."""

    update_id: int
    kind: str
    payload: JSONDict
    created_at: float
    forced: bool = False
    delivered: bool = False


@dataclass(slots=True)
class OpenQuery:
    """A callback query, answerable once within ``CALLBACK_ANSWER_WINDOW``."""

    query_id: str
    chat_id: int | None
    message_id: int | None
    created_at: float
    answer: CallbackAnswer | None = None


@dataclass(slots=True)
class StoredFile:
    """A file Telegram holds (bytes only for the bot's own uploads)."""

    file_id: str
    file_unique_id: str
    size: int
    path: str
    content: bytes | None = None


@dataclass(slots=True)
class Poller:
    """A getUpdates call waiting for updates (woken loop-safely)."""

    loop: asyncio.AbstractEventLoop
    future: asyncio.Future[None]
    conflicted: bool = False


@dataclass(slots=True)
class RateLimit:
    """Rate windows set by ``enforce_rate_limit`` and the send times counted in them."""

    overall_per_second: float | None
    per_chat_per_second: float | None
    per_group_per_minute: float | None
    retry_after: int | None
    overall: deque[float] = field(default_factory=deque)
    chats: dict[int | str, deque[float]] = field(default_factory=dict)


def wake(future: asyncio.Future[None]) -> None:
    """Wake a waiting poller (called on its own loop)."""
    if not future.done():
        future.set_result(None)


class EmulatorState:
    """The server's state and the helpers every part of the emulator shares."""

    def __init__(
        self,
        token: str = "123456789:TEST-emulator-token",  # noqa: S107 (not a real token)
        *,
        bot_username: str = "first_step_test_bot",
        bot_first_name: str = "First Step",
        clock: Clock | None = None,
        first_update_id: int = 1,
        seed: int = 0,
        max_recorded_calls: int = 50_000,
    ) -> None:
        bot_id, sep, secret = token.partition(":")
        if not (sep and bot_id.isdigit() and secret):
            raise ValueError("token must look like '<bot id>:<secret>'")
        self.token = token
        self.bot_id = int(bot_id)
        self.bot_username = bot_username
        self.bot_first_name = bot_first_name
        self.clock: Clock = clock or time.time
        self._lock = threading.RLock()
        self._rng = random.Random(seed)
        self._users: dict[int, EmulatedUser] = {}
        self._chats: dict[int, StoredChat] = {}
        self._queue: list[QueuedUpdate] = []
        self._history: dict[int, JSONDict] = {}
        self._next_update_id = first_update_id
        self._allowed: frozenset[str] | None = None
        self._pollers: list[Poller] = []
        self._queries: dict[str, OpenQuery] = {}
        self._files: dict[str, StoredFile] = {}
        self._calls: deque[ApiCall] = deque(maxlen=max_recorded_calls)
        self._faults: list[Fault] = []
        self._rate: RateLimit | None = None
        self._webhook: JSONDict = {}
        self._commands: dict[tuple[str, str], list[JSONDict]] = {}
        self._descriptions: dict[tuple[str, str], str] = {}
        self._inflight = 0
        self._last_activity = time.monotonic()

    def bot_user(self) -> JSONDict:
        """The bot as a ``User`` object (as in ``from`` of its messages)."""
        return {
            "id": self.bot_id,
            "is_bot": True,
            "first_name": self.bot_first_name,
            "username": self.bot_username,
        }

    def _now(self) -> int:
        return int(self.clock())

    def _new_chat(self, chat_id: int, kind: str, **fields: Any) -> StoredChat:
        instance = str(self._rng.getrandbits(63))
        chat = StoredChat(chat_id=chat_id, kind=kind, chat_instance=instance, **fields)
        self._chats[chat_id] = chat
        return chat

    def _resolve_chat(self, ref: int | str) -> StoredChat:
        if isinstance(ref, int):
            chat = self._chats.get(ref)
        else:
            name = ref.removeprefix("@").lower()
            chat = next(
                (
                    c
                    for c in self._chats.values()
                    if c.kind != "private" and (c.username or "").lower() == name
                ),
                None,
            )
        if chat is None:
            raise bad_request("chat not found")
        return chat

    def _writable_chat(self, ref: int | str) -> StoredChat:
        chat = self._resolve_chat(ref)
        if chat.kind == "private":
            if chat.bot_status == "kicked":
                raise ApiError(403, "Forbidden: bot was blocked by the user")
            if not chat.started:
                raise ApiError(403, "Forbidden: bot can't initiate conversation with a user")
        elif chat.bot_status != "member":
            raise ApiError(403, f"Forbidden: bot is not a member of the {chat.kind} chat")
        return chat

    def _store_file(self, kind: str, size: int, content: bytes | None = None) -> StoredFile:
        alphabet = string.ascii_letters + string.digits + "-_"
        body = "".join(self._rng.choice(alphabet) for _ in range(50))
        unique = "AQAD" + "".join(self._rng.choice(alphabet) for _ in range(12))
        stored = StoredFile(
            file_id=FILE_ID_PREFIX.get(kind, "BQACAgQAAxkBAA") + body,
            file_unique_id=unique,
            size=size,
            path=f"{kind}s/file_{len(self._files)}",
            content=content,
        )
        self._files[stored.file_id] = stored
        return stored

    def _member_update(self, chat: StoredChat, actor: JSONDict, old: str, new: str) -> JSONDict:
        def member(status: str) -> JSONDict:
            data: JSONDict = {"user": self.bot_user(), "status": status}
            if status == "kicked":
                data["until_date"] = 0
            return data

        return {
            "chat": chat.to_api(),
            "from": actor,
            "date": self._now(),
            "old_chat_member": member(old),
            "new_chat_member": member(new),
        }

    def _expire(self) -> None:
        cutoff = self.clock() - UPDATE_RETENTION
        self._queue = [u for u in self._queue if u.created_at >= cutoff]

    def _enqueue(self, kind: str, payload: JSONDict, *, update_id: int | None = None) -> int:
        forced = update_id is not None
        if update_id is None:
            update_id = self._next_update_id
        self._next_update_id = max(self._next_update_id, update_id + 1)
        update = {"update_id": update_id, kind: payload}
        if self._allowed is None:
            allowed = kind not in DEFAULT_EXCLUDED_UPDATES
        else:
            allowed = kind in self._allowed
        if allowed:  # like Telegram, updates the bot did not ask for are never stored
            self._queue.append(QueuedUpdate(update_id, kind, update, self.clock(), forced=forced))
        if not forced:
            self._history[update_id] = update
            while len(self._history) > 20_000:
                del self._history[next(iter(self._history))]
        self._last_activity = time.monotonic()
        for poller in self._pollers:
            poller.loop.call_soon_threadsafe(wake, poller.future)
        return update_id


def locked(
    method: Callable[Concatenate[_S, _P], _R],
) -> Callable[Concatenate[_S, _P], _R]:
    """Run a public method under the emulator's lock (see the package docstring)."""

    @functools.wraps(method)
    def wrapper(self: _S, /, *args: _P.args, **kwargs: _P.kwargs) -> _R:
        with self._lock:
            return method(self, *args, **kwargs)

    return wrapper
