"""Which door a person came through: Telegram, or the web chat (bot/webchat).

No flow asks, except where the channel really differs: the privacy notice and /help
(the web has no /clear and no Telegram account; it has the quick exit), and /clear
itself. Telegram says a chat id has at most 52 significant bits, so no Telegram chat,
user or group has an id of magnitude 2**52 or more; web chats (their person's user id,
positive as a private chat's is) are drawn from 2**52 <= id < 2**53.
"""

from __future__ import annotations

from telegram import Update

WEB_CHAT_FLOOR = 2**52
WEB_CHAT_SPAN = 2**52


def is_web_chat(chat_id: object) -> bool:
    """Whether a chat id (an int, or the text PTB sends it as) is a web chat's."""
    try:
        value = int(str(chat_id))
    except ValueError:
        return False
    return WEB_CHAT_FLOOR <= value < WEB_CHAT_FLOOR + WEB_CHAT_SPAN


def by_web(update: Update) -> bool:
    chat = update.effective_chat
    return chat is not None and is_web_chat(chat.id)
