"""A PostgreSQL database of the bench's own, so it never collides with the test suite.

`fresh_database` creates `firststep_bench` on the server when missing and empties its
schemas, so every run starts from nothing and runs the migrations like a first start.
"""

from __future__ import annotations

from sqlalchemy import text
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import create_async_engine

DEFAULT_SERVER = "postgresql+asyncpg://postgres@127.0.0.1:5432/postgres"
BENCH_DATABASE = "firststep_bench"


async def fresh_database(server_url: str = DEFAULT_SERVER, name: str = BENCH_DATABASE) -> str:
    """The URL of an empty `name` database on the server (created when missing)."""
    admin = create_async_engine(make_url(server_url), isolation_level="AUTOCOMMIT")
    try:
        async with admin.connect() as connection:
            exists = (
                await connection.execute(
                    text("SELECT 1 FROM pg_database WHERE datname = :name"), {"name": name}
                )
            ).first()
            if exists is None:
                await connection.execute(text(f'CREATE DATABASE "{name}"'))
    finally:
        await admin.dispose()
    url = make_url(server_url).set(database=name)
    engine = create_async_engine(url)
    try:
        async with engine.begin() as connection:
            await connection.execute(text("DROP SCHEMA IF EXISTS keystore CASCADE"))
            await connection.execute(text("DROP SCHEMA IF EXISTS public CASCADE"))
            await connection.execute(text("CREATE SCHEMA public"))
    finally:
        await engine.dispose()
    return url.render_as_string(hide_password=False)


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
