"""The runner: one step of a person's flow is one transaction, then its outcome.

A flow function receives the update, the context and the open `PersonTransaction`, does
its reads and writes, and returns an `Outcome` (conversations/outcome.py). The runner
commits the transaction first and only then carries the outcome out, so no database
lock is held across a network call and every step the bot acknowledges is durable.

The runner knows no flow: what a step's prompt is, what free text does at a step, whom
to welcome and what to do when a person leaves a flow's steps, it asks the registry
(conversations/registry.py) that bot/handlers.py built from every flow's `FLOW`.

Every handler that runs a step is a `FlowHandler` (a command, a family of buttons, or
a kind of message). The guard recognises them by that type: the update id is then
claimed (deduplication) inside the step's own transaction (`defer_claim`), so the claim
commits with the step it caused, or neither does, and an update costs one commit.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from datetime import datetime
from typing import Any

from telegram import Update
from telegram.ext import (
    BaseHandler,
    CallbackQueryHandler,
    CommandHandler,
    MessageHandler,
    filters,
)
from telegram.ext.filters import BaseFilter

from conversations import callbacks, texts
from conversations.common import answer, event, person_tx
from conversations.context import Context
from conversations.i18n import _
from conversations.outcome import Outcome, deliver, queue_relay
from conversations.registry import (
    Anyone,
    ButtonFn,
    Flow,
    FlowFn,
    Input,
    Registry,
    prompt_for,
    registry_of,
    stale,
)
from conversations.safety.urgent_help import is_crisis_here
from storage.db import Connection
from storage.repositories.people import PersonTransaction, StaleStep
from storage.repositories.updates import claim_in

log = logging.getLogger("firststep.flow")

# The handler group of the person flows (bot/handlers.py registers them there).
PERSON_GROUP = 1
DEFERRED_CLAIMS_KEY = "firststep.deferred_claims"
_MAX_DEFERRED = 10_000


# -- deduplication inside the step's own transaction -----------------------------------


class DuplicateUpdate(Exception):
    """The update id was claimed before (a redelivery): roll back, do nothing."""


def defer_claim(context: Context, update_id: int) -> None:
    """The guard leaves the claim to the step's transaction (see `taken_by_flow`)."""
    deferred: set[int] = context.bot_data.setdefault(DEFERRED_CLAIMS_KEY, set())
    if len(deferred) >= _MAX_DEFERRED:
        deferred.clear()  # only if flows stopped taking them: never grow without bound
    deferred.add(update_id)


def _claim_is_ours(context: Context, update_id: int) -> bool:
    deferred: set[int] | None = context.bot_data.get(DEFERRED_CLAIMS_KEY)
    return deferred is not None and update_id in deferred


def release_claim(context: Context, update_id: int) -> None:
    """The update was handled (or refused): nobody claims it any more."""
    deferred: set[int] | None = context.bot_data.get(DEFERRED_CLAIMS_KEY)
    if deferred is not None:
        deferred.discard(update_id)


async def claim_deferred(
    context: Context, connection: Connection, update_id: int, now: datetime
) -> None:
    """Claim an update the guard deferred, in the transaction of whoever acts on it (a
    flow step, or the mentor gate for a mentor's message); DuplicateUpdate when it was
    handled before. Call it only for someone we know: nothing is written for anyone
    else (nothing is kept before the privacy notice or an invite)."""
    if _claim_is_ours(context, update_id) and not await claim_in(connection, update_id, now):
        raise DuplicateUpdate


async def _claim(update: Update, context: Context, tx: PersonTransaction) -> None:
    """A step claims its deferred update for someone we know. For anyone else the
    guard's memory covers it, and the transaction that registers a person records its
    update (`mark_processed`)."""
    if tx.person is not None:
        await claim_deferred(context, tx.connection, update.update_id, tx.now)


# -- one step ---------------------------------------------------------------------------


async def _decide(update: Update, context: Context, fn: FlowFn, needs_person: bool) -> Outcome:
    """The flow function in one transaction that also claims the update."""
    flows = registry_of(context)
    try:
        async with person_tx(update, context) as tx:
            await _claim(update, context, tx)
            if needs_person and tx.person is None:
                return flows.welcome(update, context)
            before = tx.person.state if tx.person is not None else None
            outcome = await fn(update, context, tx)
            outcome = await flows.after_step(tx, before, outcome)
            return await queue_relay(tx.connection, outcome, update_id=update.update_id, now=tx.now)
    except StaleStep:
        # Another update moved this person on between our read and write: show the truth.
        async with person_tx(update, context) as tx:
            await _claim(update, context, tx)
            if tx.person is None:
                return flows.welcome(update, context)
            return stale(context, tx.person)


async def run_flow(
    update: Update, context: Context, fn: FlowFn, *, needs_person: bool = True
) -> None:
    """Open the transaction, claim the update, run the flow function, commit, deliver."""
    try:
        outcome = await _decide(update, context, fn, needs_person)
    except DuplicateUpdate:
        event("guard.duplicate_update")
        return
    finally:
        release_claim(context, update.update_id)
    await deliver(update, context, outcome)


