"""The flow-test harness: the real Application, polling the project's Bot API emulator.

Tests speak as people at their phones (`send`, `press`) and assert on what each chat
shows. `settle()` waits until the bot fetched every update and finished handling it, so
assertions never race the bot.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from bot.app import build_application
from bot.delivery import worker_of
from bot.runner import start_application, stop_application
from bot.sandbox import EmulatorRequest, TelegramEmulator
from bot.settings import Settings
from conversations.context import FirstStepApp, Services
from storage.crypto import KeyRing
from storage.repositories.people import PersonRecord, person_transaction

TEST_TOKEN = "123456789:AAF-harness-token-for-tests-0001"


@dataclass
class MovableClock:
    """The service's clock, which tests move forward (retention, ladder, invite expiry)."""

    now: datetime = field(default_factory=lambda: datetime(2026, 11, 29, 9, 0, tzinfo=UTC))

    def __call__(self) -> datetime:
        return self.now

    def advance(self, **delta: float) -> None:
        self.now += timedelta(**delta)


@dataclass
class WallClock(MovableClock):
    """The real time, moved on by whatever a test advanced: for jobs the JobQueue runs by
    itself (the unclaimed ladder), whose timing is what the test measures."""

    offset: timedelta = field(default_factory=timedelta)

    def __call__(self) -> datetime:
        return datetime.now(UTC) + self.offset

    def advance(self, **delta: float) -> None:
        self.offset += timedelta(**delta)


class Harness:
    """One emulator, one running Application, and the helpers to talk to it."""

    def __init__(
        self,
        database_url: str,
        ring: KeyRing,
        tmp_path: Path,
        *,
        token: str = TEST_TOKEN,
        delivery: bool = False,
        wall_clock: bool = False,
        rate_limit: bool = False,
        **setting_overrides: Any,
    ) -> None:
        self.emu = TelegramEmulator(token)
        # The outbox worker is attached but driven by the test (`deliver()`), so what a
        # chat shows never races a background task; `delivery=True` runs it as in prod.
        self.delivery = delivery
        self.rate_limit = rate_limit  # PTB's limiter with the FloodGate, as in production
        self.ring = ring
        self.clock = WallClock() if wall_clock else MovableClock()
        self.settings = Settings(
            _env_file=None,
            telegram_token=self.emu.token,
            database_url=database_url,
            keyring=tmp_path / "unused-keyring.json",
            **setting_overrides,
        )
        self.app: FirstStepApp | None = None

    def build(self) -> FirstStepApp:
        return build_application(
            self.settings,
            request=EmulatorRequest(self.emu),
            get_updates_request=EmulatorRequest(self.emu, read_timeout=5.0),
            clock=self.clock,
            ring=self.ring,
            rate_limit=self.rate_limit,
            delivery=self.delivery,
        )

    async def start(self) -> None:
        self.app = self.build()
        await start_application(self.app)
        if not isinstance(self.clock, WallClock) and self.app.job_queue is not None:
            # On a clock the test moves, the test runs the timed jobs itself (run_ladder,
            # job.run). The JobQueue, on real time, must not run them as well: a ladder
            # pass it ran between a test's clock.advance and its own pass once took the
            # step first (CI, PostgreSQL, a loaded machine). Jobs stay planned (next_t).
            self.app.job_queue.scheduler.pause()

    async def stop(self) -> None:
        if self.app is not None:
            await stop_application(self.app)
            self.app = None

    async def restart(self) -> None:
        """A new Application on the same database: nothing acknowledged may be lost."""
        await self.stop()
        await self.start()

    async def deliver(self) -> int:
        """Run the real delivery worker until nothing is due; how many rows it handled."""
        assert self.app is not None
        handled = await worker_of(self.app).drain()
        await self.settle()
        return handled

    async def settle(self, timeout: float = 10.0) -> None:
        """Wait until every update was fetched and fully handled."""
        assert self.app is not None
        await self.emu.wait_for(
            lambda: not self.emu.pending_updates(), timeout, message="updates fetched"
        )
        for _ in range(3):
            await asyncio.sleep(0)
        await asyncio.wait_for(self.app.update_queue.join(), timeout)

    # -- the person at their phone ------------------------------------------------------
    def person(self, user_id: int, first_name: str = "Alex", **kwargs: Any) -> int:
        if user_id not in {user.user_id for user in self.emu.users()}:
            self.emu.register_user(user_id, first_name, **kwargs)
        return user_id

    async def send(self, user_id: int, text: str) -> None:
        self.person(user_id)
        self.emu.user_sends(user_id, text)
        await self.settle()

    async def press(self, user_id: int, label: str) -> None:
        self.emu.press_button(user_id, label)
        await self.settle()

    async def location(self, user_id: int, lat: float, lon: float) -> None:
        self.person(user_id)
        self.emu.user_sends_location(user_id, lat, lon)
        await self.settle()

    def texts(self, chat_id: int) -> list[str]:
        return self.emu.bot_texts(chat_id)

    def last_text(self, chat_id: int) -> str:
        message = self.emu.last_bot_message(chat_id)
        assert message is not None, f"no bot message in chat {chat_id}"
        return message.text or ""

    def all_text(self, chat_id: int) -> str:
        return "\n".join(self.texts(chat_id))

    async def onboard(self, user_id: int) -> None:
        """A new person: /start and accept the privacy notice."""
        await self.send(user_id, "/start")
        await self.press(user_id, "✅ Continue")

    # -- what the service holds (read through the service's own repository) ------------
    @property
    def services(self) -> Services:
        assert self.app is not None
        return self.app.bot_data.services

    async def record(self, user_id: int) -> PersonRecord | None:
        """The person as the service sees them now (None: not known, or erased)."""
        services = self.services
        async with person_transaction(
            services.database, services.ring, user_id, self.clock()
        ) as tx:
            return tx.person

    async def state(self, user_id: int) -> str | None:
        person = await self.record(user_id)
        return person.state if person is not None else None

    async def answers(self, user_id: int) -> dict[str, str]:
        """What the person disclosed, decrypted ({} when not known)."""
        services = self.services
        async with person_transaction(
            services.database, services.ring, user_id, self.clock()
        ) as tx:
            return await tx.disclosures() if tx.person is not None else {}
