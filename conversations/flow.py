"""The shape every person-side handler has: one transaction, then the replies.

A flow function receives the update, the context and the open `PersonTransaction`,
does its reads and writes, and returns an `Outcome`. The wrappers here commit the
transaction first and only then talk to Telegram, so no database lock is held across
a network call, and every step the bot acknowledges is already durable.

The update id is claimed (deduplication) inside that same transaction when the guard
hands it over (`defer_claim`): the claim commits with the step it caused, or neither
does, and an update costs one commit, not two.
"""

from __future__ import annotations

import logging
import weakref
from collections.abc import Awaitable, Callable, Coroutine, Mapping
from dataclasses import dataclass, field
from typing import Any

from telegram import (
    InlineKeyboardMarkup,
    ReplyKeyboardMarkup,
    ReplyKeyboardRemove,
    Update,
)
from telegram.error import BadRequest
from telegram.ext import (
    BaseHandler,
    CallbackQueryHandler,
    CommandHandler,
    MessageHandler,
    filters,
)

from conversations import keyboards, texts
from conversations.common import answer, chat_id_of, event, person_tx
from conversations.context import Context
from conversations.safety.urgent_help import is_crisis
from conversations.steps import Step, step_of
from storage.repositories.people import PersonRecord, PersonTransaction, StaleStep
from storage.repositories.updates import claim_in

log = logging.getLogger("firststep.flow")

Markup = InlineKeyboardMarkup | ReplyKeyboardMarkup | ReplyKeyboardRemove


@dataclass(frozen=True, slots=True)
class Reply:
    """One message to send back to the person, after the transaction committed."""

    text: str
    markup: Markup | None = None


class _Keep:
    """Sentinel: leave the pressed message's keyboard as it is."""


KEEP = _Keep()


@dataclass(slots=True)
class Outcome:
    """What a flow function decided: replies, the pressed keyboard's fate, a toast."""

    replies: list[Reply] = field(default_factory=list)
    # For button presses: None removes the keyboard (no double taps), KEEP leaves it,
    # a markup replaces it (e.g. a ticked option in a multi-choice question).
    pressed_markup: InlineKeyboardMarkup | _Keep | None = None
    toast: str | None = None
    # Delete these bot messages (ids) after replying: `/clear`.
    delete_message_ids: tuple[int, ...] = ()

    @classmethod
    def say(cls, *replies: Reply | str) -> Outcome:
        return cls(replies=[r if isinstance(r, Reply) else Reply(r) for r in replies])


FlowFn = Callable[[Update, Context, PersonTransaction], Awaitable[Outcome]]
PromptFn = Callable[[PersonRecord], list[Reply]]


def menu_replies() -> list[Reply]:
    return [Reply(texts.MENU, keyboards.main_menu())]


def prompt_for(person: PersonRecord) -> list[Reply]:
    """Re-ask the question of the step the person is on (after a stale button, say)."""
    from conversations.prompts import PROMPTS  # every flow's prompts; imported late

    step = step_of(person.state)
    prompt = PROMPTS.get(step) if step is not None else None
    return prompt(person) if prompt is not None else menu_replies()


def stale(person: PersonRecord) -> Outcome:
    """A button from an earlier step: say so, and show where they are now."""
    return Outcome(
        replies=[Reply(texts.STALE_BUTTON), *prompt_for(person)],
        pressed_markup=None,
    )


def notice_outcome(update: Update, context: Context) -> Outcome:
    """Someone we don't know yet: the privacy notice, before anything is kept.

    If they wrote something first, it is not kept: they are told so, and Continue will
    ask them to send it again.
    """
    from conversations.person.start import notice_text

    message = update.message
    if message is not None and is_crisis(message.text):
        return Outcome(
            replies=[Reply(texts.CRISIS_NOT_SAVED), Reply(notice_text(context), keyboards.notice())]
        )
    if message is not None and message.text is not None and not message.text.startswith("/"):
        return Outcome(
            replies=[
                Reply(texts.NOTICE_FIRST),
                Reply(notice_text(context), keyboards.notice(resend=True)),
            ]
        )
    return Outcome(replies=[Reply(texts.WELCOME), Reply(notice_text(context), keyboards.notice())])


