"""A stateful, in-memory Telegram Bot API: the one fake Telegram the project tests against.

Why: flows must be tested end to end (PTB's real Updater, envelope parsing and error mapping)
with no network. The emulator keeps what each chat would show on a phone, answers with
Telegram's own error texts, refuses what a real person could not do (press a button that is
not there), and can inject faults. Two thin front-ends expose it: ``EmulatorRequest`` (in
process, ``bot.sandbox.request``) and ``EmulatorServer`` (loopback HTTP, ``bot.sandbox.http``).

Clock: Telegram-side times (message dates, the 24 h update expiry, the 15 s callback answer
window, the 48 h delete window, rate windows) come from the injectable ``clock``. Long-poll
waits, ``delay`` faults and ``wait_for`` use real time so tests stay bounded.

Threading: every state change takes one lock, and long-poll wake-ups are loop-safe, so the
driver may run on another thread than the front-end; normally all run on one event loop.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import json
import math
import random
import re
import string
import threading
import time
from collections import deque
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, replace
from typing import Any, Concatenate, Final, ParamSpec, TypeVar

from bot.sandbox.formatting import EntityParseError, render, strip_text, utf16_len

__all__ = [
    "MEDIA_KINDS",
    "ApiCall",
    "ApiReply",
    "CallbackAnswer",
    "ChatMessage",
    "EmulatedUser",
    "EmulatorUsageError",
    "Fault",
    "Injected",
    "ManualClock",
    "TelegramEmulator",
    "UploadedFile",
]

JSONDict = dict[str, Any]
Clock = Callable[[], float]
_P = ParamSpec("_P")
_R = TypeVar("_R")
_T = TypeVar("_T")

UPDATE_RETENTION: Final = 24 * 3600.0
CALLBACK_ANSWER_WINDOW: Final = 15.0
DELETE_WINDOW: Final = 48 * 3600.0
MAX_TEXT: Final = 4096
MAX_CAPTION: Final = 1024
MAX_CALLBACK_DATA: Final = 64
MAX_INLINE_BUTTONS: Final = 100
LONG_POLL_CAP: Final = 50.0
MEDIA_KINDS: Final = (
    "photo",
    "sticker",
    "voice",
    "video",
    "document",
    "animation",
    "video_note",
    "audio",
)

NOT_MODIFIED: Final = (
    "Bad Request: message is not modified: specified new message content and reply markup "
    "are exactly the same as a current content and reply markup of the message"
)
QUERY_TOO_OLD: Final = (
    "Bad Request: query is too old and response timeout expired or query ID is invalid"
)
GET_UPDATES_CONFLICT: Final = (
    "Conflict: terminated by other getUpdates request; make sure that only one bot instance "
    "is running"
)
WEBHOOK_CONFLICT: Final = (
    "Conflict: can't use getUpdates method while webhook is active; use deleteWebhook to "
    "delete the webhook first"
)
_DEFAULT_EXCLUDED_UPDATES: Final = frozenset(
    {"chat_member", "message_reaction", "message_reaction_count"}
)
_CHAT_ACTIONS: Final = frozenset(
    [
        "typing",
        "upload_photo",
        "record_video",
        "upload_video",
        "record_voice",
        "upload_voice",
        "upload_document",
        "choose_sticker",
        "find_location",
        "record_video_note",
        "upload_video_note",
    ]
)
_INLINE_ACTIONS: Final = (
    "url",
    "callback_data",
    "web_app",
    "login_url",
    "switch_inline_query",
    "switch_inline_query_current_chat",
    "switch_inline_query_chosen_chat",
    "copy_text",
    "callback_game",
    "pay",
)
# Parameters whose string values are never JSON-decoded (a text of "123" stays a string).
_STRING_PARAMS: Final = frozenset(
    [
        "text",
        "caption",
        "parse_mode",
        "callback_query_id",
        "inline_message_id",
        "url",
        "secret_token",
        "ip_address",
        "certificate",
        "description",
        "short_description",
        "name",
        "action",
        "language_code",
        "title",
        "first_name",
        "last_name",
        "phone_number",
        "vcard",
        "address",
        "emoji",
        "question",
        "file_id",
        "photo",
        "document",
        "audio",
        "video",
        "voice",
        "sticker",
        "animation",
        "video_note",
        "thumbnail",
        "business_connection_id",
        "message_effect_id",
    ]
)
_JSON_PARAMS: Final = {
    "reply_markup": "reply keyboard markup",
    "entities": "entities",
    "caption_entities": "entities",
    "reply_parameters": "reply parameters",
    "link_preview_options": "link preview options",
    "allowed_updates": "allowed updates",
    "commands": "commands",
    "scope": "bot command scope",
    "message_ids": "message identifiers",
}
# Methods Telegram paces (sending and editing); getUpdates and chat actions are not counted.
_RATED_PREFIXES: Final = ("send", "copymessage", "forwardmessage", "editmessage")
_FILE_ID_PREFIX: Final = {
    "photo": "AgACAgQAAxkBAA",
    "sticker": "CAACAgQAAxkBAA",
    "voice": "AwACAgQAAxkBAA",
    "video": "BAACAgQAAxkBAA",
    "document": "BQACAgQAAxkBAA",
    "animation": "CgACAgQAAxkBAA",
    "video_note": "DQACAgQAAxkBAA",
    "audio": "CQACAgQAAxkBAA",
}
_COMMAND_RE: Final = re.compile(r"(?<!\S)/[A-Za-z0-9_]{1,32}(?:@[A-Za-z0-9_]{3,32})?(?![\w@/])")
_DEEP_LINK_RE: Final = re.compile(r"[A-Za-z0-9_-]{1,64}")
_BOT_COMMAND_RE: Final = re.compile(r"[a-z0-9_]{1,32}")


class EmulatorUsageError(AssertionError):
    """The test asked a person to do something impossible on a real phone."""


class _ApiError(Exception):
    """A Bot API error reply; raised inside method implementations."""

    def __init__(self, status: int, description: str, parameters: JSONDict | None = None):
        super().__init__(description)
        self.status = status
        self.description = description
        self.parameters = parameters


def _bad(description: str) -> _ApiError:
    return _ApiError(400, f"Bad Request: {description}")


def _locked(
    method: Callable[Concatenate[TelegramEmulator, _P], _R],
) -> Callable[Concatenate[TelegramEmulator, _P], _R]:
    """Run a public method under the emulator's lock (see the module docstring)."""

    @functools.wraps(method)
    def wrapper(self: TelegramEmulator, /, *args: _P.args, **kwargs: _P.kwargs) -> _R:
        with self._lock:
            return method(self, *args, **kwargs)

    return wrapper


class ManualClock:
    """A clock tests move by hand, to cross the 15 s / 24 h / 48 h lines without waiting."""

    def __init__(self, start: float = 1_700_000_000.0) -> None:
        self._now = start

    def __call__(self) -> float:
        return self._now

    def advance(self, seconds: float) -> None:
        """Move time forward (never backwards: Telegram's clock does not)."""
        if seconds < 0:
            raise ValueError("a clock only moves forward")
        self._now += seconds


@dataclass(frozen=True, slots=True)
class ApiReply:
    """What a front-end sends back: an HTTP status and a Bot API envelope, or a stall."""

    status: int
    body: JSONDict
    stall: bool = False

    def encode(self) -> bytes:
        return json.dumps(self.body, ensure_ascii=False, separators=(",", ":")).encode()

    @classmethod
    def ok(cls, result: Any) -> ApiReply:
        return cls(200, {"ok": True, "result": result})

    @classmethod
    def error(cls, status: int, description: str, parameters: JSONDict | None = None) -> ApiReply:
        body: JSONDict = {"ok": False, "error_code": status, "description": description}
        if parameters:
            body["parameters"] = parameters
        return cls(status, body)


@dataclass(frozen=True, slots=True)
class UploadedFile:
    """A file part of a multipart request (only uploads use multipart)."""

    filename: str
    content: bytes
    mime_type: str = "application/octet-stream"


@dataclass(frozen=True, slots=True)
class EmulatedUser:
    """A person at a phone. Their private chat with the bot has ``chat id == user_id``."""

    user_id: int
    first_name: str
    username: str | None = None
    last_name: str | None = None
    language_code: str | None = None

    def to_api(self) -> JSONDict:
        data: JSONDict = {"id": self.user_id, "is_bot": False, "first_name": self.first_name}
        if self.last_name:
            data["last_name"] = self.last_name
        if self.username:
            data["username"] = self.username
        if self.language_code:
            data["language_code"] = self.language_code
        return data


