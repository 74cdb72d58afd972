"""Urgent help first: any free text that signals danger gets the crisis reply at once.

Runs in handler group -1, after the guards and before the flows, and does not stop the
update: the person's conversation carries on. The reply is the urgent one (999 first) or,
for a message that may signal danger, the check-in "Are you safe right now?" with two
buttons (`conversations.safety.checkin`). The guards call `send_crisis_reply` too for
what they stop (a message that is too long, a caption on a photo, an edit, someone
sending too fast), so a person in danger is never met with only a refusal. Flows that
store free text call `is_crisis` too and do not store a message that triggered either
tier. Command arguments that are codes are never checked (`free_text`).

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

from conversations.common import event
from conversations.context import Context
from conversations.safety.check import Verdict, assess
from conversations.safety.free_text import free_text
from conversations.safety.replies import reply_for
from storage.models import MentorStatus
from storage.repositories.mentors import account_status

__all__ = ["build_crisis_handler", "crisis_verdict", "is_crisis", "send_crisis_reply"]


def crisis_verdict(text: str | None) -> Verdict | None:
    """The check on the person's own words in `text` (codes left out)."""
    return assess(free_text(text))


def is_crisis(text: str | None) -> bool:
    """Whether `text` gets urgent help or a check-in: if so, it is never stored."""
    return crisis_verdict(text) is not None


async def _from_mentor_at_work(context: Context, account_id: int) -> bool:
    services = context.services
    status = await account_status(services.database, services.ring, account_id)
    return status == MentorStatus.ACTIVE


async def send_crisis_reply(context: Context, chat_id: int, text: str | None) -> bool:
    """Send the urgent reply or the check-in if `text` calls for one and the sender is
    not an approved mentor or coordinator; True when it was sent. Only private chats come
    here, where the chat id is the sender's account id."""
    verdict = crisis_verdict(text)
    if verdict is None or await _from_mentor_at_work(context, chat_id):
        return False
    event("crisis.reply", tier=verdict.tier.value, kind=verdict.kind.value)
    words, markup = reply_for(verdict.tier, verdict.kind)
    await context.bot.send_message(chat_id, words, reply_markup=markup, parse_mode=None)
    return True


async def crisis_check(update: Update, context: Context) -> None:
    message = update.message
    if message is None or message.text is None:
        return
    await send_crisis_reply(context, message.chat.id, message.text)


def build_crisis_handler() -> MessageHandler[Context, None]:
    return MessageHandler(filters.ChatType.PRIVATE & filters.TEXT, crisis_check)
