"""The language each update is answered in, chosen before anything else reads it."""

from __future__ import annotations

from telegram import Update
from telegram.ext import TypeHandler

from conversations.context import Context
from conversations.door import set_door
from conversations.i18n import set_language


async def choose_language(update: Update, _context: Context) -> None:
    """Telegram's `language_code` for the sender, matched to a catalog (else en-GB); and
    the door it came through, for the few texts that differ on the web."""
    user = update.effective_user
    set_language(user.language_code if user is not None else None)
    set_door(update)


def build_language_handler() -> TypeHandler[Update, Context, None]:
    return TypeHandler(Update, choose_language)
