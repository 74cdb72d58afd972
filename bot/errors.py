"""The error handler: log the kind of failure (never its text), tell the person kindly."""

from __future__ import annotations

import logging
import secrets

from telegram import Chat, Update
from telegram.error import Forbidden, RetryAfter, TelegramError

from bot.delivery.pacing import retry_after_seconds
from conversations import keyboards, texts
from conversations.common import answer
from conversations.context import Context
from conversations.i18n import _

log = logging.getLogger("firststep.errors")


async def on_error(update: object, context: Context) -> None:
    """Exceptions may carry message text in their args, so only the type name is logged."""
    error = context.error
    incident = secrets.token_hex(4)
    if isinstance(error, RetryAfter):
        # Expected: Telegram's flood control. Everything waits (the FloodGate); a warning
        # with the wait says so, not an ERROR.
        log.warning(
            "event=handler_flood_control rid=%s retry_seconds=%.1f",
            incident,
            retry_after_seconds(error),
        )
    else:
        log.error(
            "event=handler_error rid=%s type=%s.%s",
            incident,
            type(error).__module__,
            type(error).__qualname__,
        )
    if not isinstance(update, Update):
        return
    chat = update.effective_chat
    if chat is None or chat.type != Chat.PRIVATE or isinstance(error, Forbidden):
        return
    try:
        if update.callback_query is not None:
            # Stop the button's spinner; a second answer is refused and that is fine.
            await answer(update.callback_query)
        await context.bot.send_message(
            chat.id, _(texts.SOMETHING_WENT_WRONG), reply_markup=keyboards.back_to_menu()
        )
    except TelegramError:
        log.warning("event=error_reply_failed rid=%s", incident)
