"""Deduplication where the work is: a person flow claims its update in its own transaction.

A redelivered update (Telegram resends what the bot had not confirmed) must change
nothing and say nothing; a step whose transaction failed must not be remembered as
handled, so its redelivery is acted on; and a flow update commits once, not twice.
Each property is also run against a test-local broken variant (the claim committed on
its own before the flow, or no claim at all) to show the same assertions reject it.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable, Coroutine
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import event, func, select, text
from telegram import Update
from telegram.ext import ApplicationHandlerStop, TypeHandler

from bot.runner import start_application
from conversations import texts
from conversations.context import Context, FirstStepApp
from storage.crypto import KeyRing
from storage.db import Database
from storage.repositories.updates import claim_update
from tests.support.harness import Harness
from tests.support.tables import PROCESSED

ALEX = 7_700_000_101

FAIL_MOVE_SQLITE = (
    "CREATE TRIGGER fail_move BEFORE UPDATE OF state ON people "
    "BEGIN SELECT RAISE(ABORT, 'injected fault'); END"
)
FAIL_MOVE_PG = (
    "CREATE FUNCTION fail_move() RETURNS trigger AS $$ "
    "BEGIN RAISE EXCEPTION 'injected fault'; END $$ LANGUAGE plpgsql",
    "CREATE TRIGGER fail_move BEFORE UPDATE OF state ON people "
    "FOR EACH ROW EXECUTE FUNCTION fail_move()",
)


def _database(app: FirstStepApp) -> Database:
    return app.bot_data.services.database


async def _claim_first(update: object, context: Context) -> None:
    """Broken variant: the claim commits on its own before anything is done (the old way)."""
    assert isinstance(update, Update)
    services = context.services
    if not await claim_update(services.database, update.update_id, services.clock()):
        raise ApplicationHandlerStop


async def _no_claim(update: object, context: Context) -> None:
    """Broken variant: no deduplication at all."""


VARIANTS: dict[str, Callable[[object, Context], Coroutine[Any, Any, None]] | None] = {
    "real": None,
    "claim_first": _claim_first,
    "no_claim": _no_claim,
}


VARIANT_OF: dict[int, str] = {}


async def _start(harness: Harness, variant: str) -> None:
    VARIANT_OF[id(harness)] = variant
    app = harness.build()
    replacement = VARIANTS[variant]
    if replacement is not None:
        # Stand in for the guard: these updates are all private text and buttons.
        (guard,) = app.handlers[-2]
        app.remove_handler(guard, group=-2)
        app.add_handler(TypeHandler(Update, replacement), group=-2)
    harness.app = app
    await start_application(app)


@pytest.fixture
async def make(
    database_url: str, ring: KeyRing, tmp_path: Path
) -> AsyncIterator[Callable[[str], Awaitable[Harness]]]:
    started: list[Harness] = []

    async def factory(variant: str) -> Harness:
        harness = Harness(database_url, ring, tmp_path / variant)
        await _start(harness, variant)
        started.append(harness)
        return harness

    yield factory
    for harness in started:
        await harness.stop()


async def _processed(app: FirstStepApp, update_id: int) -> int:
    async with _database(app).transaction() as connection:
        count = await connection.execute(
            select(func.count()).where(PROCESSED.c.update_id == update_id)
        )
        return int(count.scalar_one())


# -- the properties, each a function of a running harness -----------------------------------


async def redelivery_changes_nothing(harness: Harness) -> None:
    await harness.onboard(ALEX)
    pressed = harness.emu.press_button(ALEX, texts.BTN_TELL)
    await harness.settle()
    assert harness.last_text(ALEX).endswith(texts.Q_SUBSTANCES)
    shown = len(harness.emu.bot_messages(ALEX))

    harness.emu.redeliver(pressed.update_id)
    await harness.settle()
    assert len(harness.emu.bot_messages(ALEX)) == shown, "a redelivered button acted again"

    sticker = harness.emu.user_sends_media(ALEX, "sticker")
    await harness.settle()
    harness.emu.redeliver(sticker.update_id)
    await harness.settle()
    assert harness.texts(ALEX).count(texts.ONLY_TEXT) == 1, "a redelivered sticker was answered"


async def failed_step_is_not_remembered(harness: Harness) -> None:
    assert harness.app is not None
    await harness.onboard(ALEX)
    database = _database(harness.app)
    statements = FAIL_MOVE_PG if not database.is_sqlite else (FAIL_MOVE_SQLITE,)
    async with database.transaction() as connection:
        for statement in statements:
            await connection.execute(text(statement))
    pressed = harness.emu.press_button(ALEX, texts.BTN_TELL)
    await harness.settle()
    assert harness.last_text(ALEX) == texts.SOMETHING_WENT_WRONG
    assert await _processed(harness.app, pressed.update_id) == 0, "claim outlived its rollback"

    async with database.transaction() as connection:
        await connection.execute(
            text("DROP TRIGGER fail_move" + ("" if database.is_sqlite else " ON people"))
        )
    # As after a crash: a new process (nothing in memory), and Telegram sends it again.
    await harness.stop()
    await _start(harness, VARIANT_OF[id(harness)])
    harness.emu.redeliver(pressed.update_id)
    await harness.settle()
    assert harness.last_text(ALEX).endswith(texts.Q_SUBSTANCES), "the retried step was dropped"
    assert await _processed(harness.app, pressed.update_id) == 1


async def flow_update_commits_once(harness: Harness) -> None:
    """Exactly one commit that wrote something (a durable commit: one fsync on SQLite)."""
    assert harness.app is not None
    await harness.onboard(ALEX)
    writes: list[bool] = [False]
    durable: list[int] = []

    def on_statement(*args: Any) -> None:
        if str(args[2]).split()[0].upper() in ("INSERT", "UPDATE", "DELETE"):
            writes[0] = True

    def on_commit(*args: Any) -> None:
        if writes[0]:
            durable.append(1)
        writes[0] = False

    def on_rollback(*args: Any) -> None:
        writes[0] = False

    engine = _database(harness.app).engine.sync_engine
    listeners = (
        ("before_cursor_execute", on_statement),
        ("commit", on_commit),
        ("rollback", on_rollback),
    )
    for name, fn in listeners:
        event.listen(engine, name, fn)
    try:
        pressed = harness.emu.press_button(ALEX, texts.BTN_TELL)
        await harness.settle()
    finally:
        for name, fn in listeners:
            event.remove(engine, name, fn)
    assert harness.last_text(ALEX).endswith(texts.Q_SUBSTANCES)
    assert await _processed(harness.app, pressed.update_id) == 1
    assert len(durable) == 1, f"{len(durable)} durable commits for one button press"


# -- the tests ------------------------------------------------------------------------------


async def test_a_redelivered_update_changes_and_says_nothing(make: Any) -> None:
    await redelivery_changes_nothing(await make("real"))


async def test_redelivery_check_rejects_no_deduplication(make: Any) -> None:
    with pytest.raises(AssertionError, match="acted again"):
        await redelivery_changes_nothing(await make("no_claim"))


async def test_a_failed_step_is_retried_when_redelivered(make: Any) -> None:
    await failed_step_is_not_remembered(await make("real"))


async def test_retry_check_rejects_a_claim_committed_before_the_step(make: Any) -> None:
    with pytest.raises(AssertionError, match="claim outlived its rollback"):
        await failed_step_is_not_remembered(await make("claim_first"))


async def test_a_flow_update_commits_once(make: Any) -> None:
    await flow_update_commits_once(await make("real"))


async def test_commit_count_rejects_a_separate_claim(make: Any) -> None:
    with pytest.raises(AssertionError, match="2 durable commits"):
        await flow_update_commits_once(await make("claim_first"))
