"""The web door's ids, in ranges Telegram never uses.

Telegram says a chat id has at most 52 significant bits, so no Telegram chat, user or
group has an id whose magnitude is 2**52 or more. A web chat's id (it is also its
person's user id, positive as a private chat's is) is drawn at random from
2**52 <= id < 2**53, and a web update's id lies at or above 2**60 (Telegram's update ids
are 32-bit counters).
"""

from __future__ import annotations

import hashlib
import secrets

WEB_CHAT_FLOOR = 2**52
WEB_CHAT_SPAN = 2**52
WEB_UPDATE_BASE = 2**60


def is_web_chat(chat_id: object) -> bool:
    """Whether a chat id (an int, or the text PTB sends it as) is a web chat's."""
    try:
        value = int(str(chat_id))
    except ValueError:
        return False
    return WEB_CHAT_FLOOR <= value < WEB_CHAT_FLOOR + WEB_CHAT_SPAN


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
