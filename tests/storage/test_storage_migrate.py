"""Migrations are all or nothing: a migration that fails or is killed half-way leaves
the database at the revision before it, with no table or column of it left behind.

The migration under test is a copy of the real scripts folder plus one extra script
that creates a table, adds a column (a batch table rebuild on SQLite) and writes a row,
then fails: by raising, or by SIGKILL of its own process. The broken variant runs the
same script over an SQLite engine without storage.db's explicit BEGIN (pysqlite's own
transaction handling, where DDL commits itself) and must leave the table behind.
"""

from __future__ import annotations

import asyncio
import os
import shutil
import signal
import sys
from pathlib import Path

import pytest
from sqlalchemy import inspect
from sqlalchemy.engine import Connection
from sqlalchemy.ext.asyncio import create_async_engine

from storage.db import Database
from storage.migrate import MIGRATIONS, current_revision, upgrade

ROOT = Path(__file__).resolve().parents[2]
HEAD = "0005"

HALF_DONE = '''"""a migration that fails half-way (test only)

Revision ID: 0099
Revises: {head}
"""

import os
import signal

import sqlalchemy as sa
from alembic import op

revision = "0099"
down_revision = "{head}"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table("half_done", sa.Column("id", sa.Integer, primary_key=True))
    op.execute("INSERT INTO half_done (id) VALUES (1)")
    with op.batch_alter_table("referrals") as batch:
        batch.add_column(sa.Column("half_done", sa.Integer, nullable=True))
    if {kill}:
        os.kill(os.getpid(), signal.SIGKILL)
    raise RuntimeError("half-way")


def downgrade() -> None:
    pass
'''

Snapshot = tuple[str | None, dict[str, list[str]]]


def scripts_with_a_failing_migration(tmp_path: Path, *, kill: bool) -> Path:
    folder = tmp_path / "migrations"
    shutil.copytree(MIGRATIONS, folder, ignore=shutil.ignore_patterns("__pycache__"))
    script = HALF_DONE.format(head=HEAD, kill=kill)
    (folder / "versions" / "0099_half_done.py").write_text(script)
    return folder


async def snapshot(database: Database) -> Snapshot:
    """The revision and every table's columns in the default schema."""

    def tables(connection: Connection) -> dict[str, list[str]]:
        inspector = inspect(connection)
        return {
            name: sorted(column["name"] for column in inspector.get_columns(name))
            for name in sorted(inspector.get_table_names())
        }

    async with database.engine.connect() as connection:
        columns = await connection.run_sync(tables)
    return await current_revision(database), columns


def assert_unchanged(before: Snapshot, after: Snapshot) -> None:
    assert before[0] == HEAD
    assert after[0] == before[0], "the revision moved although the migration failed"
    leftovers = set(after[1]) - set(before[1])
    assert not leftovers, f"tables of a failed migration were left behind: {leftovers}"
    assert after[1] == before[1], "columns of a failed migration were left behind"


async def test_a_migration_that_raises_half_way_leaves_the_previous_revision(
    database: Database, tmp_path: Path
) -> None:
    before = await snapshot(database)
    scripts = scripts_with_a_failing_migration(tmp_path, kill=False)
    with pytest.raises(RuntimeError, match="half-way"):
        await upgrade(database, migrations=scripts)
    assert_unchanged(before, await snapshot(database))
    await upgrade(database)  # and the service still starts on it
    assert await current_revision(database) == HEAD


async def test_a_migration_killed_half_way_leaves_the_previous_revision(
    database: Database, database_url: str, tmp_path: Path
) -> None:
    """`firststep run` migrates at start-up: SIGKILL in the middle of a migration."""
    before = await snapshot(database)
    scripts = scripts_with_a_failing_migration(tmp_path, kill=True)
    code = (
        "import asyncio, sys\n"
        "from pathlib import Path\n"
        "from storage.db import Database\n"
        "from storage.migrate import upgrade\n"
        "asyncio.run(upgrade(Database.from_url(sys.argv[1]), migrations=Path(sys.argv[2])))\n"
    )
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    process = await asyncio.create_subprocess_exec(
        sys.executable, "-c", code, database_url, str(scripts), env=env, cwd=tmp_path
    )
    assert await asyncio.wait_for(process.wait(), 120) == -signal.SIGKILL
    assert_unchanged(before, await snapshot(database))
    if database.is_sqlite:
        async with database.engine.connect() as connection:
            check = (await connection.exec_driver_sql("PRAGMA integrity_check")).scalar()
        assert check == "ok"


async def test_the_same_test_catches_ddl_that_commits_itself(tmp_path: Path) -> None:
    """Broken variant: pysqlite's default transaction handling (no explicit BEGIN, so
    each CREATE/ALTER commits on its own) half-applies the migration, and the check
    above says so."""
    url = f"sqlite+aiosqlite:///{tmp_path / 'firststep.db'}"
    database = Database.from_url(url)
    await upgrade(database)
    before = await snapshot(database)
    plain = Database(create_async_engine(url))
    scripts = scripts_with_a_failing_migration(tmp_path, kill=False)
    try:
        with pytest.raises(RuntimeError, match="half-way"):
            await upgrade(plain, migrations=scripts)
    finally:
        await plain.dispose()
    with pytest.raises(AssertionError, match="left behind"):
        assert_unchanged(before, await snapshot(database))
    await database.dispose()


async def test_several_processes_may_migrate_an_empty_database_at_once(
    database_url: str,
) -> None:
    """Four engines (as four `firststep run` would have) upgrade an empty database at
    the same moment: each waits for the migration lock, and all end at head. Without
    the lock, PostgreSQL's racers collide creating the same tables."""
    engines = [Database.from_url(database_url) for _ in range(4)]
    try:
        # Without the lock the racers can also wait on each other's uncommitted tables:
        # a hang is a failure too.
        results = await asyncio.wait_for(
            asyncio.gather(*(upgrade(database) for database in engines), return_exceptions=True),
            60,
        )
        failures = [type(result).__name__ for result in results if result is not None]
        assert failures == [], failures
        for database in engines:
            assert await current_revision(database) == HEAD
    finally:
        for database in engines:
            await database.dispose()
