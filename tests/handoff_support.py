"""Test-only helpers for the handoff tests: make mentors the way real ones are made,
and (until bot/delivery lands) deliver queued outbox rows through the real bot.

`drain` is NOT the delivery worker: no lease, no retries, no backoff. It only does what
a message needs to reach a chat — the worker's check-before-send, decrypt the payload
and the recipient's chat id, send or edit, mark sent — so flow tests can see what
mentors and people receive. Delete it when the tests switch to bot/delivery.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass
from datetime import timedelta
from typing import Any, cast

from sqlalchemy import Table, select, update
from telegram import InlineKeyboardMarkup
from telegram.error import TelegramError

from conversations import texts
from conversations.context import SERVICES_KEY, Services
from storage import mentors
from storage.directory import office_by_id
from storage.mentors import MENTORS
from storage.models import MentorRole, OutboxMessage, OutboxStatus
from storage.outbox import LIVE_WHILE, Edit, open_payload
from storage.people import chat_id_of
from storage.referrals import REF_PATTERN, REFERRALS
from storage.subjects import open_subject_key
from tests.harness import Harness

OUTBOX = cast(Table, OutboxMessage.__table__)


def services_of(harness: Harness) -> Services:
    assert harness.app is not None
    services = harness.app.bot_data[SERVICES_KEY]
    assert isinstance(services, Services)
    return services


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
    """Deliver every due pending outbox row once, through the running bot."""
    services = services_of(harness)
    assert harness.app is not None
    bot = harness.app.bot
    now = services.clock()
    result = Drained([], [])
    async with services.database.transaction() as connection:
        rows = (
            await connection.execute(
                select(OUTBOX)
                .where(
                    OUTBOX.c.status == OutboxStatus.PENDING.value,
                    OUTBOX.c.next_attempt_at <= now,
                )
                .order_by(OUTBOX.c.created_at, OUTBOX.c.id)
            )
        ).all()
    for row in rows:
        async with services.database.transaction() as connection:
            reason = await _obsolete(connection, row)
            target: tuple[int, Any] | None = None
            payload = None
            of_message: int | None = None
            if reason is None:
                if row.recipient_kind == "person":
                    target = await chat_id_of(connection, services.ring, row.recipient_id)
                else:
                    target = await mentors.mentor_chat_id(
                        connection, services.ring, row.recipient_id
                    )
                cipher = await open_subject_key(connection, services.ring, row.payload_subject)
                if target is None or cipher is None or row.payload_ct is None:
                    reason = "obsolete"
                else:
                    payload = open_payload(cipher, row.id, row.payload_ct)
                    if isinstance(payload, Edit):
                        of_message = (
                            await connection.execute(
                                select(OUTBOX.c.sent_message_id).where(OUTBOX.c.id == payload.of)
                            )
                        ).scalar_one_or_none()
                        if of_message is None:
                            reason = "nothing_to_edit"
            if reason is not None:
                await _finish(connection, row.id, dead=reason)
                result.dead.append((row.kind, reason))
                continue
        assert target is not None and payload is not None
        markup = InlineKeyboardMarkup.de_json(payload.markup, bot) if payload.markup else None
        try:
            if isinstance(payload, Edit):
                assert of_message is not None
                await bot.edit_message_text(
                    payload.text,
                    chat_id=target[0],
                    message_id=of_message,
                    reply_markup=markup,
                    parse_mode=None,
                )
                message_id = None
            else:
                message = await bot.send_message(
                    target[0],
                    payload.text,
                    reply_markup=markup,
                    protect_content=payload.protect,
                    parse_mode=None,
                )
                message_id = message.message_id
        except TelegramError as error:
            async with services.database.transaction() as connection:
                await _finish(connection, row.id, dead=type(error).__name__)
            result.dead.append((row.kind, type(error).__name__))
            continue
        async with services.database.transaction() as connection:
            await _finish(connection, row.id, sent_message_id=message_id, now=now)
        result.sent.append((row.kind, target[0]))
    await harness.settle()
    return result


async def _obsolete(connection: Any, row: Any) -> str | None:
    """The worker's check-before-send (storage.outbox.LIVE_WHILE)."""
    live = LIVE_WHILE.get(row.kind)
    if row.referral_id is not None and live is not None:
        status = (
            await connection.execute(
                select(REFERRALS.c.status).where(REFERRALS.c.id == row.referral_id)
            )
        ).scalar_one_or_none()
        if status not in live:
            return "obsolete"
    if row.recipient_kind == "mentor":
        exists = (
            await connection.execute(select(MENTORS.c.id).where(MENTORS.c.id == row.recipient_id))
        ).scalar_one_or_none()
        if exists is None:
            return "obsolete"
    return None


async def _finish(
    connection: Any,
    row_id: str,
    *,
    dead: str | None = None,
    sent_message_id: int | None = None,
    now: Any = None,
) -> None:
    values: dict[str, Any] = {"payload_ct": None}
    if dead is not None:
        values |= {"status": OutboxStatus.DEAD.value, "last_error": dead}
    else:
        values |= {
            "status": OutboxStatus.SENT.value,
            "sent_message_id": sent_message_id,
            "sent_at": now,
        }
    await connection.execute(update(OUTBOX).where(OUTBOX.c.id == row_id).values(**values))


def table_digest(rows: list[Any]) -> str:
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
