"""A PostgreSQL database of the bench's own, so it never touches anyone else's.

`bench_database` creates a database with a name no one else has (`firststep_bench_` and
random hex), yields its URL, and drops that database, and only that one, when the run
ends, even after a failure. Every run starts from nothing and runs the migrations like a
first start; a database another run or a person is using is never emptied.
"""

from __future__ import annotations

import secrets
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from sqlalchemy import text
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import create_async_engine

DEFAULT_SERVER = "postgresql+asyncpg://postgres@127.0.0.1:5432/postgres"
BENCH_PREFIX = "firststep_bench_"


def unique_name() -> str:
    """A database name this run alone uses (a valid unquoted identifier)."""
    return f"{BENCH_PREFIX}{secrets.token_hex(6)}"


@asynccontextmanager
async def bench_database(server_url: str = DEFAULT_SERVER) -> AsyncIterator[str]:
    """The URL of a new, empty database that is dropped again when the block ends."""
    name = unique_name()
    admin = create_async_engine(make_url(server_url), isolation_level="AUTOCOMMIT")
    try:
        async with admin.connect() as connection:
            await connection.execute(text(f'CREATE DATABASE "{name}"'))
        try:
            yield make_url(server_url).set(database=name).render_as_string(hide_password=False)
        finally:
            async with admin.connect() as connection:
                await connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    finally:
        await admin.dispose()


async def reachable(server_url: str = DEFAULT_SERVER) -> bool:
    """True when the server answers (the bench skips PostgreSQL, saying so, otherwise)."""
    engine = create_async_engine(make_url(server_url), connect_args={"timeout": 3})
    try:
        async with engine.connect() as connection:
            await connection.execute(text("SELECT 1"))
        return True
    except Exception:
        return False
    finally:
        await engine.dispose()
