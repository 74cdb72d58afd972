"""Test-only helpers for the handoff tests: make mentors the way real ones are made,
and deliver queued outbox rows with the real delivery worker (bot/delivery), reporting
what this round sent and what it marked dead.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from sqlalchemy import Row, Table, select

from conversations import texts
from conversations.context import SERVICES_KEY, Services
from conversations.mentor.accounts import revoke_mentor
from storage.directory import office_by_id
from storage.models import MentorRole, OutboxStatus
from storage.repositories import mentors
from storage.repositories.people import chat_id_of
from storage.repositories.referrals import REF_PATTERN
from tests.support.harness import Harness
from tests.support.tables import OUTBOX


def services_of(harness: Harness) -> Services:
    assert harness.app is not None
    services = harness.app.bot_data[SERVICES_KEY]
    assert isinstance(services, Services)
    return services


async def revoke(harness: Harness, telegram_id: int) -> None:
    """`firststep mentors revoke`: what the CLI does, in one transaction (it must hand
    back exactly one request)."""
    services = services_of(harness)
    async with services.database.transaction() as connection:
        mentor = await mentors.load_mentor(connection, services.ring, telegram_id)
        assert mentor is not None
        assert await revoke_mentor(connection, services.ring, mentor.id, services.clock()) == 1


async def new_invite(
    harness: Harness,
    *,
    office_id: str | None = None,
    area: str | None = None,
    role: MentorRole = MentorRole.MENTOR,
    ttl_hours: float = 72,
) -> str:
    """What `firststep mentors invite` does: a one-time code, only its hash stored."""
    services = services_of(harness)
    if office_id is not None:
        office = office_by_id(office_id)
        assert office is not None
        area = office.pilot_area
    async with services.database.transaction() as connection:
        invite = await mentors.create_invite(
            connection,
            role=role,
            office_id=office_id,
            pilot_area=area,
            now=services.clock(),
            ttl=timedelta(hours=ttl_hours),
        )
    return invite.code


async def join_as_mentor(
    harness: Harness,
    user_id: int,
    name: str,
    *,
    office_id: str | None = None,
    area: str | None = None,
    role: MentorRole = MentorRole.MENTOR,
) -> None:
    """A mentor joins through the bot: /join CODE, then the first name people will see."""
    code = await new_invite(harness, office_id=office_id, area=area, role=role)
    harness.person(user_id, f"Mentor{user_id % 1000}")
    await harness.send(user_id, f"/join {code}")
    await harness.send(user_id, name)


@dataclass
class Drained:
    sent: list[tuple[str, int]]  # (kind, chat id)
    dead: list[tuple[str, str]]  # (kind, reason)


async def drain(harness: Harness) -> Drained:
    """Run the real delivery worker until nothing is due; what it sent (kind, chat id)
    and what it marked dead (kind, reason) in this round, in queue order."""
    services = services_of(harness)
    before = await _statuses(services)
    await harness.deliver()
    result = Drained([], [])
    async with services.database.transaction() as connection:
        rows = (
            await connection.execute(select(OUTBOX).order_by(OUTBOX.c.created_at, OUTBOX.c.id))
        ).all()
        for row in rows:
            if before.get(row.id) in (OutboxStatus.SENT.value, OutboxStatus.DEAD.value):
                continue
            if row.status == OutboxStatus.SENT.value:
                result.sent.append((row.kind, await _chat_of(connection, services, row)))
            elif row.status == OutboxStatus.DEAD.value:
                result.dead.append((row.kind, row.last_error or ""))
    return result


async def _statuses(services: Services) -> dict[str, str]:
    async with services.database.transaction() as connection:
        rows = (await connection.execute(select(OUTBOX.c.id, OUTBOX.c.status))).all()
    return {row.id: row.status for row in rows}


async def _chat_of(connection: Any, services: Services, row: Any) -> int:
    if row.recipient_kind == "person":
        found = await chat_id_of(connection, services.ring, row.recipient_id)
    else:
        found = await mentors.mentor_chat_id(connection, services.ring, row.recipient_id)
    return found[0] if found is not None else 0


def table_digest(rows: Sequence[Row[Any]]) -> str:
    return hashlib.sha256(repr(sorted(map(tuple, rows))).encode()).hexdigest()


async def request_mentor(harness: Harness, user_id: int, office_id: str) -> str:
    """A new person asks for a mentor from a poster link, sharing nothing; returns the ref."""
    harness.person(user_id)
    await harness.send(user_id, f"/start jc_{office_id}")
    await harness.press(user_id, texts.BTN_CONTINUE)
    await harness.press(user_id, texts.BTN_MENTOR)
    await harness.press(user_id, texts.BTN_THIS_OFFICE)
    await harness.press(user_id, texts.BTN_CONTACT_BOT)
    await harness.press(user_id, texts.MENTOR_TIME_LABELS["any"])
    await harness.press(user_id, texts.BTN_SEND_REQUEST)
    found = re.search(REF_PATTERN, harness.last_text(user_id))
    assert found is not None, harness.last_text(user_id)
    return found.group(0)


async def snapshot(harness: Harness, *tables: Table) -> dict[str, str]:
    """A digest of each table's rows, to show that nothing changed."""
    services = services_of(harness)
    digests: dict[str, str] = {}
    async with services.database.transaction() as connection:
        for table in tables:
            rows = (await connection.execute(select(table))).all()
            digests[table.name] = table_digest(rows)
    return digests


async def run_job(harness: Harness) -> None:
    """One pass of what the JobQueue runs when a step falls due (expiry, then the ladder)."""
    assert harness.app is not None and harness.app.job_queue is not None
    (job,) = harness.app.job_queue.get_jobs_by_name("ladder")
    await job.run(harness.app)


async def request_phone_call(harness: Harness, user_id: int, office_id: str, phone: str) -> str:
    """A new person asks for a mentor to phone them, sharing their own number with
    Telegram's contact button; returns the reference."""
    harness.person(user_id)
    await harness.send(user_id, f"/start jc_{office_id}")
    await harness.press(user_id, texts.BTN_CONTINUE)
    await harness.press(user_id, texts.BTN_MENTOR)
    await harness.press(user_id, texts.BTN_THIS_OFFICE)
    await harness.press(user_id, texts.BTN_CONTACT_PHONE)
    harness.emu.tap_reply_button(user_id, texts.BTN_SEND_PHONE, phone_number=phone)
    await harness.settle()
    await harness.press(user_id, texts.MENTOR_TIME_LABELS["afternoon"])
    await harness.press(user_id, texts.BTN_SEND_REQUEST)
    found = re.search(REF_PATTERN, harness.last_text(user_id))
    assert found is not None, harness.last_text(user_id)
    return found.group(0)


async def close_chat(harness: Harness, mentor_chat: int, ref: str) -> None:
    """A mentor ends a chat: /close and the reference, then "Yes, end the chat"."""
    await harness.send(mentor_chat, f"/close {ref}")
    assert harness.last_text(mentor_chat) == texts.MENTOR_CLOSE_ASK.format(ref=ref)
    await harness.press(mentor_chat, texts.BTN_CLOSE_YES)