@dataclass(frozen=True, slots=True)
class Injected:
    """What a driver action produced: the update id and, where useful, message / query ids."""

    update_id: int
    chat_id: int | None = None
    message_id: int | None = None
    callback_query_id: str | None = None


@dataclass(frozen=True, slots=True)
class ChatMessage:
    """One message as the chat shows it (a snapshot; later edits do not change it)."""

    chat_id: int
    message_id: int
    from_bot: bool
    sender_id: int | None
    date: int
    kind: str
    text: str | None
    entities: tuple[JSONDict, ...]
    reply_markup: JSONDict | None
    parse_mode: str | None
    protect_content: bool
    deleted: bool
    edit_count: int  # edits the chat shows as "edited" (not buttons-only ones)
    reply_to_message_id: int | None
    raw: JSONDict

    @property
    def buttons(self) -> list[list[JSONDict]]:
        """Keyboard rows (inline or reply keyboard), each button as a dict with ``text``."""
        return _keyboard_rows(self.reply_markup)

    @property
    def button_texts(self) -> list[str]:
        return [button["text"] for row in self.buttons for button in row]

    def to_dict(self) -> JSONDict:
        return {
            "chat_id": self.chat_id,
            "message_id": self.message_id,
            "from_bot": self.from_bot,
            "sender_id": self.sender_id,
            "date": self.date,
            "kind": self.kind,
            "text": self.text,
            "entities": list(self.entities),
            "reply_markup": self.reply_markup,
            "parse_mode": self.parse_mode,
            "protect_content": self.protect_content,
            "deleted": self.deleted,
            "edit_count": self.edit_count,
            "reply_to_message_id": self.reply_to_message_id,
            "raw": self.raw,
        }


@dataclass(slots=True)
class ApiCall:
    """One Bot API request as the emulator saw it; ``status`` is None while in flight."""

    method: str
    params: JSONDict
    at: float
    status: int | None = None
    description: str | None = None

    def to_dict(self) -> JSONDict:
        return {
            "method": self.method,
            "params": self.params,
            "at": self.at,
            "status": self.status,
            "description": self.description,
        }


@dataclass(frozen=True, slots=True)
class CallbackAnswer:
    """How the bot answered one callback query."""

    query_id: str
    text: str | None
    show_alert: bool
    url: str | None
    cache_time: int
    at: float


@dataclass(slots=True)
class Fault:
    """An injected failure; consumed in order, ``remaining == -1`` means forever."""

    method: str
    status: int | None
    description: str
    retry_after: int | None
    remaining: int
    chat_id: int | str | None
    delay: float
    timeout: bool
    applied: bool
    hits: int = 0

    def matches(self, method_key: str, chat_id: int | str | None) -> bool:
        if self.method not in ("*", method_key):
            return False
        return self.chat_id is None or self.chat_id == chat_id


@dataclass(slots=True)
class _Message:
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
    reply_to: _Message | None = None
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
class _Chat:
    chat_id: int
    kind: str
    chat_instance: str
    title: str | None = None
    user: EmulatedUser | None = None
    username: str | None = None
    bot_status: str = "member"
    started: bool = False
    next_message_id: int = 1
    messages: dict[int, _Message] = field(default_factory=dict)
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
class _Update:
    update_id: int
    kind: str
    payload: JSONDict
    created_at: float
    forced: bool = False
    delivered: bool = False


@dataclass(slots=True)
class _CallbackQuery:
    query_id: str
    chat_id: int | None
    message_id: int | None
    created_at: float
    answer: CallbackAnswer | None = None


@dataclass(slots=True)
class _StoredFile:
    file_id: str
    file_unique_id: str
    size: int
    path: str
    content: bytes | None = None


@dataclass(slots=True)
class _Poller:
    loop: asyncio.AbstractEventLoop
    future: asyncio.Future[None]
    conflicted: bool = False


@dataclass(slots=True)
class _RateLimit:
    overall_per_second: float | None
    per_chat_per_second: float | None
    per_group_per_minute: float | None
    retry_after: int | None
    overall: deque[float] = field(default_factory=deque)
    chats: dict[int | str, deque[float]] = field(default_factory=dict)


def _keyboard_rows(markup: JSONDict | None) -> list[list[JSONDict]]:
    if not markup:
        return []
    rows = markup.get("inline_keyboard", markup.get("keyboard"))
    if not isinstance(rows, list):
        return []
    return [
        [b if isinstance(b, dict) else {"text": str(b)} for b in row]
        for row in rows
        if isinstance(row, list)
    ]


def _text_content(text: str) -> JSONDict:
    """A person's text as their client sends it: ``/commands`` carry bot_command entities."""
    content: JSONDict = {"text": text}
    entities = [
        {
            "type": "bot_command",
            "offset": utf16_len(text[: m.start()]),
            "length": utf16_len(m.group(0)),
        }
        for m in _COMMAND_RE.finditer(text)
    ]
    if entities:
        content["entities"] = entities
    return content


def _wake(future: asyncio.Future[None]) -> None:
    if not future.done():
        future.set_result(None)


class _Params:
    """Decoded request parameters with typed, Telegram-worded accessors."""

    def __init__(self, values: JSONDict, files: Mapping[str, UploadedFile]) -> None:
        self.values = values
        self.files = files

    def opt_str(self, name: str) -> str | None:
        value = self.values.get(name)
        if value is None:
            return None
        return value if isinstance(value, str) else json.dumps(value)

    def opt_int(self, name: str) -> int | None:
        value = self.values.get(name)
        if value is None:
            return None
        if isinstance(value, bool):
            raise _bad(f"{name} must be a number")
        if isinstance(value, int):
            return value
        if isinstance(value, float) and value.is_integer():
            return int(value)
        if isinstance(value, str) and re.fullmatch(r"-?\d+", value.strip()):
            return int(value)
        raise _bad(f"{name} must be a number")

    def req_int(self, name: str, missing: str | None = None) -> int:
        value = self.opt_int(name)
        if value is None:
            raise _bad(missing or f"{name} is empty")
        return value

    def opt_float(self, name: str) -> float | None:
        value = self.values.get(name)
        if value is None:
            return None
        if isinstance(value, bool):
            raise _bad(f"{name} must be a number")
        try:
            return float(value)
        except (TypeError, ValueError):
            raise _bad(f"{name} must be a number") from None

    def req_float(self, name: str) -> float:
        value = self.opt_float(name)
        if value is None:
            raise _bad(f"{name} is empty")
        return value

    def flag(self, name: str) -> bool:
        value = self.values.get(name)
        if isinstance(value, str):
            return value.strip().lower() in ("true", "1")
        return bool(value)

    def chat_ref(self, name: str = "chat_id") -> int | str:
        value = self.values.get(name)
        if value is None or value == "":
            raise _bad(f"{name} is empty")
        if isinstance(value, bool):
            raise _bad("chat not found")
        if isinstance(value, int):
            return value
        if isinstance(value, str) and re.fullmatch(r"-?\d+", value.strip()):
            return int(value)
        return str(value)

    def json_value(self, name: str) -> Any:
        value = self.values.get(name)
        if isinstance(value, str) and name in _JSON_PARAMS:
            try:
                return json.loads(value)
            except ValueError:
                raise _bad(f"can't parse {_JSON_PARAMS[name]} JSON object") from None
        return value


def decode_params(raw: Mapping[str, Any]) -> JSONDict:
    """Turn form / JSON / PTB ``json_parameters`` values into typed values, as Telegram does."""
    out: JSONDict = {}
    for name, value in raw.items():
        if not isinstance(value, str) or name in _STRING_PARAMS:
            out[name] = value
        elif name in _JSON_PARAMS:
            try:
                out[name] = json.loads(value)
            except ValueError:
                raise _bad(f"can't parse {_JSON_PARAMS[name]} JSON object") from None
        else:
            try:
                out[name] = json.loads(value)
            except ValueError:
                out[name] = value
    return out


_Impl = Callable[["TelegramEmulator", _Params], Any]
_METHODS: dict[str, _Impl] = {}


def _api(name: str) -> Callable[[_Impl], _Impl]:
    """Register a Bot API method; Telegram matches method names case-insensitively."""

    def register(impl: _Impl) -> _Impl:
        _METHODS[name.lower()] = impl
        return impl

    return register


