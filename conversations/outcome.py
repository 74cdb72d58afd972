"""The one reply model: what a step decided to say and do, carried out after it commits.

Every handler that answers someone — a person's flow step, the mentor gate, `/clear` —
decides inside its transaction and returns an `Outcome`; nothing talks to Telegram
until the transaction committed, so no lock is held across a network call and every
step the bot acknowledges is already durable. `deliver` then carries the outcome out,
in the chat the update came from, in one fixed order:

    answer the button (with its toast) → the pressed message (keep it, drop its buttons,
    new buttons, rewrite it, or replace it with the first reply) → deletions → replies →
    a relayed message

`plan` turns an outcome into the Bot API calls it makes, without making them, so the
number of calls a step costs can be read (and tested) in one place.

Fewer calls (issue 16): a button that answers a question and leads to the next one
says `REPLACE`, so the question is edited into the next step (one call instead of
dropping its buttons and sending a new message). That is decided step by step, never
for every press: a message the person must be able to read back (the notice, what they
told us, a Jobcentre's address, a reference, the urgent-help numbers) is never replaced,
and urgent help always comes as a new message, so it notifies. And only the newest
message in the chat is replaced (conversations/newest.py): a question pressed above
newer messages (a /help, a mentor's reply) loses its buttons and the next step comes
below, where the person is looking. `together` makes one
message of replies that read as one (a welcome and the notice; "thank you" and the menu).

- `RELAY_ROUTE`: relayed messages are queued in the step's own transaction to go through
  the outbox (`Route.OUTBOX`, the default since issue 13: sealed, retried, deduplicated
  by update id, and a crash delays one but never loses it), or sent here after the
  commit (`Route.DIRECT`, kept for comparison: a crash after the commit loses the
  message). The runner and the mentor gate call `queue_relay` inside their transaction;
  `deliver` then wakes the worker.

This is not `bot/delivery/`: that worker sends what the outbox holds for other people,
later and with retries. Nothing here is kept.
"""

from __future__ import annotations

import logging
from contextlib import suppress
from dataclasses import dataclass, replace
from datetime import datetime
from enum import StrEnum
from typing import Final

from telegram import (
    CallbackQuery,
    InlineKeyboardMarkup,
    Message,
    ReplyKeyboardMarkup,
    ReplyKeyboardRemove,
    Update,
)
from telegram.error import BadRequest, TelegramError

from conversations.common import answer, chat_id_of, event
from conversations.context import Context
from conversations.newest import newest_messages
from storage.crypto import FieldCipher
from storage.db import Connection
from storage.repositories.outbox import Kind, RecipientKind, Send, enqueue

log = logging.getLogger("firststep.flow")

Markup = InlineKeyboardMarkup | ReplyKeyboardMarkup | ReplyKeyboardRemove
DELETE_BATCH = 100  # Telegram deletes at most 100 messages a call
# Services.extras: the delivery worker's wake-up, set by bot/delivery when it is attached.
WAKE_KEY = "delivery.wake"


class Route(StrEnum):
    DIRECT = "direct"  # sent by `deliver` after the commit; a failure is told to the sender
    OUTBOX = "outbox"  # queued in the step's transaction, sent by bot/delivery


# The relay route (a module constant, read at call time).
RELAY_ROUTE: Route = Route.OUTBOX


@dataclass(frozen=True, slots=True, repr=False)
class Reply:
    """One message to the chat the update came from. Its text may be the person's own
    words read back to them: never in a repr."""

    text: str
    markup: Markup | None = None

    def __repr__(self) -> str:
        return f"Reply(chars={len(self.text)}, markup={type(self.markup).__name__})"


# -- what becomes of the pressed message (button presses only) ----------------------------


@dataclass(frozen=True, slots=True)
class DropButtons:
    """Its buttons go, so it can't be pressed twice (the default)."""


@dataclass(frozen=True, slots=True)
class Keep:
    """It stays as it is (a toast said why, or a mentor's card that stays open)."""


@dataclass(frozen=True, slots=True)
class NewButtons:
    """Its buttons change (a ticked option in a multi-choice question)."""

    markup: InlineKeyboardMarkup


@dataclass(frozen=True, slots=True, repr=False)
class Rewrite:
    """Its text changes, and its buttons with it (none unless given): a card that says
    who took it. `if_pressed_shown`: only when the message still shows the button that
    was pressed (a /referrals list redrawn; never for forged data)."""

    text: str
    markup: InlineKeyboardMarkup | None = None
    if_pressed_shown: bool = False

    def __repr__(self) -> str:
        return f"Rewrite(chars={len(self.text)})"


@dataclass(frozen=True, slots=True)
class Replace:
    """It becomes the first reply: a question edited into the next step, one call instead
    of two. A first reply an edit can't carry (a reply keyboard, or its removal), a
    message too old to edit, or one with newer messages below it falls back to
    `DropButtons` and a new message."""


