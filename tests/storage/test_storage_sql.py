"""The portable statements in storage/sql.py are built once and reused: every call must
still write its own values (a value baked into the kept statement would repeat)."""

from __future__ import annotations

from datetime import UTC, date, datetime

from sqlalchemy import select

from storage.db import Database
from storage.models import EventCount, OperatorNote, ProcessedUpdate
from storage.sql import insert_ignore, upsert, upsert_add

NOW = datetime(2026, 5, 1, 12, 0, tzinfo=UTC)


async def counts(database: Database) -> dict[tuple[date, str, str], int]:
    async with database.read() as connection:
        rows = (
            await connection.execute(
                select(EventCount.day, EventCount.event, EventCount.office_id, EventCount.count)
            )
        ).all()
    return {(day, event, office): count for day, event, office, count in rows}


async def test_upsert_add_adds_each_calls_own_amount_to_its_own_row(database: Database) -> None:
    day, other_day = date(2026, 5, 1), date(2026, 5, 2)
    async with database.transaction() as connection:
        await upsert_add(
            connection, EventCount, {"day": day, "event": "a", "office_id": ""}, "count"
        )
        await upsert_add(
            connection, EventCount, {"day": day, "event": "a", "office_id": ""}, "count", 5
        )
        await upsert_add(
            connection, EventCount, {"day": other_day, "event": "b", "office_id": "x"}, "count", 2
        )
    async with database.transaction() as connection:
        await upsert_add(
            connection, EventCount, {"day": day, "event": "a", "office_id": ""}, "count", 3
        )
    assert await counts(database) == {(day, "a", ""): 9, (other_day, "b", "x"): 2}


async def test_upsert_inserts_then_replaces_only_the_named_columns(database: Database) -> None:
    async with database.transaction() as connection:
        await upsert(
            connection, OperatorNote, {"name": "one", "value": "first"}, ["name"], ["value"]
        )
        await upsert(
            connection, OperatorNote, {"name": "two", "value": "second"}, ["name"], ["value"]
        )
        await upsert(
            connection, OperatorNote, {"name": "one", "value": "third"}, ["name"], ["value"]
        )
    async with database.read() as connection:
        rows = (
            await connection.execute(
                select(OperatorNote.name, OperatorNote.value).order_by(OperatorNote.name)
            )
        ).all()
    assert [(row.name, row.value) for row in rows] == [("one", "third"), ("two", "second")]


async def test_insert_ignore_says_which_call_inserted(database: Database) -> None:
    async with database.transaction() as connection:
        assert await insert_ignore(
            connection, ProcessedUpdate, {"update_id": 1, "processed_at": NOW}
        )
        assert await insert_ignore(
            connection, ProcessedUpdate, {"update_id": 2, "processed_at": NOW}
        )
        assert not await insert_ignore(
            connection, ProcessedUpdate, {"update_id": 1, "processed_at": NOW}
        )
    async with database.read() as connection:
        ids = (await connection.execute(select(ProcessedUpdate.update_id))).scalars().all()
    assert sorted(ids) == [1, 2]
