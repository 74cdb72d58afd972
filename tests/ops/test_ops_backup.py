"""Erasure that survives restores: back up, /forget, restore → the person stays gone.

The main data is restored from backup; the LIVE key store (with the erasure journal) is
kept and the journal replayed. The control case shows why key-store backups must be
short-lived: with the key-store backup from before the /forget, the old ciphertext opens.
"""

from __future__ import annotations

import contextlib
import shutil
import sqlite3
import stat
from pathlib import Path

import pytest
from sqlalchemy import select

from conversations import texts
from storage.crypto import FieldCipher, KeyRing, unwrap_dek
from storage.db import Database, keystore_path
from storage.operations.backup import (
    BackupError,
    backup_sqlite,
    libpq_url,
    read_manifest,
    replay_erasure_journal,
    restore_sqlite,
)
from storage.repositories.people import person_transaction
from storage.repositories.subjects import open_subject_key
from tests.support.dbscan import all_rows, cells_containing
from tests.support.harness import Harness
from tests.support.ops import (
    T0,
    cli_env,
    count,
    days,
    firststep,
    make_outbox,
    make_person,
    make_referral,
    person_id_of,
)
from tests.support.tables import DISCLOSURES, JOURNAL, KEYS, OUTBOX, PEOPLE

ALEX = 7_700_000_101
BEA = 7_700_000_102
CANARY = "CANARY own words 4471"


def sqlite_only(database_url: str) -> None:
    if not database_url.startswith("sqlite"):
        pytest.skip("SQLite file backups; PostgreSQL is covered by the pg_dump test")


def main_file(database_url: str) -> Path:
    return Path(database_url.removeprefix("sqlite+aiosqlite:///"))


async def disclose(harness: Harness, user: int, own_words: str) -> None:
    await harness.onboard(user)
    await harness.press(user, texts.BTN_TELL)
    await harness.press(user, texts.OPTION_LABELS["alcohol"])
    await harness.press(user, texts.BTN_DONE)
    await harness.press(user, texts.BTN_SKIP)
    await harness.press(user, texts.BTN_SKIP)
    await harness.press(user, texts.BTN_SKIP)
    await harness.send(user, own_words)
    assert "✅ Saved" in harness.all_text(user)


def backup_rows(folder: Path, person_id: str) -> list[tuple[str, str, bytes]]:
    with contextlib.closing(sqlite3.connect(folder / "main.db")) as connection:
        return list(
            connection.execute(
                "SELECT id, field, value_ct FROM disclosures WHERE person_id = ?", (person_id,)
            )
        )


def backup_wrapped_key(folder: Path, person_id: str) -> bytes | None:
    with contextlib.closing(sqlite3.connect(folder / "keystore.db")) as connection:
        row = connection.execute(
            "SELECT wrapped_dek FROM subject_keys WHERE subject_id = ?", (person_id,)
        ).fetchone()
    return None if row is None else bytes(row[0])


async def assert_erasure_held(
    database_url: str, ring: KeyRing, folder: Path, erased: str, kept: str
) -> None:
    """The erased person has no row, no key and no way back; the other person is intact."""
    database = Database.from_url(database_url)
    try:
        assert await count(database, PEOPLE, id=erased) == 0, "erased person came back"
        assert await count(database, DISCLOSURES, person_id=erased) == 0
        assert await count(database, KEYS, subject_id=erased) == 0
        assert await count(database, JOURNAL, subject_id=erased) == 1
        assert await count(database, PEOPLE, id=kept) == 1
        assert await count(database, DISCLOSURES, person_id=kept) >= 1
        outbox = (await all_rows(database))[OUTBOX.name]
        assert cells_containing({OUTBOX.name: outbox}, erased) == [], "outbox refers to them"
        async with database.engine.connect() as connection:
            # Their old ciphertext (still in the backup) has no key in the live key store.
            assert await open_subject_key(connection, ring, erased) is None
            assert await open_subject_key(connection, ring, kept) is not None
    finally:
        await database.dispose()
    assert backup_rows(folder, erased), "the backup should still hold the old ciphertext"


