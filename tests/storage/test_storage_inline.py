"""How SQLite calls are run: inline on the event loop, one connection, reads without a
write lock. Each property is checked against a deliberately broken engine too, so the
checks are shown to be able to fail."""

from __future__ import annotations

import asyncio
import sqlite3
import threading
from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Row, event, literal_column, select, table, text
from sqlalchemy.exc import OperationalError
from sqlalchemy.ext.asyncio import create_async_engine

from storage.db import Database, _configure_sqlite, _inline_creator, keystore_path


def sqlite_url(tmp_path: Path, name: str = "inline.db") -> str:
    return f"sqlite+aiosqlite:///{tmp_path / name}"


def threaded(url: str, tmp_path: Path, name: str = "inline.db") -> Database:
    """The broken variant: aiosqlite as it comes (a thread per connection, a pool of five)."""
    engine = create_async_engine(url)
    _configure_sqlite(engine, keystore_path(tmp_path / name))
    return Database(engine)


@pytest.fixture
async def inline(tmp_path: Path) -> AsyncIterator[Database]:
    database = Database.from_url(sqlite_url(tmp_path))
    async with database.transaction() as connection:
        await connection.execute(text("CREATE TABLE notes (n INTEGER)"))
    yield database
    await database.dispose()


def where_sqlite_runs(database: Database) -> None:
    """An SQL function that answers with the id of the thread that runs it."""

    @event.listens_for(database.engine.sync_engine, "connect")
    def _register(dbapi_connection: Any, _record: Any) -> None:
        dbapi_connection.create_function("thread_id", 0, threading.get_ident)


async def thread_running_sqlite(database: Database) -> int:
    async with database.transaction() as connection:
        return int((await connection.execute(text("SELECT thread_id()"))).scalar_one())


async def test_sqlite_runs_on_the_loop_thread_and_starts_no_thread(tmp_path: Path) -> None:
    before = threading.active_count()
    database = Database.from_url(sqlite_url(tmp_path))
    where_sqlite_runs(database)
    try:
        assert await thread_running_sqlite(database) == threading.get_ident()
        assert threading.active_count() == before
    finally:
        await database.dispose()


async def test_the_check_fails_for_aiosqlite_with_its_thread(tmp_path: Path) -> None:
    database = threaded(sqlite_url(tmp_path), tmp_path)
    where_sqlite_runs(database)
    try:
        assert await thread_running_sqlite(database) != threading.get_ident()
    finally:
        await database.dispose()


async def test_errors_reach_the_caller_and_the_connection_stays_usable(inline: Database) -> None:
    with pytest.raises(OperationalError, match="no such table"):
        async with inline.transaction() as connection:
            await connection.execute(text("SELECT * FROM missing"))
    async with inline.transaction() as connection:
        await connection.execute(text("INSERT INTO notes VALUES (1)"))
    async with inline.read() as connection:
        assert (await connection.execute(text("SELECT count(*) FROM notes"))).scalar() == 1


def other_writer(path: Path) -> None:
    """Another process's write, refused at once if anyone holds the write lock."""
    writer = sqlite3.connect(path, timeout=0, isolation_level=None)
    try:
        writer.execute("BEGIN IMMEDIATE")
        writer.execute("INSERT INTO notes VALUES (2)")
        writer.execute("COMMIT")
    finally:
        writer.close()


async def test_a_read_takes_no_write_lock(inline: Database, tmp_path: Path) -> None:
    async with inline.read() as connection:
        await connection.execute(text("SELECT count(*) FROM notes"))
        other_writer(tmp_path / "inline.db")  # not locked out
    # The broken variant: the same look inside a write transaction locks the writer out.
    async with inline.transaction() as connection:
        await connection.execute(text("SELECT count(*) FROM notes"))
        with pytest.raises(sqlite3.OperationalError, match="locked"):
            other_writer(tmp_path / "inline.db")


async def test_a_read_keeps_nothing_it_did(inline: Database) -> None:
    async with inline.read() as connection:
        await connection.execute(text("INSERT INTO notes VALUES (3)"))
    async with inline.read() as connection:
        assert (await connection.execute(text("SELECT count(*) FROM notes"))).scalar() == 0


async def overlapping_writers(database: Database) -> list[str]:
    """Two tasks write at once; the first yields to the loop while it holds its transaction."""
    order: list[str] = []
    first_inside = asyncio.Event()

    async def first() -> None:
        async with database.transaction() as connection:
            await connection.execute(text("INSERT INTO notes VALUES (1)"))
            first_inside.set()
            await asyncio.sleep(0.05)  # e.g. waiting on something else mid-transaction
            order.append("first")

    async def second() -> None:
        await first_inside.wait()
        async with database.transaction() as connection:
            await connection.execute(text("INSERT INTO notes VALUES (2)"))
            order.append("second")

    await asyncio.gather(first(), second())
    return order


