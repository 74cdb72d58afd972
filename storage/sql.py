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


# Built once per dialect and table: constructing a statement costs more than running it
# on SQLite, and these run on every update (the values come as parameters).
_INSERT_IGNORE: dict[tuple[str, str], Any] = {}


async def insert_ignore(
    connection: AsyncConnection, table: Table, values: Mapping[str, Any]
) -> bool:
    """INSERT unless the key exists; True when this call inserted the row."""
    key = (connection.dialect.name, table.fullname)
    statement = _INSERT_IGNORE.get(key)
    if statement is None:
        statement = _INSERT_IGNORE[key] = _insert(connection, table).on_conflict_do_nothing()
    result = await connection.execute(statement, dict(values))
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
