"""No Bot API call is made while the calling task holds a database connection.

Why it matters: replies go out after the update's transaction commits (a reply never
promises what a rollback takes back), and on SQLite the bot has one pooled connection
(storage/db.py), so a network call inside a transaction would make every other update
wait for Telegram. The whole handoff is driven through the real bot with the real
delivery worker, and every Bot API call is checked against the pool's own checkout and
checkin events for the task making it.
"""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import event
from telegram.request import RequestData

from bot.app import build_application
from bot.sandbox import EmulatorRequest
from conversations import texts
from conversations.context import FirstStepApp
from storage.crypto import KeyRing
from tests.support.handoff import drain, join_as_mentor, request_mentor
from tests.support.harness import Harness

OFFICE = "portsmouth-arundel-street"
SAM = 8_800_900_001
ALEX, BEA = 7_700_900_001, 7_700_900_002


class HoldingTasks:
    """Which asyncio task holds each pooled connection right now (the pool's own events;
    SQLAlchemy returns a connection from a task of its own, so it is matched by record)."""

    def __init__(self) -> None:
        self.held: dict[int, asyncio.Task[Any] | None] = {}
        self.calls_while_held: list[str] = []
        self.calls = 0

    def watch(self, application: FirstStepApp) -> None:
        pool = application.bot_data.services.database.engine.sync_engine.pool

        @event.listens_for(pool, "checkout")
        def _out(_dbapi: Any, record: Any, _proxy: Any) -> None:
            self.held[id(record)] = asyncio.current_task()

        @event.listens_for(pool, "checkin")
        def _in(_dbapi: Any, record: Any) -> None:
            self.held.pop(id(record), None)

    def check(self, method: str) -> None:
        if method == "getUpdates":
            return  # the polling loop's own task; it never opens a transaction
        self.calls += 1
        if asyncio.current_task() in self.held.values():
            self.calls_while_held.append(method)


class CheckedRequest(EmulatorRequest):
    """The emulator's front end, noting each call made while its task holds a connection."""

    def __init__(self, *args: Any, holding: HoldingTasks, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.holding = holding

    async def do_request(
        self,
        url: str,
        method: str,
        request_data: RequestData | None = None,
        read_timeout: Any = EmulatorRequest.DEFAULT_NONE,
        write_timeout: Any = EmulatorRequest.DEFAULT_NONE,
        connect_timeout: Any = EmulatorRequest.DEFAULT_NONE,
        pool_timeout: Any = EmulatorRequest.DEFAULT_NONE,
    ) -> tuple[int, bytes]:
        self.holding.check(url.rsplit("/", 1)[-1])
        return await super().do_request(
            url, method, request_data, read_timeout, write_timeout, connect_timeout, pool_timeout
        )


class CheckedHarness(Harness):
    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.holding = HoldingTasks()

    def build(self) -> FirstStepApp:
        return build_application(
            self.settings,
            request=CheckedRequest(self.emu, holding=self.holding),
            get_updates_request=CheckedRequest(self.emu, read_timeout=5.0, holding=self.holding),
            clock=self.clock,
            ring=self.ring,
            rate_limit=False,
            delivery=self.delivery,
        )

    async def start(self) -> None:
        await super().start()
        assert self.app is not None
        self.holding.watch(self.app)


async def whole_handoff(harness: CheckedHarness) -> None:
    """Join, ask, accept, talk both ways, end it, give feedback, and a second person
    who asks, is taken from the /referrals list and then erases everything."""
    await join_as_mentor(harness, SAM, "Sam", office_id=OFFICE)
    ref = await request_mentor(harness, ALEX, OFFICE)
    await drain(harness)
    await harness.press(SAM, texts.BTN_ACCEPT)
    await drain(harness)
    await harness.send(ALEX, "hello")
    await harness.send(SAM, "Hi, I'm Sam.")
    await harness.send(SAM, f"/to {ref} how are you?")
    await harness.press(ALEX, texts.BTN_END_CHAT)
    await harness.press(ALEX, texts.BTN_END_YES)
    await drain(harness)
    await harness.press(ALEX, texts.BTN_SKIP)
    second = await request_mentor(harness, BEA, OFFICE)
    await drain(harness)
    await harness.send(SAM, "/referrals")
    await harness.press(SAM, texts.BTN_ACCEPT_REF.format(ref=second))
    await drain(harness)
    await harness.send(BEA, "/forget")
    await harness.press(BEA, texts.BTN_FORGET_YES)
    await drain(harness)


@pytest.fixture
async def checked(database_url: str, ring: KeyRing, tmp_path: Path) -> Any:
    running = CheckedHarness(database_url, ring, tmp_path)
    await running.start()
    yield running
    await running.stop()


async def test_no_bot_api_call_while_holding_a_database_connection(
    checked: CheckedHarness,
) -> None:
    await whole_handoff(checked)
    assert checked.holding.calls > 40, "the handoff made its calls"
    assert checked.holding.calls_while_held == []


async def test_the_check_sees_a_call_made_inside_a_transaction(checked: CheckedHarness) -> None:
    """The broken variant: a reply sent before the transaction is over is caught."""
    assert checked.app is not None
    database = checked.app.bot_data.services.database
    await checked.send(ALEX, "/start")
    async with database.transaction():
        await checked.app.bot.send_message(ALEX, "sent too early")
    assert checked.holding.calls_while_held == ["sendMessage"]
