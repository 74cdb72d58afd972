"""Shared fixtures: real SQLite files (and the local PostgreSQL when
FIRSTSTEP_TEST_DATABASE_URL is set), real key rings, the real Application."""

from __future__ import annotations

import os
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from sqlalchemy import text
from sqlalchemy.ext.asyncio import create_async_engine

from storage.crypto import KeyRing
from storage.db import Database
from storage.migrate import upgrade
from tests.support.harness import Harness

PG_URL = os.environ.get("FIRSTSTEP_TEST_DATABASE_URL", "")
ENGINES = ["sqlite", "postgresql"] if PG_URL else ["sqlite"]


async def reset_postgres(url: str) -> None:
    """A clean public schema, so every test starts from an empty database."""
    engine = create_async_engine(url)
    async with engine.begin() as connection:
        await connection.execute(text("DROP SCHEMA IF EXISTS keystore CASCADE"))
        await connection.execute(text("DROP SCHEMA IF EXISTS public CASCADE"))
        await connection.execute(text("CREATE SCHEMA public"))
    await engine.dispose()


@pytest.fixture(params=ENGINES)
async def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    if request.param == "postgresql":
        await reset_postgres(PG_URL)
        return PG_URL
    return f"sqlite+aiosqlite:///{tmp_path / 'firststep.db'}"


@pytest.fixture
async def database(database_url: str) -> AsyncIterator[Database]:
    db = Database.from_url(database_url)
    await db.verify()
    await upgrade(db)
    yield db
    await db.dispose()


@pytest.fixture
def ring() -> KeyRing:
    return KeyRing.generate()


@pytest.fixture
def keyring_file(tmp_path: Path, ring: KeyRing) -> Path:
    path = tmp_path / "keys" / "keyring.json"
    ring.save(path)
    return path


@pytest.fixture
async def harness(database_url: str, ring: KeyRing, tmp_path: Path) -> AsyncIterator[Harness]:
    """The real bot, running, against the emulator and a fresh database."""
    running = Harness(database_url, ring, tmp_path)
    await running.start()
    yield running
    await running.stop()
