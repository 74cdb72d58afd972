"""Engine and transactions: SQLite (WAL, synchronous=FULL, BEGIN IMMEDIATE) or PostgreSQL.

Nothing here knows about Telegram. Repositories ask for a transaction with
`Database.transaction()`; each business transaction is exactly one of those.
"""

from __future__ import annotations

import asyncio
import logging
import sqlite3
from collections.abc import AsyncIterator, Callable, Generator, Mapping, Sequence
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any, TypeAlias, TypeVarTuple

import aiosqlite
from sqlalchemy import Row, Select, event, text
from sqlalchemy.engine import make_url
from sqlalchemy.exc import DBAPIError
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine, create_async_engine
from sqlalchemy.pool import ConnectionPoolEntry

from storage.models import KEYSTORE_SCHEMA

SQLITE_BUSY_TIMEOUT_MS = 10_000
# How long a checkpoint after an erasure waits for another process's reader or writer:
# it runs on the event loop, so it must not stall the bot for the full busy timeout.
CHECKPOINT_BUSY_TIMEOUT_MS = 250
# SQLite queues nobody for its write lock: a process that finds it taken sleeps and tries
# again (the busy handler sleeps 1, 2, 5, ... then 100 ms between tries, for up to
# busy_timeout). A job committing batch after batch frees the lock only for the moment
# between its COMMIT and its next BEGIN IMMEDIATE, so a bot waiting on it almost never
# finds it free: it waits for the whole job, its event loop blocked (InlineSQLite), and
# after busy_timeout its step fails with "database is locked" (found by the C9 test of
# `keys rewrap`, issue 15). A batch job leaves the lock free this long after each batch:
# longer than the longest sleep between tries, so every waiter tries inside the gap.
SQLITE_BATCH_GAP_SECONDS = 0.15
# Execution option of `Database.read()` connections: SQLite begins them DEFERRED.
READ_ONLY = "firststep_read_only"
# Execution option for statements SQLite refuses inside a transaction (a checkpoint).
NO_TRANSACTION = "firststep_no_transaction"

log = logging.getLogger("firststep.storage")

# How long VACUUM FULL may wait for a table's lock before it leaves the table to the next
# purge (PostgreSQL's "lock_not_available" is what a lock_timeout raises).
VACUUM_LOCK_TIMEOUT_MS = 2000
LOCK_NOT_AVAILABLE = "55P03"

_Columns = TypeVarTuple("_Columns")

# One open business transaction, as repository functions take it. Above storage it is
# only handed on from one repository call to the next in the same unit of work: the
# conversations layer never runs a statement or begins a transaction itself
# (tests/storage/test_storage_layers.py).
Connection: TypeAlias = AsyncConnection


class DatabaseError(RuntimeError):
    """The database is not in the state the service needs; the message says what to fix."""


def _sqlite_path(url: str) -> Path | None:
    database = make_url(url).database
    if not database or database == ":memory:":
        return None
    return Path(database)


def keystore_path(main: Path) -> Path:
    """The key store's file beside the main SQLite file: `x.db` → `x.keystore.db`."""
    return main.with_name(f"{main.stem}.keystore{main.suffix or '.db'}")


class _RunAtOnce:
    """Stands in for the queue to aiosqlite's worker thread: runs each call on the spot
    and settles its future, so awaiting it never leaves the event loop."""

    def put_nowait(self, item: tuple[asyncio.Future[Any] | None, Callable[[], Any]]) -> None:
        future, function = item
        try:
            result = function()
        except BaseException as error:  # handed to the awaiting caller
            if future is None:
                raise
            future.set_exception(error)
        else:
            if future is not None:
                future.set_result(result)


class InlineSQLite(aiosqlite.Connection):
    """aiosqlite that runs each SQLite call on the event loop's own thread.

    Why: a statement or commit takes microseconds (a durable commit a few hundred), but
    handing each call to aiosqlite's thread and back costs about 70 µs, and SQLAlchemy
    makes three or four such calls per statement; measured in `bench/`, the hand-offs
    were half of the time every update took. The price is that a slow call blocks the
    loop: SQLite here only ever waits on its own disk, or on another process's write
    lock (busy_timeout), which the bot's one-connection pool and short transactions keep
    rare. aiosqlite's own API is unchanged (pinned in pyproject.toml: this relies on
    its `_tx` queue and on `__await__` starting the thread).
    """

    def __init__(self, connector: Callable[[], sqlite3.Connection]) -> None:
        super().__init__(connector, iter_chunk_size=64)
        self._tx = _RunAtOnce()  # type: ignore[assignment]

    def __await__(self) -> Generator[Any, None, aiosqlite.Connection]:
        return self._connect().__await__()  # no thread to start


def _inline_creator(engine: Callable[[], AsyncEngine]) -> Callable[[], Any]:
    """SQLAlchemy's `async_creator`: the dialect's own connect arguments, run inline."""

    async def connect() -> aiosqlite.Connection:
        sync_engine = engine().sync_engine
        args, kwargs = sync_engine.dialect.create_connect_args(sync_engine.url)
        connect_sqlite: Callable[..., sqlite3.Connection] = sqlite3.connect
        return await InlineSQLite(lambda: connect_sqlite(*args, **kwargs))

    return connect