@pytest.mark.slow
async def test_backup_forget_restore_keeps_the_person_erased(
    harness: Harness, database_url: str, ring: KeyRing, tmp_path: Path
) -> None:
    sqlite_only(database_url)
    keyring = tmp_path / "keyring.json"
    ring.save(keyring)
    env = cli_env(database_url, keyring)
    await disclose(harness, ALEX, CANARY)
    await disclose(harness, BEA, "Bea's words")
    assert harness.app is not None
    database = harness.app.bot_data.services.database
    alex = await person_id_of(database, ring, ALEX)
    bea = await person_id_of(database, ring, BEA)
    assert alex is not None and bea is not None
    # Delivery metadata that names Alex (a message to them, a card about them to a
    # mentor, both sent) and Bea (which must stay).
    for subject in (alex, bea):
        await make_outbox(
            database, status="sent", created_at=T0, sent_at=T0, recipient=("person", subject)
        )
        await make_outbox(
            database, status="sent", created_at=T0, sent_at=T0, payload_subject=subject
        )

    # An online backup while the bot runs, through the real command.
    made = await firststep(tmp_path, env, "backup", "--out", str(tmp_path / "backups"))
    assert made.code == 0, made.err
    (folder,) = (tmp_path / "backups").glob("firststep-*")
    assert str(folder) in made.out

    # Alex uses /forget through the bot.
    await harness.send(ALEX, "/forget")
    await harness.press(ALEX, texts.BTN_FORGET_YES)
    assert await person_id_of(database, ring, ALEX) is None

    # Disaster: the operator restores last night's backup (service stopped first).
    await harness.stop()
    restored = await firststep(tmp_path, env, "restore", "--from", str(folder))
    assert restored.code == 0, restored.err
    assert "1 people" in restored.out
    await assert_erasure_held(database_url, ring, folder, alex, bea)
    with contextlib.closing(sqlite3.connect(folder / "main.db")) as backup:
        (backed_up,) = backup.execute(
            "SELECT count(*) FROM outbox WHERE ? IN (recipient_id, payload_subject)", (alex,)
        ).fetchone()
    assert backed_up == 2, "the backup should still hold the outbox rows about Alex"
    check = Database.from_url(database_url)
    try:
        assert await count(check, OUTBOX, recipient_id=bea) == 1
        assert await count(check, OUTBOX, payload_subject=bea) == 1
    finally:
        await check.dispose()

    # Control: the key-store backup from before the /forget still opens the old text.
    # This is why key-store backups are kept for days, not weeks.
    wrapped = backup_wrapped_key(folder, alex)
    assert wrapped is not None
    cipher = FieldCipher(unwrap_dek(ring, wrapped, alex), alex)
    opened = {
        field: cipher.open_text("disclosures", f"value_ct:{field}", row_id, blob)
        for row_id, field, blob in backup_rows(folder, alex)
    }
    assert opened["own_words"] == CANARY

    # Back in service: Alex is a stranger again; Bea is served as before.
    await harness.start()
    await harness.send(ALEX, "/start")
    assert "Before you tell us anything" in harness.last_text(ALEX)
    await harness.send(BEA, "/mydata")
    assert "Bea's words" in harness.all_text(BEA)


