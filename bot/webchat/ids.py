"""The web door's own ids: chats (conversations/door.py has their range), updates
(at or above 2**60; Telegram's update ids are 32-bit counters) and button presses."""

from __future__ import annotations

import hashlib
import secrets

from conversations.door import WEB_CHAT_FLOOR, WEB_CHAT_SPAN

WEB_UPDATE_BASE = 2**60


def new_web_chat_id() -> int:
    return WEB_CHAT_FLOOR + secrets.randbelow(WEB_CHAT_SPAN)


def web_update_id(chat_id: int, client_id: str) -> int:
    """The same id for the same message sent again (a page retrying after a dropped
    connection or a restart), so the claim on update ids handles it once."""
    digest = hashlib.sha256(f"{chat_id}:{client_id}".encode()).digest()
    return WEB_UPDATE_BASE + int.from_bytes(digest[:7], "big")


def callback_query_id(chat_id: int) -> str:
    """A button press's id names its chat, so the answer is routed back to it."""
    return f"web{chat_id}.{secrets.token_hex(6)}"


def chat_of_callback(query_id: str) -> int | None:
    if not query_id.startswith("web") or "." not in query_id:
        return None
    try:
        return int(query_id[3:].split(".", 1)[0])
    except ValueError:
        return None
