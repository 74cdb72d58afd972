"""Shared pieces of the delivery tests: seeding people, mentors, referrals and cards the
way the real code stores them, and a rig with the real Application (worker not started)
on the emulator, with a clock the test moves."""

from __future__ import annotations

import os
import secrets
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select, update
from telegram import InlineKeyboardButton, InlineKeyboardMarkup

from bot.app import build_application
from bot.delivery import DeliveryPolicy, DeliveryWorker, FloodGate, worker_of
from bot.delivery.journal import SendJournal
from bot.sandbox import EmulatorRequest, EmulatorUsageError, TelegramEmulator
from bot.settings import Settings
from conversations.context import Clock, FirstStepApp
from conversations.steps import Step
from storage.crypto import KeyRing, Role, pseudonym_candidates
from storage.db import Database
from storage.repositories.outbox import Edit, Kind, RecipientKind, Send, enqueue
from storage.repositories.people import person_transaction
from storage.repositories.subjects import create_subject_key, open_subject_key
from tests.support.harness import TEST_TOKEN, MovableClock
from tests.support.tables import MENTORS, OUTBOX, REFERRALS

OFFICE = "portsmouth"
PERSON_CANARY = "CANARY-heroin-and-benzos-Q7"


def card_text(ref: str) -> str:
    return f"New referral {ref} at Portsmouth. Shared: {PERSON_CANARY}. Tap Accept."


def card_markup(ref: str) -> dict[str, Any]:
    return InlineKeyboardMarkup(
        [[InlineKeyboardButton("Accept", callback_data=f"m:accept:{ref}")]]
    ).to_dict()


async def seed_person(database: Database, ring: KeyRing, telegram_id: int, now: datetime) -> str:
    async with person_transaction(database, ring, telegram_id, now) as tx:
        person = await tx.register(state="menu", chat_id=telegram_id)
        return person.id


async def seed_mentor(
    database: Database,
    ring: KeyRing,
    telegram_id: int,
    now: datetime,
    *,
    role: str = "mentor",
    office_id: str | None = OFFICE,
    pilot_area: str | None = "south_east",
) -> str:
    """A mentor row as the join flow writes it: pseudonym, own key, sealed chat ref."""
    mentor_id = secrets.token_hex(16)
    version, pseudonym = pseudonym_candidates(ring, Role.MENTOR, telegram_id)[0]
    async with database.transaction() as connection:
        cipher = await create_subject_key(connection, ring, mentor_id, now)
        await connection.execute(
            MENTORS.insert().values(
                id=mentor_id,
                pseudonym=pseudonym,
                pseudonym_version=version,
                role=role,
                office_id=office_id,
                pilot_area=pilot_area,
                status="active",
                available=True,
                unreachable=False,
                display_name_ct=cipher.seal_text("mentors", "display_name_ct", mentor_id, "Sam"),
                chat_ref_ct=cipher.seal_text("mentors", "chat_ref_ct", mentor_id, str(telegram_id)),
                created_at=now,
            )
        )
    return mentor_id


@dataclass(frozen=True)
class Seeded:
    referral_id: str
    ref: str
    cards: dict[str, str]  # mentor id -> outbox row id


async def seed_accepted_chat(
    database: Database,
    ring: KeyRing,
    person_chat: int,
    mentor_chat: int,
    ref: str,
    now: datetime,
) -> None:
    """An accepted chat as a claim leaves it: the mentor's row, the person at
    Step.WITH_MENTOR, and the referral accepted by that mentor (for the crash tests)."""
    mentor_id = await seed_mentor(database, ring, mentor_chat, now)
    async with person_transaction(database, ring, person_chat, now) as tx:
        person = await tx.register(state=Step.WITH_MENTOR.value, chat_id=person_chat)
    async with database.transaction() as connection:
        await connection.execute(
            REFERRALS.insert().values(
                id=secrets.token_hex(16),
                public_ref=ref,
                person_id=person.id,
                office_id=OFFICE,
                pilot_area="south_east",
                status="accepted",
                version=1,
                mentor_id=mentor_id,
                contact_by="bot",
                time_window="any",
                ladder_step=0,
                created_at=now,
                accepted_at=now,
            )
        )