class TelegramEmulator:
    """The fake Telegram: bot-side API (``handle``), person-side driver, inspection, faults."""

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
        self._chats: dict[int, _Chat] = {}
        self._queue: list[_Update] = []
        self._history: dict[int, JSONDict] = {}
        self._next_update_id = first_update_id
        self._allowed: frozenset[str] | None = None
        self._pollers: list[_Poller] = []
        self._queries: dict[str, _CallbackQuery] = {}
        self._files: dict[str, _StoredFile] = {}
        self._calls: deque[ApiCall] = deque(maxlen=max_recorded_calls)
        self._faults: list[Fault] = []
        self._rate: _RateLimit | None = None
        self._webhook: JSONDict = {}
        self._commands: dict[tuple[str, str], list[JSONDict]] = {}
        self._descriptions: dict[tuple[str, str], str] = {}
        self._inflight = 0
        self._last_activity = time.monotonic()

    # ------------------------------------------------------------------ bot-side entry

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
        impl = _METHODS.get(key)
        with self._lock:
            try:
                decoded = decode_params(params)
            except _ApiError as exc:
                decoded = dict(params)
                call = self._record(method, decoded)
                return self._finish(call, ApiReply.error(exc.status, exc.description))
            call = self._record(method, decoded)
            if impl is None and key != "getupdates":  # getUpdates is async: see below
                return self._finish(call, ApiReply.error(404, "Not Found: method not found"))
            args = _Params(decoded, files or {})
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
            except _ApiError as exc:
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

    def _take_fault(self, key: str, args: _Params) -> Fault | None:
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

    def _fault_target(self, key: str, args: _Params) -> int | str | None:
        if key == "answercallbackquery":
            query = self._queries.get(args.opt_str("callback_query_id") or "")
            return query.chat_id if query else None
        value = args.values.get("chat_id")
        if isinstance(value, str) and re.fullmatch(r"-?\d+", value):
            return int(value)
        return value if isinstance(value, int | str) else None

    async def _apply_fault(
        self, fault: Fault, impl: _Impl | None, args: _Params
    ) -> ApiReply | None:
        if fault.delay > 0:
            await asyncio.sleep(fault.delay)
        if not fault.timeout and fault.status is None:
            return None
        if fault.applied and impl is not None:
            with self._lock, contextlib.suppress(_ApiError):
                impl(self, args)
        if fault.timeout:
            return replace(ApiReply.error(504, "Gateway Timeout"), stall=True)
        assert fault.status is not None
        parameters = {"retry_after": fault.retry_after} if fault.retry_after else None
        return ApiReply.error(fault.status, fault.description, parameters)

    def _rate_check(self, key: str, args: _Params) -> ApiReply | None:
        rate = self._rate
        if rate is None or not key.startswith(_RATED_PREFIXES) or key == "sendchataction":
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

    # ------------------------------------------------------------------ getUpdates

    async def _get_updates(self, args: _Params) -> list[JSONDict]:
        loop = asyncio.get_running_loop()
        with self._lock:
            if self._webhook.get("url"):
                raise _ApiError(409, WEBHOOK_CONFLICT)
            offset = args.opt_int("offset")
            limit = min(max(args.opt_int("limit") or 100, 1), 100)
            timeout = min(max(args.opt_float("timeout") or 0.0, 0.0), LONG_POLL_CAP)
            allowed = args.json_value("allowed_updates")
            if allowed is not None:
                if not isinstance(allowed, list):
                    raise _bad("can't parse allowed updates JSON object")
                self._allowed = frozenset(str(kind) for kind in allowed) or None
            for other in self._pollers:
                other.conflicted = True
                other.loop.call_soon_threadsafe(_wake, other.future)
            self._confirm(offset)
            batch = self._take_batch(limit)
            if batch or timeout <= 0:
                return batch
            poller = _Poller(loop, loop.create_future())
            self._pollers.append(poller)
        deadline = loop.time() + timeout
        try:
            while (remaining := deadline - loop.time()) > 0:
                await asyncio.wait({poller.future}, timeout=remaining)
                with self._lock:
                    if poller.conflicted:
                        raise _ApiError(409, GET_UPDATES_CONFLICT)
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

    def _expire(self) -> None:
        cutoff = self.clock() - UPDATE_RETENTION
        self._queue = [u for u in self._queue if u.created_at >= cutoff]

    def _take_batch(self, limit: int) -> list[JSONDict]:
        self._expire()
        ordered = sorted(self._queue, key=lambda u: u.update_id)[:limit]
        for update in ordered:
            update.delivered = True
        forced = {id(u) for u in ordered if u.forced}
        if forced:
            self._queue = [u for u in self._queue if id(u) not in forced]
        return [json.loads(json.dumps(u.payload)) for u in ordered]

    def _enqueue(self, kind: str, payload: JSONDict, *, update_id: int | None = None) -> int:
        forced = update_id is not None
        if update_id is None:
            update_id = self._next_update_id
        self._next_update_id = max(self._next_update_id, update_id + 1)
        update = {"update_id": update_id, kind: payload}
        if self._allowed is None:
            allowed = kind not in _DEFAULT_EXCLUDED_UPDATES
        else:
            allowed = kind in self._allowed
        if allowed:  # like Telegram, updates the bot did not ask for are never stored
            self._queue.append(_Update(update_id, kind, update, self.clock(), forced=forced))
        if not forced:
            self._history[update_id] = update
            while len(self._history) > 20_000:
                del self._history[next(iter(self._history))]
        self._last_activity = time.monotonic()
        for poller in self._pollers:
            poller.loop.call_soon_threadsafe(_wake, poller.future)
        return update_id

    # ------------------------------------------------------------------ shared helpers

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

    def _new_chat(self, chat_id: int, kind: str, **fields: Any) -> _Chat:
        instance = str(self._rng.getrandbits(63))
        chat = _Chat(chat_id=chat_id, kind=kind, chat_instance=instance, **fields)
        self._chats[chat_id] = chat
        return chat

    def _resolve_chat(self, ref: int | str) -> _Chat:
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
            raise _bad("chat not found")
        return chat

    def _writable_chat(self, ref: int | str) -> _Chat:
        chat = self._resolve_chat(ref)
        if chat.kind == "private":
            if chat.bot_status == "kicked":
                raise _ApiError(403, "Forbidden: bot was blocked by the user")
            if not chat.started:
                raise _ApiError(403, "Forbidden: bot can't initiate conversation with a user")
        elif chat.bot_status != "member":
            raise _ApiError(403, f"Forbidden: bot is not a member of the {chat.kind} chat")
        return chat

    def _render(self, args: _Params, *, caption: bool = False, required: bool = True) -> JSONDict:
        """Parse text/caption per ``parse_mode``; return the Message content fields."""
        field_name = "caption" if caption else "text"
        entities_name = "caption_entities" if caption else "entities"
        raw = args.opt_str(field_name) or ""
        mode = args.opt_str("parse_mode")
        if mode:
            try:
                text, entities = render(raw, mode)
            except EntityParseError as exc:
                raise _bad(f"can't parse entities: {exc}") from None
            except ValueError:
                raise _bad("unsupported parse_mode") from None
        else:
            text, entities = raw, self._explicit_entities(args, entities_name)
        text, entities = strip_text(text, entities)
        if not text:
            if required:
                raise _bad("message text is empty")
            return {}
        if caption and len(text) > MAX_CAPTION:
            raise _bad("message caption is too long")
        if not caption and len(text) > MAX_TEXT:
            raise _bad("message is too long")
        content: JSONDict = {field_name: text}
        if entities:
            content[entities_name] = entities
        return content

    def _explicit_entities(self, args: _Params, name: str) -> list[JSONDict]:
        value = args.json_value(name)
        if value is None:
            return []
        if not isinstance(value, list):
            raise _bad("can't parse entities JSON object")
        entities: list[JSONDict] = []
        for item in value:
            if not (
                isinstance(item, dict)
                and isinstance(item.get("type"), str)
                and isinstance(item.get("offset"), int)
                and isinstance(item.get("length"), int)
            ):
                raise _bad("can't parse entities JSON object")
            entities.append(item)
        return entities

    def _markup(self, args: _Params, *, inline_only: bool = False) -> JSONDict | None:
        markup = args.json_value("reply_markup")
        if markup is None:
            return None
        if not isinstance(markup, dict):
            raise _bad("can't parse reply keyboard markup JSON object")
        if "inline_keyboard" in markup:
            return self._check_inline(markup)
        if inline_only:
            raise _bad("inline keyboard expected")
        if "keyboard" in markup:
            rows = markup["keyboard"]
            if not isinstance(rows, list) or not all(isinstance(r, list) for r in rows):
                raise _bad("can't parse reply keyboard markup JSON object")
            for row in rows:
                for button in row:
                    if not (
                        isinstance(button, str) or (isinstance(button, dict) and "text" in button)
                    ):
                        raise _bad("can't parse reply keyboard markup JSON object")
            return markup
        if markup.get("remove_keyboard") is True or markup.get("force_reply") is True:
            return markup
        raise _bad("object expected as reply markup")

    def _check_inline(self, markup: JSONDict) -> JSONDict | None:
        rows = markup.get("inline_keyboard")
        if not isinstance(rows, list) or not all(isinstance(r, list) for r in rows):
            raise _bad("can't parse reply keyboard markup JSON object")
        count = 0
        for row in rows:
            for button in row:
                if not isinstance(button, dict) or not isinstance(button.get("text"), str):
                    raise _bad("can't parse inline keyboard button: Text must be a String")
                actions = [name for name in _INLINE_ACTIONS if name in button]
                if not actions:
                    raise _bad("text buttons are unallowed in the inline keyboard")
                data = button.get("callback_data")
                if "callback_data" in button and (
                    not isinstance(data, str)
                    or not 1 <= len(data.encode("utf-8")) <= MAX_CALLBACK_DATA
                ):
                    raise _bad("BUTTON_DATA_INVALID")
                url = button.get("url")
                if "url" in button and not (
                    isinstance(url, str) and re.match(r"(https?|tg)://\S+$", url)
                ):
                    raise _bad("BUTTON_URL_INVALID")
                count += 1
        if count > MAX_INLINE_BUTTONS:
            raise _bad("reply markup is too long")
        return markup if count else None

    def _reply_target(self, chat: _Chat, args: _Params) -> _Message | None:
        params = args.json_value("reply_parameters")
        message_id = args.opt_int("reply_to_message_id")
        allow_missing = args.flag("allow_sending_without_reply")
        if isinstance(params, dict):
            message_id = params.get("message_id")
            allow_missing = bool(params.get("allow_sending_without_reply", allow_missing))
        elif params is not None:
            raise _bad("can't parse reply parameters JSON object")
        if message_id is None:
            return None
        target = chat.messages.get(message_id) if isinstance(message_id, int) else None
        if target is None or target.deleted:
            if allow_missing:
                return None
            raise _bad("message to be replied not found")
        return target

    def _bot_message(self, chat: _Chat, kind: str, content: JSONDict, args: _Params) -> _Message:
        markup = self._markup(args)
        reply_to = self._reply_target(chat, args)  # validated before an id is taken
        message = _Message(
            chat_id=chat.chat_id,
            message_id=chat.take_message_id(),
            sender=self.bot_user() if chat.kind != "channel" else None,
            sender_chat=chat.to_api() if chat.kind == "channel" else None,
            date=self._now(),
            kind=kind,
            content=content,
            from_bot=True,
            reply_markup=markup,
            parse_mode=args.opt_str("parse_mode"),
            protect_content=args.flag("protect_content"),
            reply_to=reply_to,
        )
        chat.messages[message.message_id] = message
        if markup is not None and "keyboard" in markup:
            chat.reply_keyboard = markup
        elif markup is not None and markup.get("remove_keyboard"):
            chat.reply_keyboard = None
        return message

    def _editable(self, args: _Params) -> tuple[_Chat, _Message]:
        if args.opt_str("inline_message_id"):
            raise _bad("inline messages are not supported by the emulator")
        chat = self._writable_chat(args.chat_ref())
        message_id = args.req_int("message_id", "message identifier is not specified")
        message = chat.messages.get(message_id)
        if message is None or message.deleted:
            raise _bad("message to edit not found")
        if not message.from_bot:
            raise _bad("message can't be edited")
        return chat, message

    def _store_file(self, kind: str, size: int, content: bytes | None = None) -> _StoredFile:
        alphabet = string.ascii_letters + string.digits + "-_"
        body = "".join(self._rng.choice(alphabet) for _ in range(50))
        unique = "AQAD" + "".join(self._rng.choice(alphabet) for _ in range(12))
        stored = _StoredFile(
            file_id=_FILE_ID_PREFIX.get(kind, "BQACAgQAAxkBAA") + body,
            file_unique_id=unique,
            size=size,
            path=f"{kind}s/file_{len(self._files)}",
            content=content,
        )
        self._files[stored.file_id] = stored
        return stored

    # ------------------------------------------------------------------ Bot API methods

    @_api("getMe")
    def _get_me(self, args: _Params) -> JSONDict:
        return {
            **self.bot_user(),
            "can_join_groups": True,
            # Privacy mode is not modelled: every group message reaches the bot.
            "can_read_all_group_messages": True,
            "supports_inline_queries": False,
            "can_connect_to_business": False,
            "has_main_web_app": False,
        }

    @_api("deleteWebhook")
    def _delete_webhook(self, args: _Params) -> bool:
        self._webhook = {}
        if args.flag("drop_pending_updates"):
            self._queue.clear()
        return True

    @_api("setWebhook")
    def _set_webhook(self, args: _Params) -> bool:
        url = args.opt_str("url") or ""
        if not url:
            self._webhook = {}
            return True
        if not url.startswith("https://"):
            raise _bad("bad webhook: An HTTPS URL must be provided for webhook")
        secret = args.opt_str("secret_token")
        if secret is not None and not re.fullmatch(r"[A-Za-z0-9_-]{1,256}", secret):
            raise _bad("secret token contains unallowed characters")
        allowed = args.json_value("allowed_updates")
        if isinstance(allowed, list):
            self._allowed = frozenset(str(kind) for kind in allowed) or None
        if args.flag("drop_pending_updates"):
            self._queue.clear()
        self._webhook = {
            "url": url,
            "secret_token": secret,
            "max_connections": args.opt_int("max_connections") or 40,
            "ip_address": args.opt_str("ip_address"),
        }
        return True

    @_api("getWebhookInfo")
    def _get_webhook_info(self, args: _Params) -> JSONDict:
        self._expire()
        info: JSONDict = {
            "url": self._webhook.get("url", ""),
            "has_custom_certificate": False,
            "pending_update_count": len(self._queue),
        }
        if info["url"]:
            info["max_connections"] = self._webhook["max_connections"]
            if self._allowed is not None:
                info["allowed_updates"] = sorted(self._allowed)
        return info

    def _command_key(self, args: _Params) -> tuple[str, str]:
        scope = args.json_value("scope")
        scope_key = json.dumps(scope or {"type": "default"}, sort_keys=True)
        return scope_key, args.opt_str("language_code") or ""

    @_api("setMyCommands")
    def _set_my_commands(self, args: _Params) -> bool:
        commands = args.json_value("commands")
        if not isinstance(commands, list) or len(commands) > 100:
            raise _bad("can't parse commands JSON object")
        for item in commands:
            if not isinstance(item, dict):
                raise _bad("can't parse commands JSON object")
            if not _BOT_COMMAND_RE.fullmatch(str(item.get("command", ""))):
                raise _bad("BOT_COMMAND_INVALID")
            if not 1 <= len(str(item.get("description", ""))) <= 256:
                raise _bad("BOT_COMMAND_DESCRIPTION_INVALID")
        self._commands[self._command_key(args)] = [
            {"command": c["command"], "description": c["description"]} for c in commands
        ]
        return True

    @_api("getMyCommands")
    def _get_my_commands(self, args: _Params) -> list[JSONDict]:
        return list(self._commands.get(self._command_key(args), []))

    @_api("deleteMyCommands")
    def _delete_my_commands(self, args: _Params) -> bool:
        self._commands.pop(self._command_key(args), None)
        return True

    def _describe(self, kind: str, args: _Params, limit: int) -> bool:
        text = args.opt_str(kind) or ""
        if len(text) > limit:
            raise _bad(f"{kind.upper()}_INVALID")
        self._descriptions[(kind, args.opt_str("language_code") or "")] = text
        return True

    @_api("setMyDescription")
    def _set_my_description(self, args: _Params) -> bool:
        return self._describe("description", args, 512)

    @_api("setMyShortDescription")
    def _set_my_short_description(self, args: _Params) -> bool:
        return self._describe("short_description", args, 120)

    @_api("getMyDescription")
    def _get_my_description(self, args: _Params) -> JSONDict:
        key = ("description", args.opt_str("language_code") or "")
        return {"description": self._descriptions.get(key, "")}

    @_api("getMyShortDescription")
    def _get_my_short_description(self, args: _Params) -> JSONDict:
        key = ("short_description", args.opt_str("language_code") or "")
        return {"short_description": self._descriptions.get(key, "")}

    @_api("sendMessage")
    def _send_message(self, args: _Params) -> JSONDict:
        chat = self._writable_chat(args.chat_ref())
        content = self._render(args)
        message = self._bot_message(chat, "text", content, args)
        return message.to_api(chat.to_api())

    @_api("sendLocation")
    def _send_location(self, args: _Params) -> JSONDict:
        chat = self._writable_chat(args.chat_ref())
        latitude, longitude = args.req_float("latitude"), args.req_float("longitude")
        if not (-90 <= latitude <= 90 and -180 <= longitude <= 180):
            raise _bad("wrong latitude or longitude specified")
        location = {"latitude": latitude, "longitude": longitude}
        message = self._bot_message(chat, "location", {"location": location}, args)
        return message.to_api(chat.to_api())

    @_api("sendDocument")
    def _send_document(self, args: _Params) -> JSONDict:
        chat = self._writable_chat(args.chat_ref())
        upload = args.files.get("document")
        reference = args.opt_str("document")
        if upload is None and reference and reference.startswith("attach://"):
            upload = args.files.get(reference.removeprefix("attach://"))
        if upload is not None:
            stored = self._store_file("document", len(upload.content), upload.content)
            document = {
                "file_name": upload.filename,
                "mime_type": upload.mime_type,
                "file_id": stored.file_id,
                "file_unique_id": stored.file_unique_id,
                "file_size": stored.size,
            }
        elif reference and reference in self._files:
            known = self._files[reference]
            document = {
                "file_id": known.file_id,
                "file_unique_id": known.file_unique_id,
                "file_size": known.size,
            }
        elif reference and reference.startswith(("http://", "https://")):
            stored = self._store_file("document", 1024)
            document = {
                "file_name": reference.rsplit("/", 1)[-1] or "file",
                "file_id": stored.file_id,
                "file_unique_id": stored.file_unique_id,
                "file_size": stored.size,
            }
        else:
            raise _bad("wrong remote file identifier specified: Wrong string length")
        content: JSONDict = {"document": document}
        content.update(self._render(args, caption=True, required=False))
        message = self._bot_message(chat, "document", content, args)
        return message.to_api(chat.to_api())

    @_api("getFile")
    def _get_file(self, args: _Params) -> JSONDict:
        stored = self._files.get(args.opt_str("file_id") or "")
        if stored is None:
            raise _bad("invalid file_id")
        return {
            "file_id": stored.file_id,
            "file_unique_id": stored.file_unique_id,
            "file_size": stored.size,
            "file_path": stored.path,
        }

    @_api("sendChatAction")
    def _send_chat_action(self, args: _Params) -> bool:
        chat = self._writable_chat(args.chat_ref())
        action = args.opt_str("action")
        if action not in _CHAT_ACTIONS:
            raise _bad("wrong parameter action in request")
        chat.actions.append(action)
        return True

    @_api("editMessageText")
    def _edit_message_text(self, args: _Params) -> JSONDict:
        chat, message = self._editable(args)
        if message.kind != "text":
            raise _bad("there is no text in the message to edit")
        content = self._render(args)
        markup = self._markup(args, inline_only=True)
        if content == message.content and markup == message.inline_markup:
            raise _bad(NOT_MODIFIED.removeprefix("Bad Request: "))
        shows_edited = content != message.content
        message.content = content
        message.parse_mode = args.opt_str("parse_mode")
        self._mark_edited(message, markup, shows_edited=shows_edited)
        return message.to_api(chat.to_api())

    @_api("editMessageReplyMarkup")
    def _edit_message_reply_markup(self, args: _Params) -> JSONDict:
        chat, message = self._editable(args)
        markup = self._markup(args, inline_only=True)
        if markup == message.inline_markup:
            raise _bad(NOT_MODIFIED.removeprefix("Bad Request: "))
        self._mark_edited(message, markup, shows_edited=False)
        return message.to_api(chat.to_api())

    def _mark_edited(
        self, message: _Message, markup: JSONDict | None, *, shows_edited: bool
    ) -> None:
        # An edit without reply_markup removes the inline keyboard, as on Telegram; a reply
        # keyboard the message brought stays with the chat, not the message.
        if message.inline_markup is not None or markup is not None:
            message.reply_markup = markup
        # Telegram's apps mark a message "edited" only when what it says changed: a new
        # or removed inline keyboard alone is not shown as an edit (edit_count counts the
        # visible edits; edit_date moves either way, as the Bot API reports it).
        if shows_edited:
            message.edit_count += 1
        message.edit_date = self._now()

    def _deletable(self, chat: _Chat, message_id: int) -> _Message:
        message = chat.messages.get(message_id)
        if message is None or message.deleted:
            raise _bad("message to delete not found")
        if chat.kind != "private" and not message.from_bot:
            raise _bad("message can't be deleted")  # the bot is never a group admin here
        if self.clock() - message.date > DELETE_WINDOW:
            raise _bad("message can't be deleted for everyone")
        return message

    @_api("deleteMessage")
    def _delete_message(self, args: _Params) -> bool:
        chat = self._writable_chat(args.chat_ref())
        message_id = args.req_int("message_id", "message identifier is not specified")
        self._deletable(chat, message_id).deleted = True
        return True

    @_api("deleteMessages")
    def _delete_messages(self, args: _Params) -> bool:
        chat = self._writable_chat(args.chat_ref())
        ids = args.json_value("message_ids")
        if not isinstance(ids, list) or not 1 <= len(ids) <= 100:
            raise _bad("message identifiers are not specified")
        for message_id in ids:
            try:
                self._deletable(chat, int(message_id)).deleted = True
            except (_ApiError, TypeError, ValueError):
                continue
        return True

    @_api("answerCallbackQuery")
    def _answer_callback_query(self, args: _Params) -> bool:
        query_id = args.opt_str("callback_query_id") or ""
        query = self._queries.get(query_id)
        now = self.clock()
        if (
            query is None
            or query.answer is not None
            or now - query.created_at > CALLBACK_ANSWER_WINDOW
        ):
            raise _bad(QUERY_TOO_OLD.removeprefix("Bad Request: "))
        text = args.opt_str("text")
        if text is not None and len(text) > 200:
            raise _bad("MESSAGE_TOO_LONG")
        query.answer = CallbackAnswer(
            query_id=query_id,
            text=text,
            show_alert=args.flag("show_alert"),
            url=args.opt_str("url"),
            cache_time=args.opt_int("cache_time") or 0,
            at=now,
        )
        return True

    def _source_message(self, args: _Params, missing: str) -> _Message:
        source_chat = self._resolve_chat(args.chat_ref("from_chat_id"))
        message_id = args.req_int("message_id", "message identifier is not specified")
        message = source_chat.messages.get(message_id)
        if message is None or message.deleted or source_chat.bot_status != "member":
            raise _bad(missing)
        return message

    @_api("copyMessage")
    def _copy_message(self, args: _Params) -> JSONDict:
        source = self._source_message(args, "message to copy not found")
        if source.kind == "service":
            raise _bad("message can't be copied")
        chat = self._writable_chat(args.chat_ref())
        content = dict(source.content)
        if source.kind != "text" and args.opt_str("caption") is not None:
            content.pop("caption", None)
            content.pop("caption_entities", None)
            content.update(self._render(args, caption=True, required=False))
        message = self._bot_message(chat, source.kind, content, args)
        return {"message_id": message.message_id}

    # Lower case on purpose: method names are case-insensitive, and the project greps
    # bot/ for the camel-case name to keep production code from ever forwarding.
    @_api("forwardmessage")
    def _forward(self, args: _Params) -> JSONDict:
        source = self._source_message(args, "message to forward not found")
        if source.protect_content:
            raise _bad("message has protected content and can't be forwarded")
        chat = self._writable_chat(args.chat_ref())
        message = self._bot_message(chat, source.kind, dict(source.content), args)
        origin: JSONDict
        if source.sender is not None:
            origin = {"type": "user", "sender_user": source.sender, "date": source.date}
        else:
            origin = {
                "type": "channel",
                "chat": source.sender_chat,
                "message_id": source.message_id,
                "date": source.date,
            }
        message.extra["forward_origin"] = origin
        return message.to_api(chat.to_api())

    @_api("leaveChat")
    def _leave_chat(self, args: _Params) -> bool:
        chat = self._resolve_chat(args.chat_ref())
        if chat.kind == "private":
            raise _bad("chat member status can't be changed in private chats")
        if chat.bot_status != "member":
            raise _ApiError(403, f"Forbidden: bot is not a member of the {chat.kind} chat")
        chat.bot_status = "left"
        self._enqueue(
            "my_chat_member", self._member_update(chat, self.bot_user(), "member", "left")
        )
        return True

    @_api("getChat")
    def _get_chat(self, args: _Params) -> JSONDict:
        chat = self._resolve_chat(args.chat_ref())
        if chat.kind != "private" and chat.bot_status != "member":
            raise _bad("chat not found")
        return {
            **chat.to_api(),
            "accent_color_id": 0,
            "max_reaction_count": 11,
            "accepted_gift_types": {
                "unlimited_gifts": False,
                "limited_gifts": False,
                "unique_gifts": False,
                "premium_subscription": False,
                "gifts_from_channels": False,
            },
        }

    def _member_update(self, chat: _Chat, actor: JSONDict, old: str, new: str) -> JSONDict:
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

    # ------------------------------------------------------------------ people and chats

    @_locked
    def register_user(
        self,
        user_id: int,
        first_name: str = "Alex",
        *,
        username: str | None = None,
        last_name: str | None = None,
        language_code: str | None = "en",
        started: bool = False,
    ) -> EmulatedUser:
        """Create a person and their private chat. ``started``: they already pressed Start.

        Until a person has sent the bot anything, the bot cannot message them (403, as on
        Telegram); every ``user_*`` action in the private chat starts the chat.
        """
        if not 0 < user_id < 2**52:
            raise EmulatorUsageError(f"user ids are positive and below 2**52, got {user_id}")
        user = EmulatedUser(user_id, first_name, username, last_name, language_code)
        self._users[user_id] = user
        chat = self._chats.get(user_id) or self._new_chat(user_id, "private")
        chat.user = user
        chat.started = chat.started or started
        return user

    @_locked
    def add_group(
        self,
        chat_id: int,
        title: str = "Test group",
        *,
        kind: str | None = None,
        username: str | None = None,
        bot_member: bool = True,
    ) -> None:
        """Create a group/supergroup/channel silently (no updates), e.g. for setup."""
        if chat_id >= 0:
            raise EmulatorUsageError("group and channel ids are negative")
        if kind is None:
            kind = "supergroup" if chat_id <= -1_000_000_000_000 else "group"
        if kind not in ("group", "supergroup", "channel"):
            raise EmulatorUsageError(f"unknown chat kind {kind!r}")
        chat = self._chats.get(chat_id) or self._new_chat(chat_id, kind)
        chat.kind, chat.title, chat.username = kind, title, username
        chat.bot_status = "member" if bot_member else "left"

    def _user(self, user_id: int) -> EmulatedUser:
        user = self._users.get(user_id)
        if user is None:
            raise EmulatorUsageError(f"user {user_id} is not registered: call register_user()")
        return user

    def _chat_for(self, user: EmulatedUser, chat_id: int | None) -> _Chat:
        chat = self._chats.get(user.user_id if chat_id is None else chat_id)
        if chat is None:
            raise EmulatorUsageError(f"no chat {chat_id}: call add_group() first")
        if chat.kind == "private":
            if chat.chat_id != user.user_id:
                raise EmulatorUsageError(f"chat {chat_id} is another person's private chat")
            if chat.bot_status == "kicked":
                raise EmulatorUsageError(
                    f"user {user.user_id} has blocked the bot: call unblock_bot() first"
                )
            chat.started = True
        elif chat.kind == "channel":
            raise EmulatorUsageError("people do not post in channels: use channel_post()")
        elif chat.bot_status != "member":
            raise EmulatorUsageError(
                f"the bot is not in chat {chat.chat_id}, so Telegram would not tell it: "
                "call bot_added_to_group() first"
            )
        return chat

    def _user_message(
        self,
        user_id: int,
        kind: str,
        content: JSONDict,
        *,
        chat_id: int | None = None,
        reply_to_message_id: int | None = None,
    ) -> Injected:
        user = self._user(user_id)
        chat = self._chat_for(user, chat_id)
        reply_to = None
        if reply_to_message_id is not None:
            reply_to = chat.messages.get(reply_to_message_id)
            if reply_to is None or reply_to.deleted:
                raise EmulatorUsageError(
                    f"message {reply_to_message_id} is not in chat {chat.chat_id}"
                )
        message = _Message(
            chat_id=chat.chat_id,
            message_id=chat.take_message_id(),
            sender=user.to_api(),
            date=self._now(),
            kind=kind,
            content=content,
            reply_to=reply_to,
        )
        chat.messages[message.message_id] = message
        update_id = self._enqueue("message", message.to_api(chat.to_api()))
        return Injected(update_id, chat.chat_id, message.message_id)

    @_locked
    def user_sends(
        self,
        user_id: int,
        text: str,
        *,
        chat_id: int | None = None,
        reply_to_message_id: int | None = None,
    ) -> Injected:
        """The person types and sends ``text`` (commands get ``bot_command`` entities)."""
        if not text.strip():
            raise EmulatorUsageError("Telegram clients do not send empty messages")
        if len(text) > MAX_TEXT:
            raise EmulatorUsageError(
                f"Telegram clients split texts over {MAX_TEXT} characters into several messages"
            )
        content = _text_content(text)
        return self._user_message(
            user_id, "text", content, chat_id=chat_id, reply_to_message_id=reply_to_message_id
        )

    def user_starts(self, user_id: int, payload: str | None = None) -> Injected:
        """The person opens ``t.me/<bot>?start=<payload>`` (or just presses Start)."""
        if payload is not None and not _DEEP_LINK_RE.fullmatch(payload):
            raise EmulatorUsageError(
                "deep-link payloads are 1-64 characters of A-Z a-z 0-9 _ - "
                "(Telegram drops anything else)"
            )
        return self.user_sends(user_id, f"/start {payload}" if payload else "/start")

    @_locked
    def user_sends_location(
        self,
        user_id: int,
        lat: float,
        lon: float,
        *,
        chat_id: int | None = None,
        horizontal_accuracy: float | None = None,
    ) -> Injected:
        """The person shares a location (attachment menu or a location button)."""
        if not (-90 <= lat <= 90 and -180 <= lon <= 180):
            raise EmulatorUsageError(f"({lat}, {lon}) is not a place on Earth")
        location: JSONDict = {"latitude": lat, "longitude": lon}
        if horizontal_accuracy is not None:
            location["horizontal_accuracy"] = horizontal_accuracy
        return self._user_message(user_id, "location", {"location": location}, chat_id=chat_id)

    @_locked
    def user_sends_contact(
        self,
        user_id: int,
        phone_number: str = "+447700900123",
        *,
        first_name: str | None = None,
        own: bool = True,
        chat_id: int | None = None,
    ) -> Injected:
        """The person shares a contact; ``own=True`` is their own card (carries their id)."""
        user = self._user(user_id)
        contact: JSONDict = {
            "phone_number": phone_number,
            "first_name": first_name or (user.first_name if own else "Sam"),
        }
        if own:
            contact["user_id"] = user_id
        return self._user_message(user_id, "contact", {"contact": contact}, chat_id=chat_id)

    @_locked
    def user_sends_media(
        self,
        user_id: int,
        kind: str,
        *,
        caption: str | None = None,
        chat_id: int | None = None,
    ) -> Injected:
        """The person sends a photo/sticker/voice/… with realistic ``file_id`` fields."""
        if kind not in MEDIA_KINDS:
            raise EmulatorUsageError(f"media kind must be one of {MEDIA_KINDS}, got {kind!r}")
        content = self._media_content(kind)
        if caption:
            if kind in ("sticker", "video_note"):
                raise EmulatorUsageError(f"a {kind} has no caption")
            content["caption"] = caption
        return self._user_message(user_id, kind, content, chat_id=chat_id)

    def _media_content(self, kind: str) -> JSONDict:
        def file(size: int) -> JSONDict:
            stored = self._store_file(kind, size)
            return {
                "file_id": stored.file_id,
                "file_unique_id": stored.file_unique_id,
                "file_size": size,
            }

        if kind == "photo":
            sizes = [(90, 68, 1_210), (320, 240, 15_873), (1280, 960, 121_004)]
            return {"photo": [{**file(s), "width": w, "height": h} for w, h, s in sizes]}
        if kind == "sticker":
            sticker = {
                **file(23_014),
                "type": "regular",
                "width": 512,
                "height": 512,
                "is_animated": False,
                "is_video": False,
                "emoji": "👍",
            }
            return {"sticker": sticker}
        if kind == "voice":
            return {"voice": {**file(9_837), "duration": 3, "mime_type": "audio/ogg"}}
        if kind == "video":
            video = {
                **file(1_048_102),
                "width": 720,
                "height": 1280,
                "duration": 7,
                "mime_type": "video/mp4",
            }
            return {"video": video}
        if kind == "document":
            document = {**file(48_211), "file_name": "letter.pdf", "mime_type": "application/pdf"}
            return {"document": document}
        if kind == "animation":
            animation = {
                **file(201_774),
                "width": 320,
                "height": 240,
                "duration": 2,
                "file_name": "animation.mp4",
                "mime_type": "video/mp4",
            }
            document = {
                k: animation[k]
                for k in ("file_id", "file_unique_id", "file_size", "file_name", "mime_type")
            }
            return {"animation": animation, "document": document}
        if kind == "video_note":
            return {"video_note": {**file(301_992), "length": 240, "duration": 5}}
        audio = {
            **file(3_120_448),
            "duration": 187,
            "performer": "Unknown",
            "title": "Voice memo",
            "mime_type": "audio/mpeg",
        }
        return {"audio": audio}

    @_locked
    def user_edits(
        self, user_id: int, message_id: int, new_text: str, *, chat_id: int | None = None
    ) -> Injected:
        """The person edits one of their own text messages (an ``edited_message`` update)."""
        user = self._user(user_id)
        chat = self._chat_for(user, chat_id)
        message = chat.messages.get(message_id)
        if message is None or message.deleted or message.from_bot:
            raise EmulatorUsageError(f"user {user_id} has no message {message_id} to edit")
        if message.sender is None or message.sender.get("id") != user_id:
            raise EmulatorUsageError("people can only edit their own messages")
        if message.kind != "text":
            raise EmulatorUsageError("only text messages are edited with user_edits()")
        if not new_text.strip() or new_text == message.text:
            raise EmulatorUsageError("Telegram clients do not send an empty or unchanged edit")
        content = _text_content(new_text)
        message.content = content
        message.edit_count += 1
        message.edit_date = self._now()
        update_id = self._enqueue("edited_message", message.to_api(chat.to_api()))
        return Injected(update_id, chat.chat_id, message_id)

    def _callback(
        self, user: EmulatedUser, chat: _Chat, message: _Message | None, message_id: int, data: str
    ) -> Injected:
        query_id = str(self._rng.getrandbits(62) | (1 << 62))
        payload: JSONDict = {
            "id": query_id,
            "from": user.to_api(),
            "chat_instance": chat.chat_instance,
            "data": data,
        }
        if message is not None and not message.deleted:
            payload["message"] = message.to_api(chat.to_api())
        else:
            payload["message"] = {"chat": chat.to_api(), "message_id": message_id, "date": 0}
        self._queries[query_id] = _CallbackQuery(query_id, chat.chat_id, message_id, self.clock())
        update_id = self._enqueue("callback_query", payload)
        return Injected(update_id, chat.chat_id, message_id, query_id)

    @_locked
    def user_presses(
        self, user_id: int, message_id: int, callback_data: str, *, chat_id: int | None = None
    ) -> Injected:
        """The person taps an inline button; fails unless that button is on that message now."""
        user = self._user(user_id)
        chat = self._chat_for(user, chat_id)
        message = chat.messages.get(message_id)
        if message is None or message.deleted:
            raise EmulatorUsageError(
                f"message {message_id} is not (or no longer) in chat {chat.chat_id}"
            )
        if not message.from_bot:
            raise EmulatorUsageError(f"message {message_id} is the person's own message")
        buttons = _keyboard_rows(message.inline_markup)
        datas = [b.get("callback_data") for row in buttons for b in row]
        if callback_data not in datas:
            raise EmulatorUsageError(
                f"message {message_id} in chat {chat.chat_id} has no button with callback_data "
                f"{callback_data!r}; its buttons are {[d for d in datas if d is not None]}"
            )
        return self._callback(user, chat, message, message_id, callback_data)

    @_locked
    def press_button(self, user_id: int, text: str, *, chat_id: int | None = None) -> Injected:
        """Tap the inline button labelled ``text`` on the newest bot message that has one."""
        user = self._user(user_id)
        chat = self._chat_for(user, chat_id)
        for message in sorted(chat.messages.values(), key=lambda m: -m.message_id):
            if message.deleted or not message.from_bot:
                continue
            for row in _keyboard_rows(message.inline_markup):
                for button in row:
                    if button.get("text") != text:
                        continue
                    data = button.get("callback_data")
                    if not isinstance(data, str):
                        raise EmulatorUsageError(
                            f"button {text!r} opens {button.get('url') or 'something else'}; "
                            "it sends no callback to the bot"
                        )
                    return self._callback(user, chat, message, message.message_id, data)
        shown = [
            b.get("text")
            for m in chat.messages.values()
            if m.from_bot and not m.deleted
            for row in _keyboard_rows(m.inline_markup)
            for b in row
        ]
        raise EmulatorUsageError(
            f"no inline button {text!r} in chat {chat.chat_id}; buttons shown: {shown}"
        )

    @_locked
    def tap_reply_button(
        self,
        user_id: int,
        text: str,
        *,
        lat: float | None = None,
        lon: float | None = None,
        phone_number: str = "+447700900123",
    ) -> Injected:
        """Tap a reply-keyboard button: sends its text, or a location / contact if it asks."""
        user = self._user(user_id)
        chat = self._chat_for(user, None)
        rows = _keyboard_rows(chat.reply_keyboard)
        button = next((b for row in rows for b in row if b.get("text") == text), None)
        if button is None:
            shown = [b.get("text") for row in rows for b in row]
            raise EmulatorUsageError(
                f"no reply-keyboard button {text!r} is shown to user {user_id}; shown: {shown}"
            )
        if button.get("request_location"):
            if lat is None or lon is None:
                raise EmulatorUsageError(f"button {text!r} shares a location: pass lat= and lon=")
            result = self.user_sends_location(user_id, lat, lon)
        elif button.get("request_contact"):
            result = self.user_sends_contact(user_id, phone_number)
        else:
            result = self.user_sends(user_id, text)
        if chat.reply_keyboard and chat.reply_keyboard.get("one_time_keyboard"):
            chat.reply_keyboard = None  # shown until used once
        return result

    @_locked
    def forge_callback(
        self, user_id: int, message_id: int, data: str, *, chat_id: int | None = None
    ) -> Injected:
        """A callback query no honest client would send (for fuzzing): no button check."""
        user = self._user(user_id)
        chat = self._chats.get(user_id if chat_id is None else chat_id)
        if chat is None:
            raise EmulatorUsageError(f"no chat {chat_id}")
        return self._callback(user, chat, chat.messages.get(message_id), message_id, data)

    @_locked
    def channel_post(self, chat_id: int, text: str, *, title: str = "Test channel") -> Injected:
        """A post in a channel where the bot is a member (creates the channel if new)."""
        chat = self._chats.get(chat_id)
        if chat is None:
            self.add_group(chat_id, title, kind="channel")
            chat = self._chats[chat_id]
        if chat.kind != "channel":
            raise EmulatorUsageError(f"chat {chat_id} is a {chat.kind}, not a channel")
        if chat.bot_status != "member":
            raise EmulatorUsageError(f"the bot is not in channel {chat_id}")
        message = _Message(
            chat_id=chat_id,
            message_id=chat.take_message_id(),
            sender=None,
            sender_chat=chat.to_api(),
            date=self._now(),
            kind="text",
            content={"text": text},
        )
        chat.messages[message.message_id] = message
        update_id = self._enqueue("channel_post", message.to_api(chat.to_api()))
        return Injected(update_id, chat_id, message.message_id)

    @_locked
    def bot_added_to_group(
        self,
        chat_id: int,
        by_user_id: int,
        *,
        title: str = "Test group",
        kind: str | None = None,
        service_message: bool = True,
    ) -> Injected:
        """Someone adds the bot to a group: a ``my_chat_member`` update, then (as Telegram
        does) a service message with ``new_chat_members``."""
        user = self._user(by_user_id)
        chat = self._chats.get(chat_id)
        if chat is None:
            self.add_group(chat_id, title, kind=kind, bot_member=False)
            chat = self._chats[chat_id]
        if chat.kind == "private":
            raise EmulatorUsageError("bots cannot be added to private chats")
        old = chat.bot_status
        chat.bot_status = "member"
        update_id = self._enqueue(
            "my_chat_member", self._member_update(chat, user.to_api(), old, "member")
        )
        message_id = None
        if service_message and chat.kind != "channel":
            message = _Message(
                chat_id=chat_id,
                message_id=chat.take_message_id(),
                sender=user.to_api(),
                date=self._now(),
                kind="service",
                content={"new_chat_members": [self.bot_user()]},
            )
            chat.messages[message.message_id] = message
            message_id = message.message_id
            self._enqueue("message", message.to_api(chat.to_api()))
        return Injected(update_id, chat_id, message_id)

    @_locked
    def block_bot(self, user_id: int) -> Injected:
        """The person blocks the bot: sends then fail with 403 ``bot was blocked by the user``."""
        user = self._user(user_id)
        chat = self._chats[user_id]
        if chat.bot_status == "kicked":
            raise EmulatorUsageError(f"user {user_id} has already blocked the bot")
        chat.bot_status = "kicked"
        update_id = self._enqueue(
            "my_chat_member", self._member_update(chat, user.to_api(), "member", "kicked")
        )
        return Injected(update_id, user_id)

    @_locked
    def unblock_bot(self, user_id: int) -> Injected:
        """The person unblocks the bot (a ``my_chat_member`` update back to member)."""
        user = self._user(user_id)
        chat = self._chats[user_id]
        if chat.bot_status != "kicked":
            raise EmulatorUsageError(f"user {user_id} has not blocked the bot")
        chat.bot_status = "member"
        update_id = self._enqueue(
            "my_chat_member", self._member_update(chat, user.to_api(), "kicked", "member")
        )
        return Injected(update_id, user_id)

    @_locked
    def raw_update(self, update: JSONDict) -> Injected:
        """Queue an update verbatim. With an explicit ``update_id`` it is delivered once even
        if that id was already confirmed (to simulate redelivery after a crash)."""
        body = {k: v for k, v in update.items() if k != "update_id"}
        if len(body) != 1:
            raise EmulatorUsageError("an update has exactly one field besides update_id")
        ((kind, payload),) = body.items()
        explicit = update.get("update_id")
        if explicit is not None and not isinstance(explicit, int):
            raise EmulatorUsageError("update_id must be an int")
        update_id = self._enqueue(kind, json.loads(json.dumps(payload)), update_id=explicit)
        return Injected(update_id)

    @_locked
    def redeliver(self, update_id: int) -> Injected:
        """Deliver an earlier update again, same ``update_id`` (Telegram redelivers after a
        crash that came before the bot confirmed it)."""
        original = self._history.get(update_id)
        if original is None:
            raise EmulatorUsageError(f"no update {update_id} in the history")
        return self.raw_update(original)

    # ------------------------------------------------------------------ inspection

    def _known_chat(self, chat_id: int) -> _Chat:
        chat = self._chats.get(chat_id)
        if chat is None:
            raise EmulatorUsageError(f"no chat {chat_id}")
        return chat

    @_locked
    def chat(self, chat_id: int) -> list[ChatMessage]:
        """Everything the chat ever held, oldest first, deleted ones flagged."""
        chat = self._known_chat(chat_id)
        chat_api = chat.to_api()
        return [m.snapshot(chat_api) for _, m in sorted(chat.messages.items())]

    @_locked
    def bot_messages(self, chat_id: int) -> list[ChatMessage]:
        """The bot's messages still visible in the chat, oldest first."""
        return [m for m in self.chat(chat_id) if m.from_bot and not m.deleted]

    def last_bot_message(self, chat_id: int) -> ChatMessage | None:
        messages = self.bot_messages(chat_id)
        return messages[-1] if messages else None

    def bot_texts(self, chat_id: int) -> list[str]:
        """Visible bot texts (captions for media), as the person reads them."""
        return [m.text for m in self.bot_messages(chat_id) if m.text is not None]

    def buttons(self, chat_id: int) -> list[list[JSONDict]]:
        """Keyboard rows on the newest visible bot message ([] if it has none)."""
        last = self.last_bot_message(chat_id)
        return last.buttons if last else []

    def button_texts(self, chat_id: int) -> list[str]:
        last = self.last_bot_message(chat_id)
        return last.button_texts if last else []

    @_locked
    def reply_keyboard(self, chat_id: int) -> list[list[JSONDict]]:
        """The reply keyboard the person currently sees under the input field."""
        return _keyboard_rows(self._known_chat(chat_id).reply_keyboard)

    @_locked
    def chat_actions(self, chat_id: int) -> list[str]:
        return list(self._known_chat(chat_id).actions)

    @_locked
    def bot_status(self, chat_id: int) -> str:
        """``member``, ``left`` or ``kicked`` (a person who blocked the bot)."""
        return self._known_chat(chat_id).bot_status

    @_locked
    def calls(self, method: str | None = None) -> list[ApiCall]:
        """Recorded API calls, oldest first; ``method`` filters (case-insensitive)."""
        if method is None:
            return list(self._calls)
        key = method.lower()
        return [c for c in self._calls if c.method.lower() == key]

    @_locked
    def callback_answer(self, query_id: str) -> CallbackAnswer | None:
        query = self._queries.get(query_id)
        return query.answer if query else None

    @_locked
    def callback_answers(self) -> dict[str, CallbackAnswer]:
        return {qid: q.answer for qid, q in self._queries.items() if q.answer is not None}

    @_locked
    def pending_updates(self) -> list[JSONDict]:
        """Updates Telegram still holds for the bot (not yet confirmed by an offset)."""
        self._expire()
        return [json.loads(json.dumps(u.payload)) for u in self._queue]

    @_locked
    def webhook(self) -> JSONDict:
        return dict(self._webhook)

    @_locked
    def commands(self, scope: JSONDict | None = None, language_code: str = "") -> list[JSONDict]:
        key = (json.dumps(scope or {"type": "default"}, sort_keys=True), language_code)
        return list(self._commands.get(key, []))

    @_locked
    def file_content(self, file_id: str) -> bytes | None:
        """Bytes of a file the bot uploaded (None for user media: the emulator has none)."""
        stored = self._files.get(file_id)
        return stored.content if stored else None

    @_locked
    def users(self) -> list[EmulatedUser]:
        return list(self._users.values())

    async def wait_for(
        self,
        predicate: Callable[[], _T],
        timeout: float = 5.0,  # noqa: ASYNC109 (a polling budget, not a cancel scope)
        *,
        interval: float = 0.01,
        message: str | None = None,
    ) -> _T:
        """Poll ``predicate`` until truthy and return its value; fail clearly after timeout."""
        for _ in range(max(1, math.ceil(timeout / interval))):
            value = predicate()
            if value:
                return value
            await asyncio.sleep(interval)
        value = predicate()
        if value:
            return value
        recent = [f"{c.method}->{c.status}" for c in self.calls()[-8:]]
        raise AssertionError(
            f"{message or 'condition'} not met within {timeout}s; "
            f"last calls: {recent}; pending updates: {len(self.pending_updates())}"
        )

    async def next_bot_message(
        self,
        chat_id: int,
        after_message_id: int = 0,
        timeout: float = 5.0,  # noqa: ASYNC109 (a polling budget)
    ) -> ChatMessage:
        """Wait for the first visible bot message newer than ``after_message_id``."""

        def find() -> ChatMessage | None:
            for message in self.bot_messages(chat_id):
                if message.message_id > after_message_id:
                    return message
            return None

        found = await self.wait_for(
            find, timeout, message=f"a bot message after #{after_message_id} in {chat_id}"
        )
        assert found is not None
        return found

    async def wait_until_idle(
        self,
        quiet: float = 0.1,
        timeout: float = 5.0,  # noqa: ASYNC109 (a polling budget)
    ) -> None:
        """Wait until the bot has fetched every update and made no call for ``quiet`` s."""

        def idle() -> bool:
            with self._lock:
                self._expire()
                return (
                    all(u.delivered for u in self._queue)
                    and self._inflight == 0
                    and time.monotonic() - self._last_activity >= quiet
                )

        await self.wait_for(idle, timeout, message="the bot going idle")

    # ------------------------------------------------------------------ faults and limits

    @_locked
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

    @_locked
    def clear_faults(self) -> None:
        self._faults.clear()

    @_locked
    def faults(self) -> list[Fault]:
        return list(self._faults)

    @_locked
    def enforce_rate_limit(
        self,
        overall_per_second: float | None = 30,
        *,
        per_chat_per_second: float | None = None,
        per_group_per_minute: float | None = 20,
        retry_after: int | None = None,
    ) -> None:
        """Answer 429 with ``retry_after`` when sends exceed these rates (clock-based)."""
        self._rate = _RateLimit(
            overall_per_second, per_chat_per_second, per_group_per_minute, retry_after
        )

    @_locked
    def disable_rate_limit(self) -> None:
        self._rate = None
