"""Small helpers every flow uses: reply, answer a button, open the person's transaction."""

from __future__ import annotations

import logging
import secrets
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from telegram import CallbackQuery, Update
from telegram.error import BadRequest

from conversations.context import Context
from storage.repositories.people import PersonTransaction, person_transaction

log = logging.getLogger("firststep.flow")


def event(name: str, **fields: str | int) -> None:
    """Log an event name with a random request id: never text, never an id of a person."""
    extra = " ".join(f"{key}={value}" for key, value in fields.items())
    log.info("event=%s rid=%s %s", name, secrets.token_hex(4), extra)


def user_id_of(update: Update) -> int:
    user = update.effective_user
    if user is None:
        raise LookupError("update has no user")
    return user.id


def chat_id_of(update: Update) -> int:
    chat = update.effective_chat
    if chat is None:
        raise LookupError("update has no chat")
    return chat.id


@asynccontextmanager
async def person_tx(update: Update, context: Context) -> AsyncIterator[PersonTransaction]:
    """The one transaction for this update and this person."""
    services = context.services
    async with person_transaction(
        services.database, services.ring, user_id_of(update), services.clock()
    ) as transaction:
        yield transaction


async def answer(query: CallbackQuery, text: str | None = None) -> None:
    """Answer a button press at once; a late or repeated answer is not an error for the person."""
    try:
        await query.answer(text)
    except BadRequest as error:
        if "query is too old" not in str(error).lower():
            raise