def _configure_sqlite(engine: AsyncEngine, keystore: Path | None) -> None:
    """Key store attached, durability pragmas on every connection, BEGIN IMMEDIATE always.

    pysqlite would otherwise start transactions lazily (DEFERRED), and a read that later
    writes can fail with SQLITE_BUSY despite busy_timeout (SQLAlchemy's documented recipe).
    """

    @event.listens_for(engine.sync_engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: ConnectionPoolEntry) -> None:
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute(f"PRAGMA busy_timeout={SQLITE_BUSY_TIMEOUT_MS}")
        cursor.execute(
            f"ATTACH DATABASE ? AS {KEYSTORE_SCHEMA}",
            (str(keystore) if keystore is not None else ":memory:",),
        )
        for schema in ("main", KEYSTORE_SCHEMA):
            cursor.execute(f"PRAGMA {schema}.journal_mode=WAL")
            cursor.execute(f"PRAGMA {schema}.synchronous=FULL")
            cursor.execute(f"PRAGMA {schema}.secure_delete=ON")  # erased bytes overwritten
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.close()

    @event.listens_for(engine.sync_engine, "begin")
    def _on_begin(connection: Any) -> None:
        options = connection.get_execution_options()
        if options.get(NO_TRANSACTION):
            return  # each statement stands alone (the driver is in autocommit mode)
        if options.get(READ_ONLY):
            connection.exec_driver_sql("BEGIN")  # a snapshot; takes no write lock
        else:
            connection.exec_driver_sql("BEGIN IMMEDIATE")


def make_engine(url: str, *, echo: bool = False) -> AsyncEngine:
    """An AsyncEngine for the URL; SQLite files get their folder and durability settings."""
    if url.startswith("sqlite"):
        path = _sqlite_path(url)
        if path is not None:
            path.parent.mkdir(parents=True, exist_ok=True)
        # One connection: SQLite has one writer anyway, and with calls run inline a second
        # in-process writer would wait on the lock inside the loop; on the pool it waits
        # politely instead (an in-memory database already has exactly one).
        sizing = {"pool_size": 1, "max_overflow": 0} if path is not None else {}
        engine = create_async_engine(
            url, echo=echo, async_creator=_inline_creator(lambda: engine), **sizing
        )
        _configure_sqlite(engine, keystore_path(path) if path is not None else None)
        return engine
    return create_async_engine(url, echo=echo, pool_pre_ping=True, pool_size=10)