Pressed = DropButtons | Keep | NewButtons | Rewrite | Replace
DROP_BUTTONS: Final = DropButtons()
KEEP: Final = Keep()
REPLACE: Final = Replace()


@dataclass(frozen=True, slots=True, repr=False)
class Relay:
    """One message passed on to the other end of a chat. Holds text: never in a repr.

    `chat_id` is where `Route.DIRECT` sends it; `recipient`, `referral_id` and `sealed_by`
    are what the outbox needs for `Route.OUTBOX`. `failed` goes back to the sender if
    Telegram refuses it; `sent` once it went.
    """

    chat_id: int
    text: str
    protect: bool
    failed: Reply
    recipient: tuple[RecipientKind, str]
    referral_id: str
    sealed_by: FieldCipher
    sent: tuple[Reply, ...] = ()

    def __repr__(self) -> str:
        return f"Relay(to={self.recipient[0]})"


@dataclass(frozen=True, slots=True, repr=False)
class Outcome:
    """What one update decided. Immutable: build a changed copy with the methods below."""

    replies: tuple[Reply, ...] = ()
    pressed: Pressed = DROP_BUTTONS
    toast: str | None = None
    deletes: tuple[int, ...] = ()  # message ids in the sender's chat (`/clear`)
    relay: Relay | None = None
    queued: bool = False  # the step queued outbox rows: wake the worker after the commit

    def __repr__(self) -> str:
        return (
            f"Outcome(replies={len(self.replies)}, pressed={type(self.pressed).__name__}, "
            f"toast={self.toast is not None}, deletes={len(self.deletes)}, "
            f"relay={self.relay is not None})"
        )

    @classmethod
    def say(cls, *replies: Reply | str, pressed: Pressed = DROP_BUTTONS) -> Outcome:
        """Replies in order (plain strings are replies without buttons)."""
        return cls(
            replies=tuple(r if isinstance(r, Reply) else Reply(r) for r in replies),
            pressed=pressed,
        )

    @classmethod
    def toast_only(cls, text: str, pressed: Pressed = KEEP) -> Outcome:
        """A short note on the button, nothing in the chat; the message stays by default."""
        return cls(toast=text, pressed=pressed)

    def first(self, *replies: Reply | str) -> Outcome:
        """These replies before the others."""
        extra = tuple(r if isinstance(r, Reply) else Reply(r) for r in replies)
        return replace(self, replies=(*extra, *self.replies))

    def then(self, *replies: Reply | str) -> Outcome:
        """These replies after the others."""
        extra = tuple(r if isinstance(r, Reply) else Reply(r) for r in replies)
        return replace(self, replies=(*self.replies, *extra))

    def with_pressed(self, pressed: Pressed) -> Outcome:
        return replace(self, pressed=pressed)


def together(*parts: Reply | str) -> Reply:
    """One message of several that read as one, a blank line between them; the buttons
    (if any) are the last part's. Only the last part may carry buttons."""
    replies = [p if isinstance(p, Reply) else Reply(p) for p in parts]
    if any(reply.markup is not None for reply in replies[:-1]):
        raise ValueError("only the last part of one message may carry buttons")
    return Reply("\n\n".join(reply.text for reply in replies), replies[-1].markup)


# -- the Bot API calls an outcome makes ----------------------------------------------------


@dataclass(frozen=True, slots=True)
class AnswerQuery:
    toast: str | None


@dataclass(frozen=True, slots=True)
class EditButtons:
    markup: InlineKeyboardMarkup | None


@dataclass(frozen=True, slots=True, repr=False)
class EditText:
    text: str
    markup: InlineKeyboardMarkup | None


@dataclass(frozen=True, slots=True)
class DeleteMessages:
    message_ids: tuple[int, ...]


@dataclass(frozen=True, slots=True, repr=False)
class SendReply:
    reply: Reply


@dataclass(frozen=True, slots=True, repr=False)
class PassOn:
    relay: Relay


Call = AnswerQuery | EditButtons | EditText | DeleteMessages | SendReply | PassOn


def _replaced(query: CallbackQuery, outcome: Outcome, newest: bool) -> Outcome:
    """`Replace` made concrete: the pressed message rewritten into the first reply, when
    it is the `newest` in the chat, an edit can carry the reply (inline buttons or none)
    and the message can still be edited; else its buttons go and the reply comes as a
    new message."""
    fallback = replace(outcome, pressed=DROP_BUTTONS)
    if not newest or not outcome.replies or not isinstance(query.message, Message):
        return fallback
    first, *rest = outcome.replies
    if first.markup is not None and not isinstance(first.markup, InlineKeyboardMarkup):
        return fallback
    return replace(outcome, pressed=Rewrite(first.text, first.markup), replies=tuple(rest))


def shows_button(message: Message, data: str) -> bool:
    """Whether a message (as Telegram reports it) has a button with this data."""
    markup = message.reply_markup
    if markup is None:
        return False
    return any(b.callback_data == data for row in markup.inline_keyboard for b in row)