async def seed_referral(
    database: Database,
    ring: KeyRing,
    person_id: str,
    mentor_ids: list[str],
    now: datetime,
    *,
    ref: str | None = None,
) -> Seeded:
    """A pending referral and one CARD per mentor, in one transaction (as the request
    flow will), the payload sealed under the person's key."""
    referral_id = secrets.token_hex(16)
    ref = ref or "R-" + secrets.token_hex(3).upper()
    cards: dict[str, str] = {}
    async with database.transaction() as connection:
        cipher = await open_subject_key(connection, ring, person_id)
        assert cipher is not None
        await connection.execute(
            REFERRALS.insert().values(
                id=referral_id,
                public_ref=ref,
                person_id=person_id,
                office_id=OFFICE,
                pilot_area="south_east",
                status="pending",
                version=0,
                contact_by="bot",
                time_window="any",
                ladder_step=0,
                created_at=now,
            )
        )
        for mentor_id in mentor_ids:
            row_id = await enqueue(
                connection,
                dedupe_key=f"referral:{referral_id}:created:mentor:{mentor_id}",
                kind=Kind.CARD,
                recipient_kind="mentor",
                recipient_id=mentor_id,
                payload=Send(card_text(ref), card_markup(ref), protect=True),
                sealed_by=cipher,
                now=now,
                referral_id=referral_id,
            )
            assert row_id is not None
            cards[mentor_id] = row_id
    return Seeded(referral_id, ref, cards)


async def seed_message(
    database: Database,
    ring: KeyRing,
    *,
    kind: Kind,
    recipient_kind: RecipientKind,
    recipient_id: str,
    about: str,
    payload: Send | Edit,
    now: datetime,
    referral_id: str | None = None,
) -> str:
    async with database.transaction() as connection:
        cipher = await open_subject_key(connection, ring, about)
        assert cipher is not None
        row_id = await enqueue(
            connection,
            dedupe_key=f"test:{secrets.token_hex(8)}",
            kind=kind,
            recipient_kind=recipient_kind,
            recipient_id=recipient_id,
            payload=payload,
            sealed_by=cipher,
            now=now,
            referral_id=referral_id,
        )
    assert row_id is not None
    return row_id


async def set_referral_status(database: Database, referral_id: str, status: str) -> None:
    async with database.transaction() as connection:
        await connection.execute(
            update(REFERRALS).where(REFERRALS.c.id == referral_id).values(status=status)
        )


async def outbox(database: Database) -> dict[str, Any]:
    """Every outbox row by id (status, attempts, last_error, ...)."""
    async with database.engine.connect() as connection:
        rows = (await connection.execute(select(OUTBOX))).all()
    return {row.id: row for row in rows}


async def mentor_flags(database: Database, mentor_id: str) -> Any:
    async with database.engine.connect() as connection:
        return (await connection.execute(select(MENTORS).where(MENTORS.c.id == mentor_id))).one()


