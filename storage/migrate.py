"""Schema changes through Alembic: `firststep db upgrade`, also run by `firststep run`."""

from __future__ import annotations

from pathlib import Path

from alembic import command
from alembic.config import Config
from sqlalchemy.engine import Connection

from storage.db import Database
from storage.models import KEYSTORE_SCHEMA

MIGRATIONS = Path(__file__).parent / "migrations"


def include_name(name: str | None, type_: str, parent_names: object) -> bool:
    """Alembic sees only our two schemas: the default one and the key store."""
    if type_ == "schema":
        return name in (None, KEYSTORE_SCHEMA)
    return True


def alembic_config(connection: Connection | None = None, url: str = "") -> Config:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    config.set_main_option("sqlalchemy.url", url)
    if connection is not None:
        config.attributes["connection"] = connection
    return config


async def upgrade(database: Database, revision: str = "head") -> None:
    """Bring the schema to `revision` inside one transaction."""

    def _upgrade(connection: Connection) -> None:
        command.upgrade(alembic_config(connection), revision)

    async with database.engine.begin() as connection:
        await connection.run_sync(_upgrade)


async def current_revision(database: Database) -> str | None:
    from alembic.runtime.migration import MigrationContext

    def _current(connection: Connection) -> str | None:
        return MigrationContext.configure(connection).get_current_revision()

    async with database.engine.connect() as connection:
        return await connection.run_sync(_current)
