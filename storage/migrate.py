"""Schema changes through Alembic: `firststep db upgrade`, also run by `firststep run`.

Alembic is imported only when there is something to upgrade: it is about a tenth of the
bot's start-up (issue 16), and a schema already at `HEAD_REVISION` needs none of it.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from sqlalchemy import inspect, text
from sqlalchemy.engine import Connection

from storage.db import Database
from storage.models import KEYSTORE_SCHEMA

if TYPE_CHECKING:
    from alembic.config import Config

MIGRATIONS = Path(__file__).parent / "migrations"
# The newest migration script's revision. A new script moves it on; a test compares it
# with Alembic's own head (tests/storage/test_storage_migrate.py), so it cannot drift.
HEAD_REVISION = "0005"

# The PostgreSQL advisory lock every process takes to migrate (an arbitrary, fixed key:
# the bytes of "1stStep!" as a signed 64-bit number).
MIGRATION_LOCK = int.from_bytes(b"1stStep!", "big", signed=True)


def include_name(name: str | None, type_: str, parent_names: object) -> bool:
    """Alembic sees only our two schemas: the default one and the key store."""
    if type_ == "schema":
        return name in (None, KEYSTORE_SCHEMA)
    return True


def alembic_config(
    connection: Connection | None = None, url: str = "", migrations: Path = MIGRATIONS
) -> Config:
    from alembic.config import Config

    config = Config()
    config.set_main_option("script_location", str(migrations))
    config.set_main_option("sqlalchemy.url", url)
    if connection is not None:
        config.attributes["connection"] = connection
    return config


async def upgrade(
    database: Database, revision: str = "head", *, migrations: Path = MIGRATIONS
) -> None:
    """Bring the schema to `revision` inside one transaction, so a failure or a kill
    half-way leaves the schema (and alembic_version) exactly as it was.

    On SQLite this holds because `Database` starts every transaction with an explicit
    BEGIN IMMEDIATE on a connection whose pysqlite isolation_level is None: DDL then
    belongs to the transaction instead of being committed on its own (pysqlite's default
    runs DDL outside any transaction, and Alembic assumes SQLite DDL is not
    transactional). On SQLite one transaction for the whole upgrade also makes two
    processes that start at once take turns: the second finds the schema current.
    `migrations` is the scripts folder (tests point it at a copy with extra scripts).
    """

    from alembic import command

    def _upgrade(connection: Connection) -> None:
        command.upgrade(alembic_config(connection, migrations=migrations), revision)

    async with database.engine.begin() as connection:
        if not database.is_sqlite:
            # Any number of processes may start at once (several `firststep run` behind
            # one proxy): each waits here for the one migrating, then finds the schema
            # current. Held until this transaction ends, so a killed process frees it.
            # On SQLite, BEGIN IMMEDIATE (above) is that lock: the write lock.
            await connection.execute(
                text("SELECT pg_advisory_xact_lock(:key)"), {"key": MIGRATION_LOCK}
            )
        await connection.run_sync(_upgrade)


async def current_revision(database: Database) -> str | None:
    from alembic.runtime.migration import MigrationContext

    def _current(connection: Connection) -> str | None:
        return MigrationContext.configure(connection).get_current_revision()

    async with database.engine.connect() as connection:
        return await connection.run_sync(_current)


def _recorded_revision(connection: Connection) -> str | None:
    if not inspect(connection).has_table("alembic_version"):
        return None
    return connection.execute(text("SELECT version_num FROM alembic_version")).scalar()


async def upgrade_if_behind(database: Database) -> bool:
    """`upgrade(database)` unless the schema already is at `HEAD_REVISION` (then Alembic is
    not even imported); whether it upgraded. A schema newer than this code is left to
    `Database.verify` and `upgrade` to refuse, as before."""
    async with database.engine.connect() as connection:
        recorded = await connection.run_sync(_recorded_revision)
    if recorded == HEAD_REVISION:
        return False
    await upgrade(database)
    return True
