"""After /forget and `firststep purge`, PostgreSQL's files hold none of the person's bytes
(issue 15, 3: the wrapped data key, pseudonym and answers stayed in the heap files).

The person is erased as /forget erases them; `firststep purge` runs as the operator
runs it; then a CHECKPOINT writes every page out and the tables' own files are read
with pg_read_binary_file (the test's server user is a superuser). Before the purge the
same scan finds the wrapped key, so the scan can see what it looks for.
"""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlalchemy import select, text

from storage.crypto import KeyRing
from storage.db import Database
from storage.operations.retention import ERASURE_TABLES
from storage.repositories.people import person_transaction
from tests.support.ops import T0, cli_env, firststep, make_person
from tests.support.tables import DISCLOSURES, KEYS, PEOPLE

pytestmark = pytest.mark.postgres

ALEX, BEA = 7_700_001_531, 7_700_001_532


async def file_bytes(database: Database) -> dict[str, bytes]:
    """Every page of each erasure table and its indexes, as on disk after a checkpoint."""
    found: dict[str, bytes] = {}
    async with database.engine.connect() as connection:
        standalone = await connection.execution_options(isolation_level="AUTOCOMMIT")
        await standalone.execute(text("CHECKPOINT"))
        for table in ERASURE_TABLES:
            relations = await standalone.execute(
                text(
                    "SELECT c.oid::regclass::text FROM pg_class c "
                    "WHERE c.oid = CAST(:t AS regclass) "
                    "UNION SELECT i.indexrelid::regclass::text FROM pg_index i "
                    "WHERE i.indrelid = CAST(:t AS regclass)"
                ),
                {"t": table},
            )
            for (name,) in relations:
                data = await standalone.execute(
                    text("SELECT pg_read_binary_file(pg_relation_filepath(:r))"), {"r": name}
                )
                found[name] = data.scalar_one()
    return found


async def wait_for_older_transactions(database: Database, seconds: float = 60) -> None:
    """VACUUM keeps a deleted row while any transaction on the server could still see it
    (snapshots span databases). The test server is shared: wait for transactions older
    than the erasure to end, and skip, naming them, if one stays open."""
    import asyncio

    async with database.engine.connect() as connection:
        standalone = await connection.execution_options(isolation_level="AUTOCOMMIT")
        erased_before = (await standalone.execute(text("SELECT txid_current()"))).scalar_one()
        older: list[str] = []
        for _ in range(int(seconds * 2)):
            rows = await standalone.execute(
                text(
                    "SELECT pid, datname, state FROM pg_stat_activity "
                    "WHERE pid <> pg_backend_pid() AND backend_xid IS NOT NULL "
                    "AND backend_xid::text::bigint < :x"
                ),
                {"x": erased_before % 2**32},
            )
            older = [f"pid {pid} in {db} ({state})" for pid, db, state in rows]
            if not older:
                return
            await asyncio.sleep(0.5)
    pytest.skip(f"a transaction older than the erasure stays open: {', '.join(older)}")


def holding(files: dict[str, bytes], needle: bytes) -> list[str]:
    return sorted(name for name, data in files.items() if needle in data)


async def test_no_file_holds_the_erased_persons_bytes_after_purge(
    database: Database, database_url: str, ring: KeyRing, tmp_path: Path
) -> None:
    if database.is_sqlite:
        pytest.skip("PostgreSQL files only (SQLite overwrites in place: secure_delete)")
    # Bea is here today, so the purge's own retention rules leave her alone.
    today = datetime.now(UTC)
    await make_person(database, ring, BEA, today, disclosures={"own_words": "bea stays"})
    alex = await make_person(database, ring, ALEX, disclosures={"own_words": "alex goes"})
    await make_person(database, ring, BEA + 1, today, disclosures={"own_words": "written after"})
    async with database.engine.connect() as connection:
        wrapped = (
            await connection.execute(select(KEYS.c.wrapped_dek).where(KEYS.c.subject_id == alex))
        ).scalar_one()
        pseudonym = (
            await connection.execute(select(PEOPLE.c.pseudonym).where(PEOPLE.c.id == alex))
        ).scalar_one()
        answer = (
            await connection.execute(
                select(DISCLOSURES.c.value_ct).where(DISCLOSURES.c.person_id == alex)
            )
        ).scalar_one()

    async with person_transaction(database, ring, ALEX, T0) as tx:  # /forget
        await tx.erase()
    files = await file_bytes(database)
    assert holding(files, wrapped) == ["keystore.subject_keys"], "the control: still there"

    await wait_for_older_transactions(database)
    keyring = tmp_path / "keys" / "keyring.json"
    ring.save(keyring)
    ran = await firststep(tmp_path, cli_env(database_url, keyring), "purge")
    assert ran.code == 0, ran.err

    files = await file_bytes(database)
    assert holding(files, wrapped) == []
    assert holding(files, pseudonym) == []
    assert holding(files, answer) == []
    async with database.engine.connect() as connection:  # the others are untouched
        assert (await connection.execute(select(KEYS.c.subject_id))).all() != []
        left = (await connection.execute(select(PEOPLE.c.id))).scalars().all()
    assert len(left) == 2 and alex not in left
