"""The database layer: durability settings, migrations that match the models."""

from __future__ import annotations

from pathlib import Path

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy.engine import Connection
from sqlalchemy.ext.asyncio import create_async_engine

from storage.db import Database, DatabaseError
from storage.migrate import include_name
from storage.models import Base


async def test_migrations_match_models(database: Database) -> None:
    def diff(connection: Connection) -> list[object]:
        context = MigrationContext.configure(
            connection,
            opts={"compare_type": True, "include_schemas": True, "include_name": include_name},
        )
        return list(compare_metadata(context, Base.metadata))

    async with database.engine.connect() as connection:
        assert await connection.run_sync(diff) == []


async def test_sqlite_durability_is_read_back(tmp_path: Path) -> None:
    database = Database.from_url(f"sqlite+aiosqlite:///{tmp_path / 'ok.db'}")
    await database.verify()
    async with database.engine.connect() as connection:
        journal = (await connection.exec_driver_sql("PRAGMA journal_mode")).scalar()
        synchronous = (await connection.exec_driver_sql("PRAGMA synchronous")).scalar()
        foreign_keys = (await connection.exec_driver_sql("PRAGMA foreign_keys")).scalar()
    assert (journal, synchronous, foreign_keys) == ("wal", 2, 1)
    await database.dispose()


async def test_sqlite_without_durability_settings_is_refused(tmp_path: Path) -> None:
    plain = Database(create_async_engine(f"sqlite+aiosqlite:///{tmp_path / 'plain.db'}"))
    with pytest.raises(DatabaseError, match="WAL"):
        await plain.verify()
    await plain.dispose()
