"""Per-subject data keys: create, open, shred, and rewrap under a new KEK.

A subject is a person or a mentor. Their DEK is stored wrapped by the primary KEK;
deleting the wrapped DEK (crypto-shredding) makes every blob sealed under it unreadable,
including copies in backups of the main tables.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import delete, func, insert, select, update
from sqlalchemy.ext.asyncio import AsyncConnection

from storage.crypto import FieldCipher, KeyRing, new_dek, rewrap_dek, unwrap_dek, wrap_dek
from storage.db import Database
from storage.models import ErasureJournal, Mentor, Person, SubjectKey
from storage.sql import insert_ignore

# Every new person's registration writes one: built once, the values come as parameters.
_NEW_KEY = insert(SubjectKey)


async def create_subject_key(
    connection: AsyncConnection, ring: KeyRing, subject_id: str, now: datetime
) -> FieldCipher:
    """Make and store a fresh DEK for a new subject; return its cipher."""
    dek = new_dek()
    await connection.execute(
        _NEW_KEY,
        {
            "subject_id": subject_id,
            "kek_version": ring.primary_kek_version,
            "wrapped_dek": wrap_dek(ring, dek, subject_id),
            "created_at": now,
        },
    )
    return FieldCipher(dek, subject_id)


async def open_subject_key(
    connection: AsyncConnection, ring: KeyRing, subject_id: str
) -> FieldCipher | None:
    """The subject's cipher, or None when the key was shredded."""
    wrapped = (
        await connection.execute(
            select(SubjectKey.wrapped_dek).where(SubjectKey.subject_id == subject_id)
        )
    ).scalar_one_or_none()
    if wrapped is None:
        return None
    return FieldCipher(unwrap_dek(ring, wrapped, subject_id), subject_id)


async def shred_subject_key(connection: AsyncConnection, subject_id: str, now: datetime) -> None:
    """Delete the wrapped DEK and journal the erasure (subject id and time, nothing else)."""
    await connection.execute(delete(SubjectKey).where(SubjectKey.subject_id == subject_id))
    await insert_ignore(connection, ErasureJournal, {"subject_id": subject_id, "erased_at": now})


async def rewrap_batch(database: Database, ring: KeyRing, *, limit: int = 200) -> int:
    """Rewrap up to `limit` DEKs not under the primary KEK; returns how many moved.

    Each row is a compare-and-set on its old version, so a run killed half way, or two
    runs at once, neither lose nor double-wrap a key: run it again until it returns 0.
    """
    primary = ring.primary_kek_version
    async with database.transaction() as connection:
        rows = (
            await connection.execute(
                select(SubjectKey.subject_id, SubjectKey.kek_version, SubjectKey.wrapped_dek)
                .where(SubjectKey.kek_version != primary)
                .limit(limit)
            )
        ).all()
        moved = 0
        for subject_id, old_version, wrapped in rows:
            result = await connection.execute(
                update(SubjectKey)
                .where(SubjectKey.subject_id == subject_id, SubjectKey.kek_version == old_version)
                .values(kek_version=primary, wrapped_dek=rewrap_dek(ring, wrapped, subject_id))
            )
            moved += result.rowcount
    return moved


async def kek_usage(database: Database) -> dict[int, int]:
    """How many DEKs each KEK version wraps: retire a version only when it wraps none.
    A read: on SQLite it takes no write lock, so it never waits for a running rewrap."""
    async with database.read() as connection:
        rows = (
            await connection.execute(
                select(SubjectKey.kek_version, func.count()).group_by(SubjectKey.kek_version)
            )
        ).all()
    return {int(version): int(count) for version, count in rows}


async def pepper_usage(database: Database) -> dict[int, int]:
    """How many people and mentors each pepper version keys: retire a pepper only when it
    keys none, or they become strangers whom /forget cannot reach."""
    counts: dict[int, int] = {}
    async with database.read() as connection:
        for model in (Person, Mentor):
            rows = (
                await connection.execute(
                    select(model.pseudonym_version, func.count()).group_by(model.pseudonym_version)
                )
            ).all()
            for version, number in rows:
                counts[int(version)] = counts.get(int(version), 0) + int(number)
    return counts