def _close_reply_keyboard(outcome: Outcome) -> None:
    """Leaving the finder: take its "Share my location" button away from the keyboard."""
    reply_keyboards = (ReplyKeyboardMarkup, ReplyKeyboardRemove)
    if any(isinstance(reply.markup, reply_keyboards) for reply in outcome.replies):
        return
    for index, reply in enumerate(outcome.replies):
        if reply.markup is None:
            outcome.replies[index] = Reply(reply.text, ReplyKeyboardRemove())
            return
    outcome.replies.insert(0, Reply(texts.FINDER_CLOSED, ReplyKeyboardRemove()))


async def deliver(update: Update, context: Context, outcome: Outcome) -> None:
    """Send the outcome: fix the pressed keyboard, then the replies in order."""
    query = update.callback_query
    if query is not None and not isinstance(outcome.pressed_markup, _Keep):
        try:
            await query.edit_message_reply_markup(reply_markup=outcome.pressed_markup)
        except BadRequest as error:
            text = str(error).lower()
            if "not modified" not in text and "not found" not in text:
                raise
    chat_id = chat_id_of(update)
    for reply in outcome.replies:
        await context.bot.send_message(
            chat_id=chat_id, text=reply.text, reply_markup=reply.markup, parse_mode=None
        )
    for message_id in outcome.delete_message_ids:
        try:
            await context.bot.delete_message(chat_id=chat_id, message_id=message_id)
        except BadRequest:
            # Older than 48 h or already gone: nothing more we can do.
            continue


# -- deduplication inside the flow's own transaction --------------------------------------

# The handler group of the person flows (bot/handlers.py registers them there).
PERSON_GROUP = 1
DEFERRED_CLAIMS_KEY = "firststep.deferred_claims"
_MAX_DEFERRED = 10_000
# Callbacks marked with `flow_callback`: each runs `run_flow`, which claims the update.
_FLOW_CALLBACKS: weakref.WeakSet[Callable[..., Any]] = weakref.WeakSet()


class DuplicateUpdate(Exception):
    """The update id was claimed before (a redelivery): roll back, do nothing."""


def handled_by_flow(update: Update, handlers: list[BaseHandler[Any, Any, Any]]) -> bool:
    """Whether the first of `handlers` (the person group) to take this update is a
    `flow_callback`. Any other handler keeps the guard's own claim, made before it acts."""
    for handler in handlers:
        check = handler.check_update(update)
        if check is not None and check is not False:
            return handler.callback in _FLOW_CALLBACKS
    return False


def defer_claim(context: Context, update_id: int) -> None:
    """The guard leaves the claim to the flow's transaction (see `handled_by_flow`)."""
    deferred: set[int] = context.bot_data.setdefault(DEFERRED_CLAIMS_KEY, set())
    if len(deferred) >= _MAX_DEFERRED:
        deferred.clear()  # only if flows stopped taking them: never grow without bound
    deferred.add(update_id)


def _claim_is_ours(context: Context, update_id: int) -> bool:
    deferred: set[int] | None = context.bot_data.get(DEFERRED_CLAIMS_KEY)
    return deferred is not None and update_id in deferred


async def _claim(update: Update, context: Context, tx: PersonTransaction) -> None:
    """Claim a deferred update for someone we know. Nothing is written for anyone else
    (nothing is kept before the privacy notice): the guard's memory covers them, and the
    transaction that registers a person records its update (`mark_processed`)."""
    if (
        tx.person is not None
        and _claim_is_ours(context, update.update_id)
        and not await claim_in(tx.connection, update.update_id, tx.now)
    ):
        raise DuplicateUpdate


async def _decide(update: Update, context: Context, fn: FlowFn, needs_person: bool) -> Outcome:
    """The flow function in one transaction that also claims the update."""
    try:
        async with person_tx(update, context) as tx:
            await _claim(update, context, tx)
            before = tx.person.state if tx.person is not None else None
            if needs_person and tx.person is None:
                outcome = notice_outcome(update, context)
            else:
                outcome = await fn(update, context, tx)
                await _drop_abandoned_request(tx, before)
            after = tx.person.state if tx.person is not None else None
    except StaleStep:
        # Another update moved this person on between our read and write: show the truth.
        async with person_tx(update, context) as tx:
            await _claim(update, context, tx)
            before = after = tx.person.state if tx.person is not None else None
            outcome = stale(tx.person) if tx.person is not None else notice_outcome(update, context)
    if before == Step.FINDER_PLACE and after != Step.FINDER_PLACE:
        _close_reply_keyboard(outcome)
    return outcome


