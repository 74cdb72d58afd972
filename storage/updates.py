"""Inbound deduplication and aggregate counters: small writes every update may make."""

from __future__ import annotations

from datetime import datetime
from typing import cast

from sqlalchemy import Table
from sqlalchemy.ext.asyncio import AsyncConnection

from storage.db import Database
from storage.models import EventCount, ProcessedUpdate
from storage.sql import insert_ignore, upsert_add

PROCESSED = cast(Table, ProcessedUpdate.__table__)
COUNTS = cast(Table, EventCount.__table__)


async def claim_update(database: Database, update_id: int, now: datetime) -> bool:
    """Record the update id; False when it was handled before (a redelivery)."""
    async with database.transaction() as connection:
        return await claim_in(connection, update_id, now)


async def claim_in(connection: AsyncConnection, update_id: int, now: datetime) -> bool:
    """Record the update id inside the caller's business transaction: the claim and the
    changes the update made commit together, or neither does. False on a redelivery."""
    return await insert_ignore(connection, PROCESSED, {"update_id": update_id, "processed_at": now})


async def count_event(database: Database, event: str, now: datetime, office_id: str = "") -> None:
    """Add one to today's counter for an event (never linked to a person)."""
    async with database.transaction() as connection:
        await upsert_add(
            connection, COUNTS, {"day": now.date(), "event": event, "office_id": office_id}, "count"
        )


async def record_event(
    connection: AsyncConnection, event: str, now: datetime, office_id: str = ""
) -> None:
    """Count an event inside the caller's business transaction."""
    await upsert_add(
        connection, COUNTS, {"day": now.date(), "event": event, "office_id": office_id}, "count"
    )