async def route_text(update: Update, context: Context, tx: PersonTransaction) -> Outcome:
    """Free text: to the step the person is on, as the registry says."""
    assert tx.person is not None
    step_fn, goes_on = registry_of(context).text_route(tx.person.state)
    if not goes_on and is_crisis_here(update, context):
        # The urgent reply went first (group -1). Keep nothing, and carry on gently.
        return Outcome.say(_(texts.CRISIS_NOT_SAVED), *prompt_for(context, tx.person))
    return await step_fn(update, context, tx)


# -- the handlers that run a step ---------------------------------------------------------


def _opened(fn: FlowFn | Anyone[FlowFn]) -> tuple[FlowFn, bool]:
    """The function, and whether it needs a person we know."""
    return (fn.fn, False) if isinstance(fn, Anyone) else (fn, True)


class FlowHandler:
    """Marks a handler whose callback runs one flow step, which claims the update in its
    own transaction: the guard then leaves the claim to it (one commit, not two)."""

    __slots__ = ()


class FlowCommandHandler(FlowHandler, CommandHandler[Context, None]):
    """A /command in a private chat, run as one flow step."""

    __slots__ = ()

    def __init__(self, command: str, fn: FlowFn | Anyone[FlowFn]) -> None:
        step, needs_person = _opened(fn)

        async def callback(update: Update, context: Context) -> None:
            await run_flow(update, context, step, needs_person=needs_person)

        super().__init__(command, callback, filters=filters.ChatType.PRIVATE)


class FlowButtonHandler(FlowHandler, CallbackQueryHandler[Context, None]):
    """Presses of one family of buttons; the flow gets the button typed (None when the
    data is malformed or forged), never the raw data."""

    __slots__ = ()

    def __init__(self, family: callbacks.Family, fn: ButtonFn | Anyone[ButtonFn]) -> None:
        on_button, needs_person = (fn.fn, False) if isinstance(fn, Anyone) else (fn, True)

        async def callback(update: Update, context: Context) -> None:
            query = update.callback_query
            button = callbacks.parse(query.data if query is not None else None)

            async def step(update: Update, context: Context, tx: PersonTransaction) -> Outcome:
                return await on_button(update, context, tx, button)

            await run_flow(update, context, step, needs_person=needs_person)

        super().__init__(callback, pattern=rf"^{family.value}:")


class FlowMessageHandler(FlowHandler, MessageHandler[Context, None]):
    """Messages of one kind in a private chat (free text, a location, a contact, an
    unknown command), run as one flow step."""

    __slots__ = ()

    def __init__(self, kind: BaseFilter, fn: FlowFn) -> None:
        async def callback(update: Update, context: Context) -> None:
            await run_flow(update, context, fn)

        super().__init__(filters.ChatType.PRIVATE & kind, callback)


INPUT_FILTERS: dict[Input, BaseFilter] = {
    Input.LOCATION: filters.LOCATION,
    Input.CONTACT: filters.CONTACT,
}


def taken_by_flow(update: Update, handlers: Sequence[BaseHandler[Any, Any, Any]]) -> bool:
    """Whether the handler PTB will pick for this update in `handlers` (the first whose
    check passes) runs a flow step. Any other handler keeps the guard's own claim."""
    for handler in handlers:
        check = handler.check_update(update)
        if check is not None and check is not False:
            return isinstance(handler, FlowHandler)
    return False


def routed_input(kind: Input, fn: FlowFn) -> FlowFn:
    """A location or contact goes to `fn` unless the person's step takes it itself."""

    async def step(update: Update, context: Context, tx: PersonTransaction) -> Outcome:
        assert tx.person is not None
        route = registry_of(context).input_route(kind, tx.person.state, fn)
        return await route(update, context, tx)

    return step


def handlers_of(flow: Flow) -> list[BaseHandler[Update, Context, None]]:
    """A flow's handlers: its commands, its buttons, what else it takes, then the rest."""
    made: list[BaseHandler[Update, Context, None]] = [
        FlowCommandHandler(name, fn) for name, fn in flow.commands.items()
    ]
    made.extend(FlowButtonHandler(family, fn) for family, fn in flow.buttons.items())
    made.extend(
        FlowMessageHandler(INPUT_FILTERS[kind], routed_input(kind, fn))
        for kind, fn in flow.inputs.items()
    )
    made.extend(flow.handlers)
    return made


def text_handler() -> FlowMessageHandler:
    """Free text (not a command), routed by the step the person is on."""
    return FlowMessageHandler(filters.TEXT & ~filters.COMMAND, route_text)


def unknown_commands(registry: Registry) -> FlowMessageHandler:
    """Register after every flow's commands: a command nobody handles still gets a reply."""
    return FlowMessageHandler(filters.COMMAND, registry.unknown_command)


async def unknown_button(update: Update, context: Context) -> None:
    """Any button no flow claims (forged, or from an older version): answer, change nothing."""
    query = update.callback_query
    if query is not None:
        await answer(query, _(texts.UNKNOWN_BUTTON))


def unknown_buttons() -> CallbackQueryHandler[Context, None]:
    """Register last: every button press gets an answer, so no spinner is left turning."""
    return CallbackQueryHandler(unknown_button)