class Database:
    """One engine plus the transaction helper every repository uses."""

    def __init__(self, engine: AsyncEngine) -> None:
        self.engine = engine
        self.is_sqlite = engine.dialect.name == "sqlite"

    @classmethod
    def from_url(cls, url: str) -> Database:
        return cls(make_engine(url))

    @asynccontextmanager
    async def transaction(self) -> AsyncIterator[AsyncConnection]:
        """One unit of work: commits on success, rolls back on any exception."""
        async with self._connection() as connection, connection.begin():
            yield connection

    @asynccontextmanager
    async def read(self) -> AsyncIterator[AsyncConnection]:
        """A look without a write: no write lock, nothing to flush, always rolled back.

        For checks most updates make and few act on (is this account a mentor?), so
        that a person's update commits once, in its own business transaction.
        """
        async with self._connection() as connection:
            reader = await connection.execution_options(**{READ_ONLY: True})
            async with reader.begin() as transaction:
                yield reader
                await transaction.rollback()

    async def between_batches(self) -> None:
        """Let other processes write between two transactions of a batch job.

        SQLite: a pause of SQLITE_BATCH_GAP_SECONDS with the write lock free (see there).
        PostgreSQL queues lock waiters and locks rows, not the database: no pause.
        """
        if self.is_sqlite:
            await asyncio.sleep(SQLITE_BATCH_GAP_SECONDS)

    async def look(
        self, statement: Select[*_Columns], parameters: Mapping[str, Any]
    ) -> list[Row[*_Columns]]:
        """The rows of one SELECT on its own: for a check nearly every update makes (is
        this account a mentor?), cheaper than `read()`.

        On SQLite a lone statement outside BEGIN reads one consistent snapshot by itself,
        so no transaction is begun or rolled back around it (a statement and two driver
        calls fewer). It takes no write lock, and a SELECT leaves nothing to undo.
        """
        async with self._connection() as connection:
            if self.is_sqlite:
                connection = await connection.execution_options(**{NO_TRANSACTION: True})
            return list((await connection.execute(statement, dict(parameters))).all())

    @asynccontextmanager
    async def _connection(self) -> AsyncIterator[AsyncConnection]:
        """A pooled connection, given back to the pool on the way out.

        SQLAlchemy's `async with engine.connect()` closes the connection in a task of its
        own, so that a cancellation cannot cut the clean-up short; that costs every
        update two more turns of the event loop. Inline SQLite never gives the loop a
        turn, so no cancellation can arrive mid-close: it is closed in place.
        """
        if not self.is_sqlite:
            async with self.engine.connect() as connection:
                yield connection
            return
        connection = await self.engine.connect()
        try:
            yield connection
        finally:
            await connection.close()

    async def scrub_wal(self) -> bool:
        """Checkpoint both SQLite write-ahead logs into their files and truncate them.

        Why: an erasure's commit overwrites the person's bytes in the database pages
        (secure_delete), but the write-ahead logs still hold the older page images, with
        the sealed values, pseudonym and wrapped key, until a checkpoint rewrites them.
        Run after the erasing transaction committed (a checkpoint cannot run inside one).
        True when both logs are empty; False (and an event logged) when another process
        kept one busy; the next checkpoint finishes the job. PostgreSQL: nothing to do.
        """
        if not self.is_sqlite:
            return True
        complete = True
        async with self.engine.connect() as connection:
            standalone = await connection.execution_options(**{NO_TRANSACTION: True})
            await standalone.exec_driver_sql(f"PRAGMA busy_timeout={CHECKPOINT_BUSY_TIMEOUT_MS}")
            try:
                for schema in ("main", KEYSTORE_SCHEMA):
                    result = await standalone.exec_driver_sql(
                        f"PRAGMA {schema}.wal_checkpoint(TRUNCATE)"
                    )
                    busy = result.one()[0]  # then frames in the log, frames copied
                    if busy:
                        complete = False
                        log.warning("event=storage.wal_checkpoint_busy schema=%s", schema)
            finally:
                await standalone.exec_driver_sql(f"PRAGMA busy_timeout={SQLITE_BUSY_TIMEOUT_MS}")
                await standalone.commit()
        return complete

    async def vacuum_full(self, tables: Sequence[str]) -> list[str]:
        """PostgreSQL: rewrite each table (and its indexes) into new files.

        Why: a deleted row stays in its heap page until vacuumed, and a plain VACUUM only
        compacts the page, so a deleted row at the edge of the free space keeps its bytes
        (a wrapped key, a pseudonym) in the file. VACUUM FULL writes the live rows into a
        new file and drops the old one. It locks each table for the moment it takes (the
        tables are small); run after the erasing transactions committed. It never waits
        long for that lock: a person's step holding a row would otherwise stall, and
        everyone behind the waiting VACUUM with it. A table it could not lock within
        VACUUM_LOCK_TIMEOUT_MS is skipped (returned, and logged) and rewritten on the
        next run. SQLite: nothing to do (secure_delete overwrites in place; see scrub_wal).
        """
        skipped: list[str] = []
        if self.is_sqlite:
            return skipped
        async with self.engine.connect() as connection:
            standalone = await connection.execution_options(isolation_level="AUTOCOMMIT")
            await standalone.exec_driver_sql(f"SET lock_timeout = {VACUUM_LOCK_TIMEOUT_MS}")
            for table in tables:
                try:
                    await standalone.exec_driver_sql(f"VACUUM FULL {table}")
                except DBAPIError as error:
                    if getattr(error.orig, "sqlstate", None) != LOCK_NOT_AVAILABLE:
                        raise
                    skipped.append(table)
                    log.warning("event=storage.vacuum_busy table=%s", table)
            await standalone.exec_driver_sql("RESET lock_timeout")
        return skipped

    async def verify(self) -> None:
        """Refuse to run on an SQLite file without the durability settings we rely on."""
        if not self.is_sqlite:
            async with self.engine.connect() as connection:
                await connection.execute(text("SELECT 1"))
            return
        async with self.engine.connect() as connection:
            journal = (await connection.exec_driver_sql("PRAGMA journal_mode")).scalar()
            synchronous = (await connection.exec_driver_sql("PRAGMA synchronous")).scalar()
            foreign_keys = (await connection.exec_driver_sql("PRAGMA foreign_keys")).scalar()
            schemas = (await connection.exec_driver_sql("PRAGMA database_list")).scalars(1).all()
            secure_delete = {
                name: (await connection.exec_driver_sql(f"PRAGMA {name}.secure_delete")).scalar()
                for name in schemas
                if name in ("main", KEYSTORE_SCHEMA)
            }
        in_memory = journal == "memory"
        if (
            (not in_memory and str(journal).lower() != "wal")
            or synchronous != 2
            or foreign_keys != 1
        ):
            raise DatabaseError(
                "SQLite is not running with journal_mode=WAL, synchronous=FULL and "
                f"foreign_keys=ON (got {journal}, {synchronous}, {foreign_keys}); "
                "check the database file is on a local disk that supports WAL"
            )
        if set(secure_delete.values()) != {1}:
            raise DatabaseError(
                f"SQLite is not running with secure_delete=ON in every schema ({secure_delete}): "
                "erased rows would stay in the file's free pages"
            )

    async def dispose(self) -> None:
        await self.engine.dispose()
