"""Small portable statements that differ between SQLite and PostgreSQL.

Each is built once per dialect and shape, then kept: constructing a statement costs more
than running it on SQLite, and these run on most updates. The values always come as
parameters, so one built statement serves every call and SQLAlchemy's compiled cache is
hit. The shapes are fixed by the code (a handful of tables and columns), so the store
stays small.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Any

from sqlalchemy import inspect
from sqlalchemy.ext.asyncio import AsyncConnection

from storage.models import Base

Model = type[Base]

_BUILT: dict[tuple[Any, ...], Any] = {}


def _kept(key: tuple[Any, ...], build: Callable[[], Any]) -> Any:
    statement = _BUILT.get(key)
    if statement is None:
        statement = _BUILT[key] = build()
    return statement


def _insert(dialect: str, model: Model) -> Any:
    # Only the dialect in use is imported (once per statement, which is kept): PostgreSQL's
    # package loads every driver's dialect, a noticeable part of start-up on SQLite.
    if dialect == "postgresql":
        from sqlalchemy.dialects import postgresql

        return postgresql.insert(model)
    from sqlalchemy.dialects import sqlite

    return sqlite.insert(model)


def _upsert(dialect: str, model: Model, index: tuple[str, ...], replace: tuple[str, ...]) -> Any:
    statement = _insert(dialect, model)
    return statement.on_conflict_do_update(
        index_elements=list(index),
        set_={name: statement.excluded[name] for name in replace},
    )


def _upsert_add(dialect: str, model: Model, index: tuple[str, ...], column: str) -> Any:
    statement = _insert(dialect, model)
    return statement.on_conflict_do_update(
        index_elements=list(index),
        set_={column: inspect(model).columns[column] + statement.excluded[column]},
    )


async def insert_ignore(
    connection: AsyncConnection, model: Model, values: Mapping[str, Any]
) -> bool:
    """INSERT unless the key exists; True when this call inserted the row."""
    dialect = connection.dialect.name
    key = ("insert_ignore", dialect, model)
    statement = _kept(key, lambda: _insert(dialect, model).on_conflict_do_nothing())
    result = await connection.execute(statement, dict(values))
    return bool(result.rowcount == 1)


async def upsert(
    connection: AsyncConnection,
    model: Model,
    values: Mapping[str, Any],
    index: Sequence[str],
    replace: Sequence[str],
) -> None:
    """INSERT `values`, or on a clash over the `index` columns replace the `replace` ones."""
    dialect = connection.dialect.name
    key = ("upsert", dialect, model, tuple(index), tuple(replace))
    statement = _kept(key, lambda: _upsert(dialect, model, tuple(index), tuple(replace)))
    await connection.execute(statement, dict(values))


async def upsert_add(
    connection: AsyncConnection,
    model: Model,
    key: Mapping[str, Any],
    column: str,
    amount: int = 1,
) -> None:
    """INSERT key with `column = amount`, or add `amount` to the existing row."""
    dialect = connection.dialect.name
    index = tuple(key)
    built_key = ("upsert_add", dialect, model, index, column)
    statement = _kept(built_key, lambda: _upsert_add(dialect, model, index, column))
    await connection.execute(statement, {**key, column: amount})
