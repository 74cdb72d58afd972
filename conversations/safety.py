"""Urgent help first: any free text that signals danger gets the crisis reply at once.

Runs in handler group -1, after the guards and before the flows, and does not stop the
update: the person's conversation carries on. Flows that store free text call
`is_crisis` too and do not store a message that triggered it.
"""

from __future__ import annotations

from telegram import Update
from telegram.ext import MessageHandler, filters

from conversations import texts
from conversations.common import event
from conversations.context import Context
from conversations.crisis import detect_crisis


def is_crisis(text: str | None) -> bool:
    return bool(text) and detect_crisis(text or "") is not None


async def crisis_check(update: Update, context: Context) -> None:
    message = update.message
    if message is None or message.text is None:
        return
    kind = detect_crisis(message.text)
    if kind is None:
        return
    event("crisis.reply", kind=kind.value)
    await context.bot.send_message(message.chat.id, texts.CRISIS)


def build_crisis_handler() -> MessageHandler[Context, None]:
    return MessageHandler(filters.ChatType.PRIVATE & filters.TEXT, crisis_check)
