"""Inbound deduplication and aggregate counters: small writes every update may make."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select, union_all
from sqlalchemy.ext.asyncio import AsyncConnection

from storage.crypto import KeyRing, Role, pseudonym_candidates
from storage.db import Database
from storage.models import EventCount, Mentor, Person, ProcessedUpdate
from storage.sql import insert_ignore, upsert_add

# Entries by an office's link, one counter per source (conversations/person/entry.py);
# the pilot report reads them (storage/operations/report.py).
DEEP_LINK = "deep_link"  # a plain `jc_<office>` link
POSTER_TELEGRAM = "poster_telegram"  # the Telegram code on a `firststep poster`
POSTER_WEB = "poster_web"  # the web chat code on it


async def claim_update(database: Database, update_id: int, now: datetime) -> bool:
    """Record the update id; False when it was handled before (a redelivery)."""
    async with database.transaction() as connection:
        return await claim_in(connection, update_id, now)


async def claim_in(connection: AsyncConnection, update_id: int, now: datetime) -> bool:
    """Record the update id inside the caller's business transaction: the claim and the
    changes the update made commit together, or neither does. False on a redelivery."""
    return await insert_ignore(
        connection, ProcessedUpdate, {"update_id": update_id, "processed_at": now}
    )


async def claim_update_from(
    database: Database, ring: KeyRing, telegram_id: int, update_id: int, now: datetime
) -> bool:
    """Record the update id of someone we know; False when it was handled before.

    For someone we don't know (no person, no mentor under their pseudonym) nothing is
    written: nothing at all is kept before a person accepts the privacy notice. Their
    updates are deduplicated in memory by the guard, and the transaction that registers
    them records the update with `mark_processed`.
    """
    people = [value for _, value in pseudonym_candidates(ring, Role.USER, telegram_id)]
    mentors = [value for _, value in pseudonym_candidates(ring, Role.MENTOR, telegram_id)]
    known = union_all(
        select(Person.id).where(Person.pseudonym.in_(people)),
        select(Mentor.id).where(Mentor.pseudonym.in_(mentors)),
    ).limit(1)
    async with database.transaction() as connection:
        if (await connection.execute(known)).first() is None:
            return True
        return await insert_ignore(
            connection, ProcessedUpdate, {"update_id": update_id, "processed_at": now}
        )


async def mark_processed(connection: AsyncConnection, update_id: int, now: datetime) -> None:
    """Record an update id inside the caller's transaction (the one that registers someone)."""
    await insert_ignore(connection, ProcessedUpdate, {"update_id": update_id, "processed_at": now})


async def record_event(
    connection: AsyncConnection, event: str, now: datetime, office_id: str = ""
) -> None:
    """Count an event inside the caller's business transaction."""
    await upsert_add(
        connection, EventCount, {"day": now.date(), "event": event, "office_id": office_id}, "count"
    )