async def _drop_abandoned_request(tx: PersonTransaction, before: str | None) -> None:
    """Whatever way the person left an unsent mentor request, what it held goes with it."""
    from conversations.person.ask_mentor import drop_if_abandoned  # it imports this module

    await drop_if_abandoned(tx, before)


async def run_flow(
    update: Update, context: Context, fn: FlowFn, *, needs_person: bool = True
) -> None:
    """Open the transaction, claim the update, run the flow function, commit, answer, deliver."""
    query = update.callback_query
    try:
        outcome = await _decide(update, context, fn, needs_person)
    except DuplicateUpdate:
        event("guard.duplicate_update")
        return
    finally:
        deferred: set[int] | None = context.bot_data.get(DEFERRED_CLAIMS_KEY)
        if deferred is not None:
            deferred.discard(update.update_id)
    if query is not None:
        await answer(query, outcome.toast)
    await deliver(update, context, outcome)


Callback = Callable[[Update, Context], Coroutine[Any, Any, None]]


def flow_callback(callback: Callback) -> Callback:
    """Mark a handler callback that runs `run_flow` for its update (and so claims it in
    the flow's transaction): the guard then leaves the claim to it, saving a commit."""
    _FLOW_CALLBACKS.add(callback)
    return callback


def command(name: str, fn: FlowFn, *, needs_person: bool = True) -> CommandHandler[Context, None]:
    """A /command in a private chat, run as one flow step."""

    @flow_callback
    async def callback(update: Update, context: Context) -> None:
        await run_flow(update, context, fn, needs_person=needs_person)

    return CommandHandler(name, callback, filters=filters.ChatType.PRIVATE)


def buttons(
    prefix: str, fn: FlowFn, *, needs_person: bool = True
) -> CallbackQueryHandler[Context, None]:
    """Button presses whose data starts with `<prefix>:`."""

    @flow_callback
    async def callback(update: Update, context: Context) -> None:
        await run_flow(update, context, fn, needs_person=needs_person)

    return CallbackQueryHandler(callback, pattern=rf"^{prefix}:")


def step_router(steps: Mapping[Step, FlowFn], fallback: FlowFn) -> FlowFn:
    """The flow function for free text: the handler of the step the person is on."""

    async def route(update: Update, context: Context, tx: PersonTransaction) -> Outcome:
        assert tx.person is not None
        message = update.message
        if message is not None and is_crisis(message.text):
            # The urgent reply went first (group -1). Keep nothing, and carry on gently.
            return Outcome(replies=[Reply(texts.CRISIS_NOT_SAVED), *prompt_for(tx.person)])
        step = step_of(tx.person.state)
        handler = steps.get(step) if step is not None else None
        return await (handler or fallback)(update, context, tx)

    return route


def text_router(steps: Mapping[Step, FlowFn], fallback: FlowFn) -> MessageHandler[Context, None]:
    """Free text goes to the handler of the step the person is on (read from the database)."""
    route = step_router(steps, fallback)

    @flow_callback
    async def callback(update: Update, context: Context) -> None:
        await run_flow(update, context, route)

    return MessageHandler(filters.ChatType.PRIVATE & filters.TEXT & ~filters.COMMAND, callback)


async def unknown_button(update: Update, context: Context) -> None:
    """Any button no flow claims (forged, or from an older version): answer, change nothing."""
    query = update.callback_query
    if query is not None:
        await answer(query, texts.UNKNOWN_BUTTON)


def unknown_buttons() -> CallbackQueryHandler[Context, None]:
    """Register last: every button press gets an answer, so no spinner is left turning."""
    return CallbackQueryHandler(unknown_button)


def callback_parts(update: Update) -> list[str]:
    """`flow:action:arg` split into parts (the data is untrusted: callers validate)."""
    query = update.callback_query
    assert query is not None
    return (query.data or "").split(":")
