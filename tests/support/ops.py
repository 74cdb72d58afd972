"""Small builders for the ops tests: real people through the people repository, and
referral / outbox rows written as the handoff flows write them (no person data)."""

from __future__ import annotations

import asyncio
import os
import secrets
import sys
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any, TypedDict

from sqlalchemy import Table, func, select, update

from conversations.steps import Step
from storage.crypto import KeyRing, Role, pseudonym_candidates
from storage.db import Database
from storage.models import new_id
from storage.repositories.people import person_transaction
from tests.support.tables import OUTBOX, PEOPLE, REFERRALS

T0 = datetime(2026, 1, 5, 12, 0, tzinfo=UTC)


async def make_person(
    database: Database,
    ring: KeyRing,
    telegram_id: int,
    now: datetime = T0,
    disclosures: dict[str, str] | None = None,
) -> str:
    """Register a person (as the notice's Continue does) and save their answers."""
    async with person_transaction(database, ring, telegram_id, now) as tx:
        person = await tx.register(state=Step.MENU, chat_id=telegram_id)
        await tx.move(Step.MENU, disclosures=disclosures or {"substances": "alcohol"})
        return person.id


async def touch_person(database: Database, ring: KeyRing, telegram_id: int, now: datetime) -> None:
    """The person sends something at `now` (load moves last_seen_at)."""
    async with person_transaction(database, ring, telegram_id, now) as tx:
        assert tx.person is not None


async def make_referral(
    database: Database,
    person_id: str | None,
    *,
    office_id: str = "hull",
    status: str = "pending",
    created_at: datetime = T0,
    accepted_at: datetime | None = None,
    closed_at: datetime | None = None,
    ladder_step: int = 0,
    helped: str | None = None,
    next_step: str | None = None,
) -> str:
    referral_id = new_id()
    async with database.transaction() as connection:
        await connection.execute(
            REFERRALS.insert().values(
                id=referral_id,
                public_ref="R-" + secrets.token_hex(3).upper(),
                person_id=person_id,
                office_id=office_id,
                pilot_area="north-east",
                status=status,
                version=0,
                contact_by="bot",
                time_window="any",
                ladder_step=ladder_step,
                created_at=created_at,
                accepted_at=accepted_at,
                closed_at=closed_at,
                feedback_helped=helped,
                feedback_next_step=next_step,
            )
        )
    return referral_id


async def make_outbox(
    database: Database,
    *,
    status: str,
    created_at: datetime,
    sent_at: datetime | None = None,
    referral_id: str | None = None,
    recipient: tuple[str, str] | None = None,
    payload_subject: str | None = None,
) -> str:
    """An outbox row; by default a card to some mentor, about nobody in particular.
    `recipient` is (kind, subject id); a `payload_subject` gets a sealed-looking payload."""
    row_id = new_id()
    recipient_kind, recipient_id = recipient or ("mentor", new_id())
    async with database.transaction() as connection:
        await connection.execute(
            OUTBOX.insert().values(
                id=row_id,
                dedupe_key=f"test:{row_id}",
                kind="card",
                referral_id=referral_id,
                recipient_kind=recipient_kind,
                recipient_id=recipient_id,
                payload_subject=payload_subject,
                payload_ct=None if payload_subject is None else b"sealed:" + row_id.encode(),
                status=status,
                attempts=1,
                next_attempt_at=created_at,
                created_at=created_at,
                sent_at=sent_at,
            )
        )
    return row_id


async def count(database: Database, table: Table, **where: Any) -> int:
    statement = select(func.count()).select_from(table)
    for column, value in where.items():
        statement = statement.where(table.c[column] == value)
    async with database.engine.connect() as connection:
        return int((await connection.execute(statement)).scalar_one())


async def set_column(database: Database, table: Table, row_id: str, **values: Any) -> None:
    async with database.transaction() as connection:
        await connection.execute(update(table).where(table.c.id == row_id).values(**values))


def days(n: float) -> timedelta:
    return timedelta(days=n)


ROOT = Path(__file__).resolve().parents[2]


@dataclass(frozen=True)
class Ran:
    code: int
    out: str
    err: str


# The texts only the operator can confirm (bot/settings.py REQUIRED_OPERATOR_TEXTS): set
# for every `firststep` run in tests, as a real deployment must.
class OperatorTexts(TypedDict):
    """The operator's four texts as `Settings` keywords (typed, so `**texts` is checked)."""

    voluntary_policy: str
    mentor_employer: str
    pilot_end: str
    operator_line: str


OPERATOR_TEXTS = {
    "FIRSTSTEP_VOLUNTARY_POLICY": "Talking to a mentor is your choice. It does not change a claim.",
    "FIRSTSTEP_MENTOR_EMPLOYER": "Mentors are employed by the pilot's providers.",
    "FIRSTSTEP_SAFEGUARDING_POLICY": (
        "A mentor tells someone only if your life or someone else's is at risk."
    ),
}


def cli_env(database_url: str, keyring: Path | None = None, **extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("FIRSTSTEP_")}
    env.update(OPERATOR_TEXTS)
    env["PYTHONPATH"] = str(ROOT)
    env["FIRSTSTEP_DATABASE_URL"] = database_url
    if keyring is not None:
        env["FIRSTSTEP_KEYRING"] = str(keyring)
    env.update(extra)
    return env


async def firststep(cwd: Path, env: dict[str, str], *args: str, timeout: float = 120) -> Ran:
    """The real `firststep` command in its own process; the event loop keeps running (a
    bot in this process goes on serving while the command works)."""
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "bot",
        *args,
        cwd=cwd,
        env=env,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    out, err = await asyncio.wait_for(process.communicate(), timeout)
    assert process.returncode is not None
    return Ran(process.returncode, out.decode(), err.decode())


async def person_id_of(database: Database, ring: KeyRing, telegram_id: int) -> str | None:
    values = [value for _, value in pseudonym_candidates(ring, Role.USER, telegram_id)]
    async with database.engine.connect() as connection:
        row = (
            await connection.execute(select(PEOPLE.c.id).where(PEOPLE.c.pseudonym.in_(values)))
        ).first()
    return None if row is None else str(row.id)
