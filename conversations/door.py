"""Which door a person came through: Telegram, or the web chat (bot/webchat).

No flow asks, except where the channel really differs: the privacy notice, "Tell me
more", /help, /mydata and /forget's answer (the web has no /clear, no Telegram account and
no Telegram app; it has the quick exit), what a person is told a mentor sees, and /clear
itself (conversations/web_texts.py).

Telegram says a chat id has at most 52 significant bits, so no Telegram chat, user or
group has an id of magnitude 2**52 or more; web chats (their person's user id, positive
as a private chat's is) are drawn from 2**52 <= id < 2**53.
"""

from __future__ import annotations

from contextvars import ContextVar

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


# The door of the update being answered, for a step's prompt that has no update at hand;
# set once per update with the language (bot/language.py), web or not.
_web: ContextVar[bool] = ContextVar("firststep_web_door", default=False)


def set_door(update: Update) -> None:
    _web.set(by_web(update))


def on_web() -> bool:
    return _web.get()