async def test_in_process_writers_wait_their_turn_on_the_pool(inline: Database) -> None:
    assert await asyncio.wait_for(overlapping_writers(inline), timeout=5) == ["first", "second"]
    async with inline.read() as connection:
        assert (await connection.execute(text("SELECT count(*) FROM notes"))).scalar() == 2


async def test_the_turn_taking_check_fails_with_a_larger_pool(tmp_path: Path) -> None:
    """With two pooled connections, the second writer's BEGIN IMMEDIATE would wait on the
    lock inside the loop, so the first can never finish: SQLite gives up as "locked"."""
    url = sqlite_url(tmp_path, "pooled.db")
    engine = create_async_engine(
        url, async_creator=_inline_creator(lambda: engine), pool_size=2, max_overflow=0
    )
    _configure_sqlite(engine, keystore_path(tmp_path / "pooled.db"))

    @event.listens_for(engine.sync_engine, "connect")
    def _short_wait(dbapi_connection: Any, _record: Any) -> None:
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA busy_timeout=200")
        cursor.close()

    database = Database(engine)
    try:
        async with database.transaction() as connection:
            await connection.execute(text("CREATE TABLE notes (n INTEGER)"))
        with pytest.raises(OperationalError, match="locked"):
            await asyncio.wait_for(overlapping_writers(database), timeout=5)
    finally:
        await database.dispose()


async def loop_turns_during(work: Callable[[], Awaitable[None]]) -> int:
    """How many turns the event loop got while `work` ran (a callback that re-arms
    itself counts them)."""
    loop = asyncio.get_running_loop()
    turns = 0
    handle: asyncio.Handle

    def tick() -> None:
        nonlocal turns, handle
        turns += 1
        handle = loop.call_soon(tick)

    handle = loop.call_soon(tick)
    try:
        await work()
    finally:
        handle.cancel()
    return turns


async def test_a_transaction_and_a_read_give_the_loop_no_turn(inline: Database) -> None:
    async def one_update() -> None:
        async with inline.read() as connection:
            await connection.execute(text("SELECT count(*) FROM notes"))
        async with inline.transaction() as connection:
            await connection.execute(text("INSERT INTO notes VALUES (1)"))

    assert await loop_turns_during(one_update) == 0

    # The broken variant: SQLAlchemy's own context closes the connection in a task.
    async def sqlalchemy_way() -> None:
        async with inline.engine.begin() as connection:
            await connection.execute(text("INSERT INTO notes VALUES (2)"))

    assert await loop_turns_during(sqlalchemy_way) > 0


async def test_a_cancelled_update_gives_its_connection_back(inline: Database) -> None:
    """The pool holds one connection: one kept by a cancelled task would stall the bot."""
    inside = asyncio.Event()

    async def cancelled_midway() -> None:
        async with inline.transaction() as connection:
            await connection.execute(text("INSERT INTO notes VALUES (1)"))
            inside.set()
            await asyncio.sleep(10)

    task = asyncio.create_task(cancelled_midway())
    await inside.wait()
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    async with asyncio.timeout(2), inline.transaction() as connection:
        count = (await connection.execute(text("SELECT count(*) FROM notes"))).scalar_one()
    assert count == 0  # rolled back, and the connection is free again


async def test_a_look_is_one_statement_and_leaves_no_lock(inline: Database, tmp_path: Path) -> None:
    async with inline.transaction() as connection:
        await connection.execute(text("INSERT INTO notes VALUES (7)"))
    statements: list[str] = []

    def record(_conn: Any, _cursor: Any, statement: str, *_: Any) -> None:
        statements.append(statement)

    event.listen(inline.engine.sync_engine, "before_cursor_execute", record)
    rows: list[Row[Any]]
    try:
        rows = await inline.look(select(literal_column("n")).select_from(table("notes")), {})
    finally:
        event.remove(inline.engine.sync_engine, "before_cursor_execute", record)
    assert [row.n for row in rows] == [7]
    assert statements == ["SELECT n \nFROM notes"]  # no BEGIN before it
    other_writer(tmp_path / "inline.db")  # nothing left holding a lock
    # The broken variant: the same look through `read()` begins a transaction first.
    event.listen(inline.engine.sync_engine, "before_cursor_execute", record)
    try:
        async with inline.read() as connection:
            await connection.execute(text("SELECT n FROM notes"))
    finally:
        event.remove(inline.engine.sync_engine, "before_cursor_execute", record)
    assert statements[1:] == ["BEGIN", "SELECT n FROM notes"]
