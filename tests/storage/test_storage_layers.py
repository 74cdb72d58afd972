"""The layers hold where storage meets the rest: all SQL lives in storage/, which knows
nothing of Telegram, and the conversations only hand a transaction on.

`conversations/` may hold a `Database` and pass it, or an open transaction's connection,
to repository functions; it never imports a database library, never begins, commits or
rolls back a transaction and never runs a statement itself. `storage/` imports no
Telegram library, directly or through anything it imports, and queries the mapped
classes of storage/models.py rather than their tables.
"""

from __future__ import annotations

import ast
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
DATABASE_LIBRARIES = ("sqlalchemy", "aiosqlite", "asyncpg", "sqlite3", "psycopg", "psycopg2")
TELEGRAM_LIBRARIES = ("telegram",)
# Methods of a Database or a connection that run SQL or open, end or step around a
# transaction: never called from conversations/ (storage's functions do it).
SQL_ALWAYS = frozenset(
    {
        "execute",
        "exec_driver_sql",
        "transaction",
        "engine",
        "run_sync",
        "execution_options",
        "begin_nested",
        "scrub_wal",
    }
)
# Names other things have too (a flow's `begin`): a finding only on a database or a
# connection.
SQL_ON_DATABASE = frozenset(
    {"read", "look", "begin", "commit", "rollback", "connect", "scalar", "scalars", "stream"}
)
DATABASE_NAMES = frozenset({"connection", "database", "engine", "conn", "db", "session"})


def sources(package: str) -> Iterator[tuple[str, str]]:
    for path in sorted((ROOT / package).rglob("*.py")):
        yield str(path.relative_to(ROOT)), path.read_text("utf-8")


def imported(tree: ast.AST) -> Iterator[tuple[int, str]]:
    """Every module an import statement names, wherever it stands (in functions too)."""
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for alias in node.names:
                yield node.lineno, alias.name
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            yield node.lineno, node.module


def imports_of(source: str, libraries: tuple[str, ...]) -> list[str]:
    return [
        f"line {line}: import {name}"
        for line, name in imported(ast.parse(source))
        if name.split(".")[0] in libraries
    ]


def receiver_name(node: ast.expr) -> str | None:
    """The last name of what an attribute is taken from: `tx.connection` → connection."""
    if isinstance(node, ast.Name):
        return node.id
    if isinstance(node, ast.Attribute):
        return node.attr
    return None


def sql_findings(source: str) -> list[str]:
    """Imports of a database library, and statements or transactions run by hand."""
    found = imports_of(source, DATABASE_LIBRARIES)
    for node in ast.walk(ast.parse(source)):
        if not isinstance(node, ast.Attribute):
            continue
        on_database = (receiver_name(node.value) or "").lower() in DATABASE_NAMES
        if node.attr in SQL_ALWAYS or (node.attr in SQL_ON_DATABASE and on_database):
            found.append(f"line {node.lineno}: {ast.unparse(node)}")
    return found


def test_conversations_run_no_sql_and_open_no_transaction() -> None:
    findings = {
        path: found for path, source in sources("conversations") if (found := sql_findings(source))
    }
    assert findings == {}, "conversations/ must leave SQL and transactions to storage/"


def test_the_scan_finds_what_conversations_used_to_do() -> None:
    """The scan above can fail: it finds the shapes this rule replaced (feedback's own
    query, the ladder's own transactions, the gate's) and passes the ones kept."""
    old_feedback = (
        "from sqlalchemy import select\n"
        "async def latest(tx):\n"
        "    return (await tx.connection.execute(select(1))).scalar_one_or_none()\n"
    )
    old_ladder = (
        "async def run(database):\n"
        "    async with database.transaction() as connection:\n"
        "        pass\n"
    )
    old_gate = (
        "from sqlalchemy.ext.asyncio import AsyncConnection\n"
        "async def gate(services, c: AsyncConnection):\n"
        "    async with services.database.transaction() as connection:\n"
        "        await connection.commit()\n"
    )
    by_hand = "async def f(connection):\n    await connection.begin()\n    connection.read()\n"
    assert len(sql_findings(old_feedback)) == 2
    assert len(sql_findings(old_ladder)) == 1
    assert len(sql_findings(old_gate)) == 3
    assert len(sql_findings(by_hand)) == 2
    kept = (
        "from storage.db import Connection\n"
        "async def step(connection: Connection, services, update, context, tx):\n"
        "    await referrals.claim(connection, 1, 2, 3)\n"
        "    async with mentors.mentor_transaction(services.database, 1, 2) as unit:\n"
        "        await jobcentre.begin(update, context, tx)\n"
    )
    assert sql_findings(kept) == []


def test_storage_code_imports_no_telegram_library() -> None:
    findings = {
        path: found
        for path, source in sources("storage")
        if (found := imports_of(source, TELEGRAM_LIBRARIES))
    }
    assert findings == {}
    assert imports_of("def f():\n    from telegram import Bot\n", TELEGRAM_LIBRARIES)


def test_importing_all_of_storage_loads_no_telegram_library() -> None:
    """Not even through something storage imports (a fresh interpreter: this test run has
    Telegram loaded already). Migration scripts run inside Alembic, so they are only read."""
    program = (
        "import importlib, pkgutil, sys\n"
        "import storage\n"
        "for module in pkgutil.walk_packages(storage.__path__, 'storage.'):\n"
        "    if not module.name.startswith('storage.migrations'):\n"
        "        importlib.import_module(module.name)\n"
        "loaded = sorted(name for name in sys.modules if name.split('.')[0] == 'telegram')\n"
        "print(len([m for m in sys.modules if m.startswith('storage.')]), loaded)\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", program], cwd=ROOT, capture_output=True, text=True, check=True
    )
    count, loaded = result.stdout.split(" ", 1)
    assert int(count) > 20  # the walk did import storage's modules
    assert loaded.strip() == "[]"


def test_storage_queries_mapped_classes_not_their_tables() -> None:
    """`select(Person.state)`, `update(Referral)`: typed columns, no casts of
    `X.__table__` (a table's columns are all `Any` to the type checker)."""
    findings = {
        path: [f"line {n}" for n, line in enumerate(source.splitlines(), 1) if "__table__" in line]
        for path, source in sources("storage")
        if "__table__" in source
    }
    assert findings == {}
