"""The language each update is answered in, chosen before anything else reads it; and
the person's own message noted as the newest in their chat (conversations/newest.py)."""

from __future__ import annotations

from telegram import Update
from telegram.ext import TypeHandler

from conversations.context import Context
from conversations.door import set_door
from conversations.i18n import set_language
from conversations.newest import note_incoming


async def choose_language(update: Update, context: Context) -> None:
    """Telegram's `language_code` for the sender, matched to a catalog (else en-GB); and
    the door it came through, for the few texts that differ on the web. Whatever the
    guards then refuse, the person's message is in the chat: it is noted first."""
    user = update.effective_user
    set_language(user.language_code if user is not None else None)
    set_door(update)
    note_incoming(update, context)


def build_language_handler() -> TypeHandler[Update, Context, None]:
    return TypeHandler(Update, choose_language)
