"""Inspection: what a test may read back (chats as a phone shows them, calls, answers) and
the waits that let a test follow the bot without sleeping.
"""

from __future__ import annotations

import asyncio
import json
import math
import time
from collections.abc import Callable
from typing import TypeVar

from bot.sandbox.emulator.records import (
    ApiCall,
    CallbackAnswer,
    ChatMessage,
    EmulatedUser,
    EmulatorUsageError,
    JSONDict,
    keyboard_rows,
)
from bot.sandbox.emulator.state import EmulatorState, StoredChat, locked

_T = TypeVar("_T")


class Inspection(EmulatorState):
    """Reading the state back, and waiting on it."""

    def _known_chat(self, chat_id: int) -> StoredChat:
        chat = self._chats.get(chat_id)
        if chat is None:
            raise EmulatorUsageError(f"no chat {chat_id}")
        return chat

    @locked
    def chat(self, chat_id: int) -> list[ChatMessage]:
        """Everything the chat ever held, oldest first, deleted ones flagged."""
        chat = self._known_chat(chat_id)
        chat_api = chat.to_api()
        return [m.snapshot(chat_api) for _, m in sorted(chat.messages.items())]

    @locked
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

    @locked
    def reply_keyboard(self, chat_id: int) -> list[list[JSONDict]]:
        """The reply keyboard the person currently sees under the input field."""
        return keyboard_rows(self._known_chat(chat_id).reply_keyboard)

    @locked
    def chat_actions(self, chat_id: int) -> list[str]:
        return list(self._known_chat(chat_id).actions)

    @locked
    def bot_status(self, chat_id: int) -> str:
        """``member``, ``left`` or ``kicked`` (a person who blocked the bot)."""
        return self._known_chat(chat_id).bot_status

    @locked
    def calls(self, method: str | None = None) -> list[ApiCall]:
        """Recorded API calls, oldest first; ``method`` filters (case-insensitive)."""
        if method is None:
            return list(self._calls)
        key = method.lower()
        return [c for c in self._calls if c.method.lower() == key]

    @locked
    def callback_answer(self, query_id: str) -> CallbackAnswer | None:
        query = self._queries.get(query_id)
        return query.answer if query else None

    @locked
    def callback_answers(self) -> dict[str, CallbackAnswer]:
        return {qid: q.answer for qid, q in self._queries.items() if q.answer is not None}

    @locked
    def pending_updates(self) -> list[JSONDict]:
        """Updates Telegram still holds for the bot (not yet confirmed by an offset)."""
        self._expire()
        return [json.loads(json.dumps(u.payload)) for u in self._queue]

    @locked
    def webhook(self) -> JSONDict:
        return dict(self._webhook)

    @locked
    def commands(self, scope: JSONDict | None = None, language_code: str = "") -> list[JSONDict]:
        key = (json.dumps(scope or {"type": "default"}, sort_keys=True), language_code)
        return list(self._commands.get(key, []))

    @locked
    def file_content(self, file_id: str) -> bytes | None:
        """Bytes of a file the bot uploaded (None for user media: the emulator has none)."""
        stored = self._files.get(file_id)
        return stored.content if stored else None

    @locked
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