async def test_a_restore_without_journal_replay_is_caught(
    database: Database, database_url: str, ring: KeyRing, tmp_path: Path
) -> None:
    """The deliberately broken restore (copy the file back, no replay) brings Alex back:
    the same assertions reject it."""
    sqlite_only(database_url)
    alex = await make_person(database, ring, ALEX, disclosures={"own_words": CANARY})
    bea = await make_person(database, ring, BEA)
    result = backup_sqlite(main_file(database_url), tmp_path / "b", T0)
    async with person_transaction(database, ring, ALEX, T0 + days(1)) as tx:
        await tx.erase()
    await database.dispose()

    shutil.copyfile(result.folder / "main.db", main_file(database_url))  # no replay
    with pytest.raises(AssertionError, match="came back"):
        await assert_erasure_held(database_url, ring, result.folder, alex, bea)

    # `firststep run` replays the journal at every start: the safety net catches it.
    again = Database.from_url(database_url)
    try:
        replayed = await replay_erasure_journal(again, T0 + days(2))
    finally:
        await again.dispose()
    assert replayed.people == 1
    await assert_erasure_held(database_url, ring, result.folder, alex, bea)


async def test_restoring_the_key_store_too_keeps_later_erasures(
    database: Database, database_url: str, ring: KeyRing, tmp_path: Path
) -> None:
    """--with-keystore (live key store lost or damaged): the live journal is merged into
    the restored key store first, so its keys for erased people are deleted again."""
    sqlite_only(database_url)
    alex = await make_person(database, ring, ALEX, disclosures={"own_words": CANARY})
    bea = await make_person(database, ring, BEA)
    await make_referral(database, alex, status="pending")
    result = backup_sqlite(main_file(database_url), tmp_path / "b", T0)
    async with person_transaction(database, ring, ALEX, T0 + days(1)) as tx:
        await tx.erase()
    await database.dispose()

    replayed = await restore_sqlite(
        result.folder, main_file(database_url), T0 + days(2), with_keystore=True
    )
    assert (replayed.people, replayed.keys, replayed.referrals_withdrawn) == (1, 1, 1)
    await assert_erasure_held(database_url, ring, result.folder, alex, bea)


async def test_backup_files_manifest_and_key_store_clock(
    database: Database, database_url: str, ring: KeyRing, tmp_path: Path
) -> None:
    sqlite_only(database_url)
    await make_person(database, ring, ALEX)
    out = tmp_path / "backups"
    main = main_file(database_url)
    both = backup_sqlite(main, out, T0)
    main_only = backup_sqlite(main, out, T0, parts=("main",))
    # Day 6: nothing is past its clock yet.
    assert backup_sqlite(main, out, T0 + days(6), keystore_days=7, main_days=30).pruned == ()
    # Day 7: the folder holding key-store copies goes; the main-only backup stays.
    new = backup_sqlite(main, out, T0 + days(7), keystore_days=7, main_days=30)
    assert new.pruned == (both.folder,)
    assert main_only.folder.exists()
    manifest = read_manifest(new.folder)
    kinds = {part["kind"]: part for part in manifest["parts"]}
    assert set(kinds) == {"main", "keystore"}
    assert kinds["keystore"]["subject_keys"] == 1
    assert kinds["main"]["integrity_check"] == "ok"
    assert kinds["main"]["schema_revision"]
    for name in ("main.db", "keystore.db", "manifest.json"):
        assert stat.S_IMODE((new.folder / name).stat().st_mode) == 0o600
    assert stat.S_IMODE(new.folder.stat().st_mode) == 0o700
    # The main backup holds no key material: its file has no subject_keys table.
    with contextlib.closing(sqlite3.connect(new.folder / "main.db")) as connection:
        tables = {row[0] for row in connection.execute("SELECT name FROM sqlite_master")}
    assert "people" in tables
    assert "subject_keys" not in tables

    # A damaged backup is refused before anything is overwritten.
    with (new.folder / "main.db").open("r+b") as handle:
        handle.seek(200)
        handle.write(b"\xff")
    before = main_file(database_url).read_bytes()
    with pytest.raises(BackupError, match="checksum"):
        await restore_sqlite(new.folder, main_file(database_url), T0)
    assert main_file(database_url).read_bytes() == before

    # Day 30: the main-only backup goes too.
    assert (
        main_only.folder
        in backup_sqlite(main, out, T0 + days(30), keystore_days=7, main_days=30).pruned
    )


