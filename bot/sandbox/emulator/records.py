"""The emulator's public value types: what tests hand in and get back.

Why apart: front-ends (``http``, ``request``) and tests use these without needing the
emulator's machinery; each is a small frozen record or a clock.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

JSONDict = dict[str, Any]
Clock = Callable[[], float]


class EmulatorUsageError(AssertionError):
    """The test asked a person to do something impossible on a real phone."""


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
        return keyboard_rows(self.reply_markup)

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


def keyboard_rows(markup: JSONDict | None) -> list[list[JSONDict]]:
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
