"""Storage of people: pseudonyms, write-through steps, encryption at rest, crypto-shredding."""

from __future__ import annotations

import base64
import hashlib
import json
import sqlite3
from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlalchemy import select, text

from storage.crypto import CryptoError, FieldCipher, KeyRing, unwrap_dek
from storage.db import Database, keystore_path
from storage.models import Disclosure, ErasureJournal, Person, SubjectKey
from storage.repositories.people import StaleStep, person_transaction
from storage.repositories.person_draft import Draft
from storage.repositories.subjects import kek_usage, rewrap_batch

NOW = datetime(2026, 11, 29, 12, 0, tzinfo=UTC)
IDS = [1_000_000_007, 1_000_000_000_003, 2**40 - 1]
CANARY = "CANARY_DISCLOSURE_91 heroin and benzos"

DRAFT = Draft(office="k", ref="v")


def ring_secrets(ring: KeyRing) -> list[bytes]:
    """Every KEK and pepper of a ring, raw, read from its JSON form."""
    data = json.loads(ring.to_json())
    return [base64.b64decode(v) for group in ("keks", "peppers") for v in data[group].values()]


async def register(db: Database, ring: KeyRing, telegram_id: int) -> str:
    async with person_transaction(db, ring, telegram_id, NOW) as tx:
        person = await tx.register(state="menu", chat_id=telegram_id, draft=DRAFT)
        await tx.move("disclose.substances", disclosures={"own_words": CANARY})
        return person.id


async def test_same_user_is_same_person_after_restart(
    database: Database, database_url: str, ring: KeyRing
) -> None:
    person_id = await register(database, ring, IDS[0])
    await database.dispose()

    second = Database.from_url(database_url)
    async with person_transaction(second, ring, IDS[0], NOW) as tx:
        assert tx.person is not None
        assert tx.person.id == person_id
        assert tx.person.state == "disclose.substances"
        assert tx.person.draft == DRAFT
        assert await tx.disclosures() == {"own_words": CANARY}
    async with person_transaction(second, ring, IDS[1], NOW) as tx:
        assert tx.person is None
    await second.dispose()


async def test_state_moves_only_from_the_version_read(database: Database, ring: KeyRing) -> None:
    await register(database, ring, IDS[0])
    async with person_transaction(database, ring, IDS[0], NOW) as tx:
        assert tx.person is not None
        version = tx.person.state_version
        await tx.move("disclose.duration")
        assert tx.person.state_version == version + 1
    async with person_transaction(database, ring, IDS[0], NOW) as tx:
        assert tx.person is not None
        tx.person.state_version -= 1  # as if this update had read an older state
        with pytest.raises(StaleStep):
            await tx.move("menu")


async def test_erase_shreds_person_and_their_ciphertexts(database: Database, ring: KeyRing) -> None:
    person_id = await register(database, ring, IDS[0])
    async with database.transaction() as connection:
        stolen_rows = (await connection.execute(select(Disclosure.__table__))).all()
        stolen_key = (
            await connection.execute(
                select(SubjectKey.wrapped_dek).where(SubjectKey.subject_id == person_id)
            )
        ).scalar_one()
    assert stolen_rows

    async with person_transaction(database, ring, IDS[0], NOW) as tx:
        summary = await tx.erase()
    assert summary.disclosures == 1

    async with database.transaction() as connection:
        for table in (Person, Disclosure, SubjectKey):
            count = (await connection.execute(select(text("count(*)")).select_from(table))).scalar()
            assert count == 0, table.__tablename__
        journal = (await connection.execute(select(ErasureJournal.subject_id))).scalars().all()
        assert journal == [person_id]

    # A copy of the ciphertext taken before erasure opens with no key in the ring: the
    # only key that could open it was the person's DEK, and its wrapped copy is gone.
    ring_keys = ring_secrets(ring)
    for row in stolen_rows:
        for key in ring_keys:
            with pytest.raises(CryptoError):
                FieldCipher(key, person_id).open(
                    "disclosures", f"value_ct:{row.field}", row.id, row.value_ct
                )
    assert unwrap_dek(ring, stolen_key, person_id)  # the key existed before…
    async with person_transaction(database, ring, IDS[0], NOW) as tx:
        assert tx.person is None  # …and the person is greeted as new.


async def _sqlite_files(url: str) -> list[Path]:
    path = Path(url.split("///", 1)[1])
    keystore = keystore_path(path)
    candidates = [path, Path(f"{path}-wal"), keystore, Path(f"{keystore}-wal")]
    return [p for p in candidates if p.exists()]


