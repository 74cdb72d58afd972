"""Small portable statements that differ between SQLite and PostgreSQL."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from sqlalchemy import Table
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncConnection


def _insert(connection: AsyncConnection, table: Table) -> Any:
    if connection.dialect.name == "postgresql":
        return postgresql.insert(table)
    return sqlite.insert(table)


async def insert_ignore(
    connection: AsyncConnection, table: Table, values: Mapping[str, Any]
) -> bool:
    """INSERT unless the key exists; True when this call inserted the row."""
    statement = _insert(connection, table).values(**values).on_conflict_do_nothing()
    result = await connection.execute(statement)
    return bool(result.rowcount == 1)


async def upsert_add(
    connection: AsyncConnection,
    table: Table,
    key: Mapping[str, Any],
    column: str,
    amount: int = 1,
) -> None:
    """INSERT key with `column = amount`, or add `amount` to the existing row."""
    statement = _insert(connection, table).values(**key, **{column: amount})
    index: Sequence[str] = list(key)
    statement = statement.on_conflict_do_update(
        index_elements=index,
        set_={column: table.c[column] + amount},
    )
    await connection.execute(statement)