async def test_restore_refuses_without_a_live_key_store(
    database: Database, database_url: str, ring: KeyRing, tmp_path: Path
) -> None:
    sqlite_only(database_url)
    await make_person(database, ring, ALEX)
    result = backup_sqlite(main_file(database_url), tmp_path / "b", T0, parts=("main",))
    await database.dispose()
    keystore = keystore_path(main_file(database_url))
    for path in keystore.parent.glob(keystore.name + "*"):
        path.unlink()
    with pytest.raises(BackupError, match="key store"):
        await restore_sqlite(result.folder, main_file(database_url), T0)


async def test_cli_backup_on_postgres_prints_two_clock_pg_dump_instructions(
    tmp_path: Path,
) -> None:
    env = cli_env("postgresql+asyncpg://firststep:s3cret-pw@db.internal:5432/firststep")
    ran = await firststep(tmp_path, env, "backup", "--out", str(tmp_path))
    assert ran.code == 0, ran.err
    assert "--exclude-schema=keystore" in ran.out
    assert "--schema=keystore" in ran.out
    assert "firststep restore --replay-journal" in ran.out
    assert "s3cret-pw" not in ran.out
    assert "postgresql://firststep@db.internal:5432/firststep" in ran.out


async def test_pg_dump_forget_pg_restore_replay(
    database: Database, database_url: str, ring: KeyRing, tmp_path: Path
) -> None:
    """PostgreSQL, for real: the documented pg_dump of the main schema, a /forget, the
    documented pg_restore, then `firststep restore --replay-journal`."""
    if not database_url.startswith("postgresql"):
        pytest.skip("PostgreSQL only")
    if shutil.which("pg_dump") is None or shutil.which("pg_restore") is None:
        pytest.skip("pg_dump / pg_restore are not installed")
    import asyncio

    alex = await make_person(database, ring, ALEX, disclosures={"own_words": CANARY})
    bea = await make_person(database, ring, BEA)
    await make_outbox(database, status="sent", created_at=T0, recipient=("person", alex))
    await make_outbox(database, status="sent", created_at=T0, payload_subject=alex)
    dump = tmp_path / "main.dump"
    target = libpq_url(database_url)

    async def run(*command: str) -> None:
        process = await asyncio.create_subprocess_exec(
            *command, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE
        )
        _, err = await process.communicate()
        assert process.returncode == 0, err.decode()

    await run("pg_dump", "--format=custom", "--exclude-schema=keystore", f"--file={dump}", target)
    async with person_transaction(database, ring, ALEX, T0 + days(1)) as tx:
        await tx.erase()
    await database.dispose()
    await run("pg_restore", "--clean", "--if-exists", "--no-owner", f"--dbname={target}", str(dump))

    check = Database.from_url(database_url)
    try:
        assert await count(check, PEOPLE, id=alex) == 1  # pg_restore brought Alex's rows back
        assert await count(check, OUTBOX, recipient_id=alex) == 1
    finally:
        await check.dispose()
    ran = await firststep(tmp_path, cli_env(database_url), "restore", "--replay-journal")
    assert ran.code == 0, ran.err
    assert "1 people" in ran.out

    check = Database.from_url(database_url)
    try:
        assert await count(check, PEOPLE, id=alex) == 0
        assert await count(check, DISCLOSURES, person_id=alex) == 0
        assert await count(check, OUTBOX, recipient_id=alex) == 0
        assert await count(check, OUTBOX, payload_subject=alex) == 0
        assert await count(check, PEOPLE, id=bea) == 1
        async with check.engine.connect() as connection:
            assert await open_subject_key(connection, ring, alex) is None
            assert await open_subject_key(connection, ring, bea) is not None
            rows = (
                await connection.execute(select(KEYS.c.subject_id).where(KEYS.c.subject_id == alex))
            ).all()
        assert rows == []
    finally:
        await check.dispose()
