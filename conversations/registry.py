"""The flows, declared by each flow module and gathered in one registry.

Each flow module ends with `FLOW = Flow(...)`: its commands, its family of buttons, the
main-menu choices that lead into it, shared locations or contacts it takes, the steps
it owns (the prompt that asks each again, and what free text does there), and what
happens when a person leaves its steps. `bot/handlers.py` gathers them in a `Registry`
kept in `bot_data`; the runner (conversations/flow.py) and the flows ask it instead of
importing one another:

    prompt_for(context, person)   the prompt of the step the person is on
    stale(context, person)        "that button is from earlier" + that prompt
    registry_of(context)          the registry itself (text routes, menu entries, …)

The registry imports no flow: a flow is only ever known through its `Flow`.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any, Generic, TypeVar

from telegram import Update
from telegram.ext import BaseHandler

from conversations import texts
from conversations.callbacks import Button, Family, MenuChoice
from conversations.context import Context
from conversations.i18n import _
from conversations.outcome import DROP_BUTTONS, Outcome, Reply
from conversations.steps import Step, step_of
from storage.repositories.people import PersonRecord, PersonTransaction

FlowFn = Callable[[Update, Context, PersonTransaction], Awaitable[Outcome]]
ButtonFn = Callable[[Update, Context, PersonTransaction, Button | None], Awaitable[Outcome]]
PromptFn = Callable[[PersonRecord], Sequence[Reply]]
WelcomeFn = Callable[[Update, Context], Outcome]
LeaveFn = Callable[[PersonTransaction, Outcome], Awaitable[Outcome]]

F = TypeVar("F", FlowFn, ButtonFn)
REGISTRY_KEY = "firststep.flows"


class Input(StrEnum):
    """Messages other than text that a flow may take."""

    LOCATION = "location"  # a shared location (used for one lookup, never kept)
    CONTACT = "contact"  # the sender's own number, shared with Telegram's contact button


@dataclass(frozen=True, slots=True)
class Anyone(Generic[F]):
    """A command or button open to someone we don't know yet (before the privacy
    notice); every other one shows them the notice instead."""

    fn: F


@dataclass(frozen=True, slots=True)
class OnLeave:
    """Run in the step's transaction when a person was on one of `steps` before the
    update and is on none of them after it (by any way out: Menu, /start, another flow)."""

    steps: frozenset[Step]
    run: LeaveFn


@dataclass(frozen=True, slots=True)
class Flow:
    """What one flow module is. Every part is optional."""

    name: str
    commands: Mapping[str, FlowFn | Anyone[FlowFn]] = field(default_factory=dict)
    buttons: Mapping[Family, ButtonFn | Anyone[ButtonFn]] = field(default_factory=dict)
    inputs: Mapping[Input, FlowFn] = field(default_factory=dict)
    # Steps that take a location or contact themselves, whichever flow takes it elsewhere
    # (a location shared in a live chat is answered there, not by the finder).
    step_inputs: Mapping[Step, Mapping[Input, FlowFn]] = field(default_factory=dict)
    menu: Mapping[MenuChoice, FlowFn] = field(default_factory=dict)
    prompts: Mapping[Step, PromptFn] = field(default_factory=dict)
    text_steps: Mapping[Step, FlowFn] = field(default_factory=dict)
    # Steps whose free text goes to the step even when it signals danger (the urgent-help
    # reply went first): it is passed on to someone who can help, and not kept.
    crisis_text_goes_on: frozenset[Step] = frozenset()
    on_leave: OnLeave | None = None
    # Handlers that are not a flow step (no transaction of their own), e.g. /clear.
    handlers: tuple[BaseHandler[Update, Context, None], ...] = ()
    # Declared by one flow only (start): someone we don't know yet, free text no step
    # expects, and a command nobody knows.
    welcome: WelcomeFn | None = None
    not_understood: FlowFn | None = None
    unknown_command: FlowFn | None = None


class RegistryError(ValueError):
    """Two flows claim the same thing, or something only one flow may declare is missing."""


def _merge(what: str, parts: Iterable[Mapping[Any, Any]]) -> dict[Any, Any]:
    merged: dict[Any, Any] = {}
    for part in parts:
        for key, value in part.items():
            if key in merged:
                raise RegistryError(f"two flows declare the {what} {key!r}")
            merged[key] = value
    return merged


def _the_one(what: str, values: Iterable[Any]) -> Any:
    found = [value for value in values if value is not None]
    if len(found) != 1:
        raise RegistryError(f"exactly one flow must declare {what} ({len(found)} do)")
    return found[0]


class Registry:
    """Every flow's declarations, merged; asked by the runner at each update."""

    def __init__(self, flows: Sequence[Flow]) -> None:
        self.flows = tuple(flows)
        _merge("flow", ({flow.name: flow} for flow in flows))
        _merge("command", (flow.commands for flow in flows))
        _merge("button family", (flow.buttons for flow in flows))
        _merge("input", (flow.inputs for flow in flows))
        self._menu: dict[MenuChoice, FlowFn] = _merge("menu choice", (f.menu for f in flows))
        self._prompts: dict[Step, PromptFn] = _merge("prompt of", (f.prompts for f in flows))
        self._text: dict[Step, FlowFn] = _merge("text step", (f.text_steps for f in flows))
        self._step_inputs: dict[Step, Mapping[Input, FlowFn]] = _merge(
            "inputs of step", (f.step_inputs for f in flows)
        )
        self._goes_on = frozenset().union(*(flow.crisis_text_goes_on for flow in flows))
        self._leaving = tuple(flow.on_leave for flow in flows if flow.on_leave is not None)
        self.welcome: WelcomeFn = _the_one("welcome", (f.welcome for f in flows))
        self.not_understood: FlowFn = _the_one("not_understood", (f.not_understood for f in flows))
        self.unknown_command: FlowFn = _the_one(
            "unknown_command", (f.unknown_command for f in flows)
        )
        if Step.MENU not in self._prompts:
            raise RegistryError("no flow declares the prompt of the menu")

    def __repr__(self) -> str:
        return f"Registry({', '.join(flow.name for flow in self.flows)})"

    def prompt(self, person: PersonRecord) -> tuple[Reply, ...]:
        """The prompt of the step the person is on; the menu for a step that has none (or
        an unknown, older one)."""
        step = step_of(person.state)
        prompt = self._prompts.get(step) if step is not None else None
        return tuple((prompt or self._prompts[Step.MENU])(person))

    def text_route(self, state: str) -> tuple[FlowFn, bool]:
        """What free text does at this step, and whether text that signals danger goes
        there too (else it is not kept, and the person is asked again where they are)."""
        step = step_of(state)
        if step is None:
            return self.not_understood, False
        return self._text.get(step, self.not_understood), step in self._goes_on

    def input_route(self, kind: Input, state: str, default: FlowFn) -> FlowFn:
        """Who takes a location or contact at this step: the step's own flow when it
        declares one (`Flow.step_inputs`), else the flow that takes that kind."""
        step = step_of(state)
        own = self._step_inputs.get(step, {}) if step is not None else {}
        return own.get(kind, default)

    def entry(self, choice: MenuChoice) -> FlowFn | None:
        """Where a main-menu choice leads (None: no flow takes it)."""
        return self._menu.get(choice)

    async def after_step(
        self, tx: PersonTransaction, before: str | None, outcome: Outcome
    ) -> Outcome:
        """The on-leave hooks of the flows whose steps the person just left."""
        after = tx.person.state if tx.person is not None else None
        for leave in self._leaving:
            was_in = before is not None and step_of(before) in leave.steps
            still_in = after is not None and step_of(after) in leave.steps
            if was_in and not still_in:
                outcome = await leave.run(tx, outcome)
        return outcome


def install(bot_data: dict[str, Any], registry: Registry) -> None:
    bot_data[REGISTRY_KEY] = registry


def registry_of(context: Context) -> Registry:
    registry = context.bot_data.get(REGISTRY_KEY)
    if not isinstance(registry, Registry):
        raise RuntimeError("no flow registry (bot/handlers.py installs it)")
    return registry


def prompt_for(context: Context, person: PersonRecord) -> tuple[Reply, ...]:
    """The prompt of the step the person is on: to return them exactly where they were
    (after a stale button, text at a button question, or anything that interrupts)."""
    return registry_of(context).prompt(person)


def stale(context: Context, person: PersonRecord) -> Outcome:
    """A button from an earlier step: say so, and show where they are now."""
    return Outcome.say(_(texts.STALE_BUTTON), *prompt_for(context, person), pressed=DROP_BUTTONS)
