"""Urgent help first: any free text that signals danger gets the crisis reply at once.

Runs in handler group -1, after the guards and before the flows, and does not stop the
update: the person's conversation carries on. The guards call `send_crisis_reply` too
for what they stop (a message that is too long, a caption on a photo, an edit, someone
sending too fast), so a person in danger is never met with only a refusal. Flows that
store free text call `is_crisis` too and do not store a message that triggered it.

The reply is for people seeking help, not for approved mentors and coordinators at
work (a mentor passing on "if you ever feel you want to end it all, call 999"). Who
wrote is looked up only once the words matched, so an ordinary update costs no query.
Someone who joined but is not approved yet, or was revoked, still gets the reply; and
an approved mentor's or coordinator's words that are passed on to no one get it from
the mentor side (`conversations.mentor.gate.urgent_help_first`).
"""

from __future__ import annotations

from telegram import Update
from telegram.ext import MessageHandler, filters

from conversations import texts
from conversations.common import event
from conversations.context import Context
from conversations.safety.detector import detect_crisis
from storage.models import MentorStatus
from storage.repositories.mentors import account_status


def is_crisis(text: str | None) -> bool:
    return bool(text) and detect_crisis(text or "") is not None


async def _from_mentor_at_work(context: Context, account_id: int) -> bool:
    services = context.services
    status = await account_status(services.database, services.ring, account_id)
    return status == MentorStatus.ACTIVE


async def send_crisis_reply(context: Context, chat_id: int, text: str | None) -> bool:
    """Send the urgent-help reply if `text` signals danger and the sender is not an
    approved mentor or coordinator; True when it was sent. Only private chats come here,
    where the chat id is the sender's account id."""
    kind = detect_crisis(text) if text else None
    if kind is None or await _from_mentor_at_work(context, chat_id):
        return False
    event("crisis.reply", kind=kind.value)
    await context.bot.send_message(chat_id, texts.CRISIS, parse_mode=None)
    return True


async def crisis_check(update: Update, context: Context) -> None:
    message = update.message
    if message is None or message.text is None:
        return
    await send_crisis_reply(context, message.chat.id, message.text)


def build_crisis_handler() -> MessageHandler[Context, None]:
    return MessageHandler(filters.ChatType.PRIVATE & filters.TEXT, crisis_check)