@pytest.mark.parametrize("telegram_id", IDS)
async def test_no_raw_telegram_id_at_rest(tmp_path: Path, ring: KeyRing, telegram_id: int) -> None:
    url = f"sqlite+aiosqlite:///{tmp_path / 'scan.db'}"
    from storage.migrate import upgrade

    database = Database.from_url(url)
    await upgrade(database)
    await register(database, ring, telegram_id)
    async with person_transaction(database, ring, telegram_id, NOW) as tx:
        await tx.move("menu")
    await database.dispose()
    for name in ("scan.db", "scan.keystore.db"):
        with sqlite3.connect(tmp_path / name) as raw:
            raw.execute("VACUUM")
    forbidden = {
        "decimal": str(telegram_id).encode(),
        "hex": f"{telegram_id:x}".encode(),
        "HEX": f"{telegram_id:X}".encode(),
        "8-byte big-endian": telegram_id.to_bytes(8, "big"),
        "sha256(str)": hashlib.sha256(str(telegram_id).encode()).digest(),
        "sha256(str) hex": hashlib.sha256(str(telegram_id).encode()).hexdigest().encode(),
        "sha256(bytes)": hashlib.sha256(telegram_id.to_bytes(8, "big")).digest(),
    }
    files = await _sqlite_files(url)
    assert files
    for file in files:
        blob = file.read_bytes()
        for name, needle in forbidden.items():
            assert needle not in blob, f"{name} of the id found in {file.name}"
        assert CANARY.encode() not in blob


async def test_no_key_material_in_database_files(tmp_path: Path, ring: KeyRing) -> None:
    url = f"sqlite+aiosqlite:///{tmp_path / 'keys.db'}"
    from storage.migrate import upgrade

    database = Database.from_url(url)
    await upgrade(database)
    person_id = await register(database, ring, IDS[0])
    async with database.transaction() as connection:
        wrapped = (
            await connection.execute(
                select(SubjectKey.wrapped_dek).where(SubjectKey.subject_id == person_id)
            )
        ).scalar_one()
    dek = unwrap_dek(ring, wrapped, person_id)
    await database.dispose()
    secrets_to_find = [dek, *ring_secrets(ring)]
    for file in await _sqlite_files(url):
        blob = file.read_bytes()
        for secret in secrets_to_find:
            assert secret not in blob
            assert base64.b64encode(secret) not in blob
            assert base64.urlsafe_b64encode(secret) not in blob


async def test_pepper_rotation_recognises_returning_people(database: Database) -> None:
    ring = KeyRing.generate()
    person_id = await register(database, ring, IDS[0])
    rotated, version = ring.with_new_pepper()
    rotated = rotated.promote_pepper(version)
    async with person_transaction(database, rotated, IDS[0], NOW) as tx:
        assert tx.person is not None and tx.person.id == person_id
    old_version = ring.primary_pepper_version
    retired = rotated.retire_pepper(old_version)
    async with person_transaction(database, retired, IDS[0], NOW) as tx:
        assert tx.person is not None and tx.person.id == person_id
    async with database.transaction() as connection:
        stored = (await connection.execute(select(Person.pseudonym_version))).scalar_one()
    assert stored == version


async def test_rewrap_killed_half_way_resumes(database: Database) -> None:
    ring = KeyRing.generate()
    ids = [await register(database, ring, 5_000 + n) for n in range(7)]
    rotated, version = ring.with_new_kek()
    rotated = rotated.promote_kek(version)
    # "Killed" after the first small batch: only part of the keys moved.
    assert await rewrap_batch(database, rotated, limit=3) == 3
    assert (await kek_usage(database)) == {ring.primary_kek_version: 4, version: 3}
    while await rewrap_batch(database, rotated, limit=3):
        pass
    assert await kek_usage(database) == {version: 7}
    new_only = rotated.retire_kek(ring.primary_kek_version)
    async with database.transaction() as connection:
        rows = (
            await connection.execute(select(SubjectKey.subject_id, SubjectKey.wrapped_dek))
        ).all()
    assert sorted(row.subject_id for row in rows) == sorted(ids)
    for subject_id, wrapped in rows:
        assert unwrap_dek(new_only, wrapped, subject_id)
        with pytest.raises(CryptoError):
            unwrap_dek(ring, wrapped, subject_id)  # the old-only ring opens nothing
    for n in range(7):
        async with person_transaction(database, new_only, 5_000 + n, NOW) as tx:
            assert tx.person is not None
            assert await tx.disclosures() == {"own_words": CANARY}