class Rig:
    """The real Application on the emulator, its worker attached but not started.

    `clock` is the service clock; the emulator stamps calls with the same clock, so
    the recorded call times show the worker's timing in test time.
    """

    def __init__(
        self,
        database_url: str,
        ring: KeyRing,
        tmp_path: Path,
        *,
        real_time: bool = False,
        rate_limit: bool = False,
        **settings: Any,
    ) -> None:
        self.movable = MovableClock()
        self.clock: Clock = (lambda: datetime.now(UTC)) if real_time else self.movable
        emulator_clock: Callable[[], float] | None = (
            None if real_time else (lambda: self.movable.now.timestamp())
        )
        self.emu = TelegramEmulator(TEST_TOKEN, clock=emulator_clock)
        self.ring = ring
        self.rate_limit = rate_limit
        self.settings = Settings(
            _env_file=None,
            telegram_token=self.emu.token,
            database_url=database_url,
            keyring=tmp_path / "unused-keyring.json",
            **settings,
        )
        self._app: FirstStepApp | None = None

    @property
    def app(self) -> FirstStepApp:
        assert self._app is not None
        return self._app

    @property
    def database(self) -> Database:
        return self.app.bot_data.services.database

    @property
    def worker(self) -> DeliveryWorker:
        return worker_of(self.app)

    @property
    def now(self) -> datetime:
        return self.clock()

    async def start(self) -> None:
        self._app = build_application(
            self.settings,
            request=EmulatorRequest(self.emu),
            get_updates_request=EmulatorRequest(self.emu),
            clock=self.clock,
            ring=self.ring,
            rate_limit=self.rate_limit,
            delivery=False,
        )
        await self.app.initialize()
        assert self.app.post_init is not None
        await self.app.post_init(self.app)

    async def stop(self) -> None:
        if self._app is None:
            return
        if self.app.post_stop is not None:
            await self.app.post_stop(self.app)
        await self.app.shutdown()
        if self.app.post_shutdown is not None:
            await self.app.post_shutdown(self.app)
        self._app = None

    def make_worker(
        self, cls: type[DeliveryWorker] = DeliveryWorker, **kwargs: Any
    ) -> DeliveryWorker:
        """Another worker on the same bot and database (e.g. a deliberately broken one)."""
        kwargs.setdefault("gate", FloodGate())
        return cls(
            self.app.bot,
            self.database,
            self.ring,
            DeliveryPolicy.from_settings(self.settings),
            clock=self.clock,
            **kwargs,
        )

    def user(self, telegram_id: int, name: str = "Sam") -> int:
        self.emu.register_user(telegram_id, name, started=True)
        return telegram_id

    async def mentor(self, telegram_id: int, **kwargs: Any) -> str:
        self.user(telegram_id)
        return await seed_mentor(self.database, self.ring, telegram_id, self.now, **kwargs)

    async def person(self, telegram_id: int) -> str:
        self.user(telegram_id, "Alex")
        return await seed_person(self.database, self.ring, telegram_id, self.now)

    async def referral(self, person_id: str, mentor_ids: list[str], **kwargs: Any) -> Seeded:
        return await seed_referral(
            self.database, self.ring, person_id, mentor_ids, self.now, **kwargs
        )

    async def open_rows(self) -> int:
        rows = await outbox(self.database)
        return sum(row.status in ("pending", "inflight") for row in rows.values())

    async def settle(
        self,
        worker: DeliveryWorker | None = None,
        *,
        step: timedelta = timedelta(seconds=0.25),
        max_steps: int = 400,
    ) -> int:
        """Run the worker, moving the clock on in small steps, until nothing is left to
        send (or `max_steps` ran out); how many steps it took."""
        worker = worker or self.worker
        for steps in range(max_steps):
            await worker.drain()
            if not await self.open_rows():
                return steps
            self.movable.now += step
        return max_steps

    def sends_to(self, chat_id: int) -> list[Any]:
        return [
            call
            for call in self.emu.calls("sendMessage")
            if int(call.params.get("chat_id", 0)) == chat_id
        ]


@asynccontextmanager
async def open_rig(
    database_url: str, ring: KeyRing, tmp_path: Path, **kwargs: Any
) -> AsyncIterator[Rig]:
    rig = Rig(database_url, ring, tmp_path, **kwargs)
    await rig.start()
    try:
        yield rig
    finally:
        await rig.stop()


def died(journal: SendJournal) -> None:
    """What SIGKILL does to a send journal: the file stays, its lock goes."""
    fd = journal._fd
    assert fd is not None
    journal._fd = None
    os.close(fd)


async def rejected(scenario: Awaitable[None]) -> AssertionError:
    """The scenario's own assertions must fail (run against a broken implementation)."""
    with pytest.raises(AssertionError) as caught:
        await scenario
    assert not isinstance(caught.value, EmulatorUsageError), "misused the emulator"
    print(f"rejected as expected: {str(caught.value)[:300]}")
    return caught.value