def _pressed_calls(query: CallbackQuery, pressed: Pressed) -> list[Call]:
    if isinstance(pressed, Keep | Replace):  # (Replace was made concrete by `plan`)
        return []
    if isinstance(pressed, DropButtons):
        return [EditButtons(None)]
    if isinstance(pressed, NewButtons):
        return [EditButtons(pressed.markup)]
    message = query.message if isinstance(query.message, Message) else None
    if message is None:
        return []  # too old for Telegram to show it: nothing to rewrite
    if pressed.if_pressed_shown and not shows_button(message, query.data or ""):
        return []
    return [EditText(pressed.text, pressed.markup)]


def plan(update: Update, outcome: Outcome, *, newest: bool = True) -> list[Call]:
    """The Bot API calls that carry `outcome` out, in order (none is made here).
    `newest`: the pressed message is the newest in the chat (`deliver` looks it up)."""
    query = update.callback_query
    calls: list[Call] = []
    if query is not None:
        if isinstance(outcome.pressed, Replace):
            outcome = _replaced(query, outcome, newest)
        calls.append(AnswerQuery(outcome.toast))
        calls.extend(_pressed_calls(query, outcome.pressed))
    for start in range(0, len(outcome.deletes), DELETE_BATCH):
        calls.append(DeleteMessages(outcome.deletes[start : start + DELETE_BATCH]))
    calls.extend(SendReply(reply) for reply in outcome.replies)
    if outcome.relay is not None:
        calls.append(PassOn(outcome.relay))
    return calls


def _harmless(error: BadRequest) -> bool:
    """An edit that changes nothing, or of a message that is gone: nothing to do."""
    text = str(error).lower()
    return "not modified" in text or "not found" in text


async def _pass_on(update: Update, context: Context, relay: Relay) -> None:
    """Send the relayed text as new text (never forwarded); on any Telegram error tell
    the sender instead."""
    try:
        await context.bot.send_message(
            chat_id=relay.chat_id, text=relay.text, parse_mode=None, protect_content=relay.protect
        )
    except TelegramError as error:
        event("relay.failed", kind=type(error).__name__)
        await _send(update, context, relay.failed)
        return
    event("relay.sent")
    for reply in relay.sent:
        await _send(update, context, reply)


async def _send(update: Update, context: Context, reply: Reply) -> None:
    await context.bot.send_message(
        chat_id=chat_id_of(update), text=reply.text, reply_markup=reply.markup, parse_mode=None
    )


async def _call(update: Update, context: Context, call: Call) -> None:
    query = update.callback_query
    if isinstance(call, AnswerQuery):
        assert query is not None
        await answer(query, call.toast)
    elif isinstance(call, EditButtons | EditText):
        assert query is not None
        try:
            if isinstance(call, EditButtons):
                await query.edit_message_reply_markup(reply_markup=call.markup)
            else:
                await query.edit_message_text(call.text, reply_markup=call.markup, parse_mode=None)
        except BadRequest as error:
            if not _harmless(error):
                raise
    elif isinstance(call, DeleteMessages):
        with suppress(BadRequest):  # none of these could go (older than 48 h, or gone)
            await context.bot.delete_messages(chat_id_of(update), call.message_ids)
    elif isinstance(call, SendReply):
        await _send(update, context, call.reply)
    else:
        await _pass_on(update, context, call.relay)


def _pressed_is_newest(update: Update, context: Context) -> bool:
    query = update.callback_query
    if query is None or query.message is None:
        return False
    pressed = query.message
    return newest_messages(context).is_newest(pressed.chat.id, pressed.message_id)


async def deliver(update: Update, context: Context, outcome: Outcome) -> None:
    """Carry the outcome out, after the transaction that decided it committed."""
    for call in plan(update, outcome, newest=_pressed_is_newest(update, context)):
        await _call(update, context, call)
    if outcome.queued:
        wake = context.services.extras.get(WAKE_KEY)
        if callable(wake):
            wake()


# -- relays through the outbox (Route.OUTBOX) ----------------------------------------------


async def queue_relay(
    connection: Connection, outcome: Outcome, *, update_id: int, now: datetime
) -> Outcome:
    """Inside the step's transaction: with `RELAY_ROUTE` at `Route.OUTBOX`, the relayed
    message is queued with the step (sealed, sent and retried by bot/delivery) and the
    sender is told it went; with `Route.DIRECT`, the outcome is left for `deliver`."""
    relay = outcome.relay
    if relay is None or RELAY_ROUTE is Route.DIRECT:
        return outcome
    kind, recipient_id = relay.recipient
    await enqueue(
        connection,
        dedupe_key=f"relay:{update_id}",
        kind=Kind.RELAY,
        recipient_kind=kind,
        recipient_id=recipient_id,
        payload=Send(text=relay.text, protect=relay.protect),
        sealed_by=relay.sealed_by,
        now=now,
        referral_id=relay.referral_id,
    )
    return replace(outcome, relay=None, queued=True).then(*relay.sent)
