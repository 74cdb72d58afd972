"""The registry: each flow declares what it is, bot/handlers.py gathers them, and the
runner and the flows ask it. Two flows can't claim the same thing; every step has a
prompt that returns a person exactly where they were; leaving a flow's steps runs its
hook once; and the guard knows a flow step's handler by its type.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime
from types import SimpleNamespace
from typing import Any, cast

import pytest
from telegram import CallbackQuery, Chat, Message, Update, User
from telegram.ext import CallbackQueryHandler

from bot.handlers import FLOWS
from conversations import texts
from conversations.callbacks import Family, MenuChoice
from conversations.context import Context
from conversations.flow import FlowButtonHandler, taken_by_flow
from conversations.outcome import Outcome, Reply
from conversations.registry import Flow, OnLeave, Registry, RegistryError, prompt_for
from conversations.steps import Step
from storage.repositories.people import PersonRecord, PersonTransaction
from storage.repositories.person_draft import Draft
from tests.support.harness import Harness
from tests.support.journeys import reach

ALEX = 7_700_920_001


async def nothing(update: Any, context: Any, tx: Any) -> Outcome:
    return Outcome()


async def nothing_pressed(update: Any, context: Any, tx: Any, button: Any) -> Outcome:
    return Outcome()


def minimal(**parts: Any) -> Flow:
    """The one flow every registry needs (welcome, text nobody expects, unknown command,
    the menu's prompt), plus `parts`."""
    return Flow(
        name="base",
        welcome=lambda update, context: Outcome(),
        not_understood=nothing,
        unknown_command=nothing,
        prompts={Step.MENU: lambda person: [Reply("menu")]},
        **parts,
    )


def person_at(state: str) -> PersonRecord:
    return PersonRecord("p", state, 0, True, Draft(), cipher=None)  # type: ignore[arg-type]


def test_the_bots_flows_make_one_registry() -> None:
    registry = Registry(FLOWS)
    assert [flow.name for flow in registry.flows] == [flow.name for flow in FLOWS]
    for choice in (MenuChoice.TELL, MenuChoice.SUPPORT, MenuChoice.MENTOR):
        assert registry.entry(choice) is not None
    assert registry.entry(MenuChoice.SHOW) is None  # the start flow handles it itself


@pytest.mark.parametrize("step", list(Step))
def test_every_step_has_a_prompt_to_return_to(step: Step) -> None:
    replies = Registry(FLOWS).prompt(person_at(step))
    assert replies and all(reply.text for reply in replies)


def test_an_unknown_or_older_step_falls_back_to_the_menu() -> None:
    assert Registry(FLOWS).prompt(person_at("gone.step"))[-1].text == texts.MENU
    registry = Registry(FLOWS)
    assert registry.text_route("gone.step") == (registry.not_understood, False)


def test_only_the_chat_passes_crisis_text_on() -> None:
    registry = Registry(FLOWS)
    assert [step for step in Step if registry.text_route(step)[1]] == [Step.WITH_MENTOR]


@pytest.mark.parametrize(
    "second",
    [
        Flow("other", commands={"start": nothing}),
        Flow("other", buttons={Family.MENU: nothing_pressed}),
        Flow("other", prompts={Step.MENU: lambda person: []}),
        Flow("other", text_steps={Step.FINDER_PLACE: nothing}),
        Flow("other", menu={MenuChoice.TELL: nothing}),
        Flow("other", not_understood=nothing),
        Flow("base"),
    ],
)
def test_two_flows_cannot_claim_the_same_thing(second: Flow) -> None:
    first = minimal(
        commands={"start": nothing},
        buttons={Family.MENU: nothing},
        text_steps={Step.FINDER_PLACE: nothing},
        menu={MenuChoice.TELL: nothing},
    )
    Registry([first])
    with pytest.raises(RegistryError):
        Registry([first, second])


def test_what_one_flow_must_declare() -> None:
    with pytest.raises(RegistryError, match="welcome"):
        Registry([Flow("empty")])
    no_menu_prompt = Flow(
        "base",
        welcome=lambda update, context: Outcome(),
        not_understood=nothing,
        unknown_command=nothing,
    )
    with pytest.raises(RegistryError, match="menu"):
        Registry([no_menu_prompt])


@dataclass
class Tx:
    """As much of a person's transaction as the on-leave hooks read."""

    person: PersonRecord | None
    left: list[str] = field(default_factory=list)


async def test_leaving_a_flows_steps_runs_its_hook_once() -> None:
    async def hook(tx: PersonTransaction, outcome: Outcome) -> Outcome:
        cast(Tx, tx).left.append("finder")
        return outcome.then("closed")

    registry = Registry([minimal(on_leave=OnLeave(frozenset({Step.FINDER_PLACE}), hook))])
    cases = [
        (Step.FINDER_PLACE, Step.MENU, True),
        (Step.FINDER_PLACE, Step.FINDER_PLACE, False),
        (Step.MENU, Step.FINDER_PLACE, False),
        (None, Step.MENU, False),
        ("gone.step", Step.MENU, False),
    ]
    for before, after, runs in cases:
        tx = Tx(person_at(after))
        done = await registry.after_step(cast(PersonTransaction, tx), before, Outcome())
        assert tx.left == (["finder"] if runs else []), (before, after)
        assert [r.text for r in done.replies] == (["closed"] if runs else [])
    tx = Tx(None)  # erased on the way out
    await registry.after_step(cast(PersonTransaction, tx), Step.FINDER_PLACE, Outcome())
    assert tx.left == ["finder"]


def button_press(data: str) -> Update:
    chat = Chat(ALEX, Chat.PRIVATE)
    user = User(ALEX, "Alex", is_bot=False)
    message = Message(1, datetime(2026, 12, 1, tzinfo=UTC), chat)
    return Update(1, callback_query=CallbackQuery("q", user, "ci", data=data, message=message))


async def on_button(update: Any, context: Any, tx: Any, button: Any) -> Outcome:
    return Outcome()


async def plain(update: Any, context: Any) -> None:
    return None


def test_the_guard_knows_a_flow_step_by_its_handler_type() -> None:
    flow_step = FlowButtonHandler(Family.DISCLOSE, on_button)
    same_pattern = CallbackQueryHandler(plain, pattern=r"^d:")
    press = button_press("d:sub:done")
    assert taken_by_flow(press, [flow_step, same_pattern])
    assert not taken_by_flow(press, [same_pattern, flow_step])  # PTB takes the first
    assert not taken_by_flow(button_press("zz:1"), [flow_step])


@pytest.mark.parametrize("step", [Step.DISCLOSE_DURATION, Step.FINDER_PLACE, Step.FORGET_CONFIRM])
async def test_prompt_for_returns_a_person_exactly_where_they_were(
    harness: Harness, step: Step
) -> None:
    """What the check-in (or anything that interrupts) calls: the current step's prompt,
    as a stale button shows it after its note."""
    harness.person(ALEX)
    await reach(harness, ALEX, step)
    record = await harness.record(ALEX)
    assert record is not None and harness.app is not None
    context = SimpleNamespace(bot_data=harness.app.bot_data)
    prompt = [reply.text for reply in prompt_for(cast(Context, context), record)]
    assert prompt
    shown = len(harness.texts(ALEX))
    first = harness.emu.bot_messages(ALEX)[0].message_id
    harness.emu.forge_callback(ALEX, first, "n:yes")  # the notice, long accepted
    await harness.settle()
    assert harness.texts(ALEX)[shown:] == [texts.STALE_BUTTON, *prompt]
    assert await harness.state(ALEX) == step
