"""What a web person does, as the update Telegram would have sent, handled by the same
Application the Telegram door feeds: guards, flows, crisis check, storage, outbox.

`handle` returns once the update was handled (its replies are kept as events), so the
page's POST answers only then: a page that got no answer sends the same message again
with the same client id, and the update id derived from it is claimed once.
"""

from __future__ import annotations

import time
from typing import Any

from telegram import Update

from bot.webchat.ids import callback_query_id, web_update_id
from conversations.context import FirstStepApp

# Telegram requires a first name; the bot never reads or keeps it.
_FIRST_NAME = "Web"


def _person(chat_id: int, language: str) -> dict[str, Any]:
    return {"id": chat_id, "is_bot": False, "first_name": _FIRST_NAME, "language_code": language}


def text_update(chat_id: int, client_id: str, text: str, language: str) -> dict[str, Any]:
    message: dict[str, Any] = {
        "message_id": 0,  # the bot never replies to or edits a person's own message here
        "date": int(time.time()),
        "chat": {"id": chat_id, "type": "private"},
        "from": _person(chat_id, language),
        "text": text,
    }
    if text.startswith("/"):
        command = text.split(maxsplit=1)[0]
        message["entities"] = [{"type": "bot_command", "offset": 0, "length": len(command)}]
    return {"update_id": web_update_id(chat_id, client_id), "message": message}


def contact_update(chat_id: int, client_id: str, phone: str, language: str) -> dict[str, Any]:
    """The person's own number, typed where Telegram has its contact button."""
    message: dict[str, Any] = {
        "message_id": 0,
        "date": int(time.time()),
        "chat": {"id": chat_id, "type": "private"},
        "from": _person(chat_id, language),
        "contact": {"phone_number": phone, "first_name": _FIRST_NAME, "user_id": chat_id},
    }
    return {"update_id": web_update_id(chat_id, client_id), "message": message}


def button_update(
    chat_id: int, client_id: str, message_id: int, data: str, language: str
) -> dict[str, Any]:
    pressed = {
        "message_id": message_id,
        "date": int(time.time()),
        "chat": {"id": chat_id, "type": "private"},
        "text": "",
    }
    query = {
        "id": callback_query_id(chat_id),
        "from": _person(chat_id, language),
        "chat_instance": "web",
        "message": pressed,
        "data": data,
    }
    return {"update_id": web_update_id(chat_id, client_id), "callback_query": query}


async def handle(application: FirstStepApp, raw: dict[str, Any]) -> None:
    """Handle one update through the Application's own processor (one person's updates
    one after another, as for the Telegram door), and return when it is done."""
    update = Update.de_json(raw, application.bot)
    processor = application.update_processor
    await processor.process_update(update, application.process_update(update))
