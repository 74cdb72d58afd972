"""`make bench` on PostgreSQL uses a database of its own and drops only that (issue 15, 8).

The old bench emptied the schemas of a fixed `firststep_bench` database, whoever else was
using it. Here a table another run keeps in `firststep_bench` must survive a bench run,
and the bench's own database must exist while it runs and be gone afterwards.
"""

from __future__ import annotations

import uuid

import pytest
from sqlalchemy import text
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import create_async_engine

from bench import postgres
from tests.conftest import PG_URL

needs_postgres = pytest.mark.skipif(not PG_URL, reason="needs FIRSTSTEP_TEST_DATABASE_URL")


def server_url() -> str:
    return make_url(PG_URL).set(database="postgres").render_as_string(hide_password=False)


async def database_names() -> set[str]:
    engine = create_async_engine(server_url())
    try:
        async with engine.connect() as connection:
            rows = await connection.execute(text("SELECT datname FROM pg_database"))
            return {row[0] for row in rows}
    finally:
        await engine.dispose()


async def ensure_database(name: str) -> None:
    engine = create_async_engine(server_url(), isolation_level="AUTOCOMMIT")
    try:
        async with engine.connect() as connection:
            found = await connection.execute(
                text("SELECT 1 FROM pg_database WHERE datname = :n"), {"n": name}
            )
            if found.first() is None:
                await connection.execute(text(f'CREATE DATABASE "{name}"'))
    finally:
        await engine.dispose()


@needs_postgres
async def test_bench_leaves_other_databases_alone_and_drops_its_own() -> None:
    shared = "firststep_bench"
    await ensure_database(shared)
    table = f"someone_else_{uuid.uuid4().hex[:8]}"
    other = create_async_engine(make_url(PG_URL).set(database=shared))
    try:
        async with other.begin() as connection:
            await connection.execute(text(f"CREATE TABLE public.{table} (n int)"))
            await connection.execute(text(f"INSERT INTO public.{table} VALUES (7)"))  # noqa: S608
        before = await database_names()
        async with postgres.bench_database(server_url()) as url:
            own = make_url(url).database
            assert own is not None and own.startswith(postgres.BENCH_PREFIX)
            assert own not in before and own in await database_names()
            bench = create_async_engine(url)
            try:
                async with bench.begin() as connection:
                    await connection.execute(text("CREATE TABLE scratch (n int)"))
            finally:
                await bench.dispose()
        assert await database_names() == before, "the bench dropped its own database only"
        async with other.connect() as connection:
            kept = await connection.execute(text(f"SELECT n FROM public.{table}"))  # noqa: S608
            assert kept.scalar_one() == 7
    finally:
        async with other.begin() as connection:
            await connection.execute(text(f"DROP TABLE IF EXISTS public.{table}"))
        await other.dispose()


async def test_two_bench_runs_never_share_a_name() -> None:
    assert len({postgres.unique_name() for _ in range(50)}) == 50
