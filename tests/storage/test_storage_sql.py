"""The portable statements in storage/sql.py are built once and reused: every call must
still write its own values (a value baked into the kept statement would repeat)."""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import cast

from sqlalchemy import Table, select

from storage.db import Database
from storage.models import EventCount, OperatorNote, ProcessedUpdate
from storage.sql import insert_ignore, upsert, upsert_add

COUNTS = cast(Table, EventCount.__table__)
NOTES = cast(Table, OperatorNote.__table__)
PROCESSED = cast(Table, ProcessedUpdate.__table__)
NOW = datetime(2026, 5, 1, 12, 0, tzinfo=UTC)


async def counts(database: Database) -> dict[tuple[date, str, str], int]:
    async with database.read() as connection:
        rows = (await connection.execute(select(COUNTS))).all()
    return {(day, event, office): count for day, event, office, count in rows}


async def test_upsert_add_adds_each_calls_own_amount_to_its_own_row(database: Database) -> None:
    day, other_day = date(2026, 5, 1), date(2026, 5, 2)
    async with database.transaction() as connection:
        await upsert_add(connection, COUNTS, {"day": day, "event": "a", "office_id": ""}, "count")
        await upsert_add(
            connection, COUNTS, {"day": day, "event": "a", "office_id": ""}, "count", 5
        )
        await upsert_add(
            connection, COUNTS, {"day": other_day, "event": "b", "office_id": "x"}, "count", 2
        )
    async with database.transaction() as connection:
        await upsert_add(
            connection, COUNTS, {"day": day, "event": "a", "office_id": ""}, "count", 3
        )
    assert await counts(database) == {(day, "a", ""): 9, (other_day, "b", "x"): 2}


async def test_upsert_inserts_then_replaces_only_the_named_columns(database: Database) -> None:
    async with database.transaction() as connection:
        await upsert(connection, NOTES, {"name": "one", "value": "first"}, ["name"], ["value"])
        await upsert(connection, NOTES, {"name": "two", "value": "second"}, ["name"], ["value"])
        await upsert(connection, NOTES, {"name": "one", "value": "third"}, ["name"], ["value"])
    async with database.read() as connection:
        rows = (await connection.execute(select(NOTES).order_by(NOTES.c.name))).all()
    assert [(row.name, row.value) for row in rows] == [("one", "third"), ("two", "second")]


async def test_insert_ignore_says_which_call_inserted(database: Database) -> None:
    async with database.transaction() as connection:
        assert await insert_ignore(connection, PROCESSED, {"update_id": 1, "processed_at": NOW})
        assert await insert_ignore(connection, PROCESSED, {"update_id": 2, "processed_at": NOW})
        assert not await insert_ignore(connection, PROCESSED, {"update_id": 1, "processed_at": NOW})
    async with database.read() as connection:
        ids = (await connection.execute(select(PROCESSED.c.update_id))).scalars().all()
    assert sorted(ids) == [1, 2]
