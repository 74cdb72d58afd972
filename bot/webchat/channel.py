"""The web door's side of the Bot API: what the bot sends to a web chat is kept, sealed,
as a numbered event, and every page listening on that chat is woken.

`WebChannel.call` answers a Bot API method for a web chat with the JSON Telegram would
answer, so PTB, the flows and the outbox worker cannot tell the difference. An event is
committed before the call returns: once the bot believes a message was sent, a page that
reconnects (or a server that restarted) replays it from its event id.
"""

from __future__ import annotations

import asyncio
import json
import logging
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from bot.webchat.ids import chat_of_callback
from conversations.door import is_web_chat
from storage.repositories import webchat as store

if TYPE_CHECKING:
    from conversations.context import Services

log = logging.getLogger("firststep.webchat")

# The parameter the outbox worker adds for a web chat (bot/delivery/worker.py): the row
# whose send this is, so a resend after a crash is recognised and not kept twice.
ORIGIN_PARAM = "firststep_origin"

Reply = tuple[int, bytes]


def _ok(result: object) -> Reply:
    return 200, json.dumps({"ok": True, "result": result}).encode()


def _error(status: int, description: str) -> Reply:
    body = {"ok": False, "error_code": status, "description": description}
    return status, json.dumps(body).encode()


def _buttons(markup: object) -> dict[str, Any]:
    """Only what the page shows: inline buttons (text, data) and the reply keyboard's
    words. Buttons a browser cannot honour (share a contact or a location) are left out."""
    if not isinstance(markup, Mapping):
        return {}
    if "inline_keyboard" in markup:
        rows = [
            [{"text": b["text"], "data": b.get("callback_data", "")} for b in row]
            for row in markup["inline_keyboard"]
        ]
        return {"inline": [row for row in rows if row]}
    if "keyboard" in markup:
        # A browser has no contact to share: Telegram's contact button becomes the page's
        # own (the person types their number, sent as the contact Telegram would send).
        # A location button is left out: the finder also takes a postcode or a town.
        words: list[list[str | dict[str, Any]]] = []
        for row in markup["keyboard"]:
            kept: list[str | dict[str, Any]] = []
            for b in row:
                if isinstance(b, str) or not (
                    b.get("request_contact") or b.get("request_location")
                ):
                    kept.append(b if isinstance(b, str) else b["text"])
                elif b.get("request_contact"):
                    kept.append({"text": b["text"], "contact": True})
            if kept:
                words.append(kept)
        return {"keyboard": words}
    if markup.get("remove_keyboard"):
        return {"keyboard": []}
    return {}


class WebChannel:
    """Bot API calls for web chats, and the pages waiting for them."""

    def __init__(self) -> None:
        self.services: Services | None = None
        self._listeners: dict[int, set[asyncio.Event]] = {}

    def bind(self, services: Services) -> None:
        self.services = services

    # -- pages listening -----------------------------------------------------------------
    def listen(self, chat_id: int) -> asyncio.Event:
        event = asyncio.Event()
        self._listeners.setdefault(chat_id, set()).add(event)
        return event

    def listening(self, chat_id: int) -> int:
        return len(self._listeners.get(chat_id, ()))

    def unlisten(self, chat_id: int, event: asyncio.Event) -> None:
        waiting = self._listeners.get(chat_id)
        if waiting is not None:
            waiting.discard(event)
            if not waiting:
                del self._listeners[chat_id]

    def _wake(self, chat_id: int) -> None:
        for event in self._listeners.get(chat_id, ()):
            event.set()

    # -- Bot API ---------------------------------------------------------------------------
    @staticmethod
    def is_for_web(method: str, params: Mapping[str, object]) -> bool:
        if method.lower() == "answercallbackquery":
            return chat_of_callback(str(params.get("callback_query_id", ""))) is not None
        return "chat_id" in params and is_web_chat(params["chat_id"])

    async def call(self, method: str, raw: Mapping[str, object]) -> Reply:
        services = self.services
        if services is None:
            return _error(502, "Bad Gateway: the web chat is not ready")
        # The values as PTB holds them before encoding (RequestData.parameters): a text
        # is never read as JSON ("true" stays the word).
        params: dict[str, Any] = dict(raw)
        origin = params.pop(ORIGIN_PARAM, None)
        name = method.lower()
        if name == "answercallbackquery":
            chat_id = chat_of_callback(str(params["callback_query_id"]))
            assert chat_id is not None
            text = params.get("text")
            if text:
                await self._keep(services, chat_id, {"t": "toast", "text": str(text)}, None)
            return _ok(True)
        chat_id = int(params["chat_id"])
        if name == "sendmessage":
            body: dict[str, Any] = {"t": "msg", "text": str(params.get("text", ""))}
            body.update(_buttons(params.get("reply_markup")))
            seq = await self._keep(services, chat_id, body, origin)
            if seq is None:
                return _error(403, "Forbidden: bot was blocked by the user")
            return _ok(self._message(services, chat_id, seq, params))
        if name in ("editmessagetext", "editmessagereplymarkup"):
            message_id = int(params["message_id"])
            body = {"t": "edit", "id": message_id, "inline": []}
            if "text" in params:
                body["text"] = str(params["text"])
            body.update(_buttons(params.get("reply_markup")))
            if await self._keep(services, chat_id, body, origin) is None:
                return _error(403, "Forbidden: bot was blocked by the user")
            return _ok(self._message(services, chat_id, message_id, params))
        if name in ("deletemessage", "deletemessages"):
            ids = params.get("message_ids") or [params.get("message_id")]
            await self._keep(services, chat_id, {"t": "delete", "ids": list(ids)}, origin)
            return _ok(True)
        if name in ("sendchataction", "leavechat"):
            return _ok(True)
        log.warning("event=webchat_method_unsupported method=%s", method)
        return _error(400, "Bad Request: not available in the web chat")

    async def _keep(
        self, services: Services, chat_id: int, body: dict[str, Any], origin: object
    ) -> int | None:
        seq = await store.append(
            services.database,
            services.ring,
            chat_id,
            body,
            services.clock(),
            origin=None if origin is None else str(origin),
        )
        if seq is not None:
            self._wake(chat_id)
        return seq

    @staticmethod
    def _message(
        services: Services, chat_id: int, message_id: int, params: Mapping[str, Any]
    ) -> dict[str, Any]:
        message: dict[str, Any] = {
            "message_id": message_id,
            "date": int(services.clock().timestamp()),
            "chat": {"id": chat_id, "type": "private"},
            "text": str(params.get("text", "")),
        }
        markup = params.get("reply_markup")
        if isinstance(markup, Mapping) and "inline_keyboard" in markup:
            message["reply_markup"] = markup
        return message
