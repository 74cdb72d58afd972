"""`firststep` with one part deliberately broken, so a test can show it catches the break.

Usage: python tests/support/broken_cli.py VARIANT ARGS... runs `firststep ARGS...` (the
real entry point, `bot.cli.main`) after installing VARIANT in this process only:

- `rewrap-greedy`: `keys rewrap` commits batch after batch without leaving SQLite's
  write lock free in between (the code before the C9 fix, issue 15).
- `rewrap-by-offset`: `keys rewrap` pages through the keys still to rewrap by OFFSET,
  a set its own commits shrink: it skips keys and reports success.
- `state-in-memory`: `run` keeps each person's step in the process's memory and writes
  it to the database only when stopped gracefully (as a persistence that flushes on
  shutdown does); answers are still written at once.
"""

from __future__ import annotations

import asyncio
import itertools
import os
import sys
from typing import Any


def _install_rewrap_greedy() -> None:
    from storage.db import Database

    async def between_batches(self: Database) -> None:
        return None

    Database.between_batches = between_batches  # type: ignore[method-assign]


def _install_rewrap_by_offset() -> None:
    from sqlalchemy import select, update

    from storage.crypto import KeyRing, rewrap_dek
    from storage.db import Database
    from storage.models import SubjectKey
    from storage.repositories import subjects

    pages = itertools.count()

    async def rewrap_batch(database: Database, ring: KeyRing, *, limit: int = 200) -> int:
        primary = ring.primary_kek_version
        async with database.transaction() as connection:
            rows = (
                await connection.execute(
                    select(SubjectKey.subject_id, SubjectKey.kek_version, SubjectKey.wrapped_dek)
                    .where(SubjectKey.kek_version != primary)
                    .order_by(SubjectKey.subject_id)
                    .limit(limit)
                    .offset(next(pages) * limit)
                )
            ).all()
            moved = 0
            for subject_id, old_version, wrapped in rows:
                result = await connection.execute(
                    update(SubjectKey)
                    .where(SubjectKey.subject_id == subject_id)
                    .where(SubjectKey.kek_version == old_version)
                    .values(kek_version=primary, wrapped_dek=rewrap_dek(ring, wrapped, subject_id))
                )
                moved += result.rowcount
        return moved

    subjects.rewrap_batch = rewrap_batch


# state-in-memory: person id -> the step this process holds but has not written.
_STEPS: dict[str, str] = {}


def _install_state_in_memory() -> None:
    from sqlalchemy import update

    from storage.models import Person
    from storage.repositories.people import PersonRecord, PersonTransaction

    load, move = PersonTransaction.load, PersonTransaction.move

    async def load_held(self: PersonTransaction) -> PersonRecord | None:
        person = await load(self)
        if person is not None and person.id in _STEPS:
            person.state = _STEPS[person.id]
        return person

    async def move_held(self: PersonTransaction, state: str, **kwargs: Any) -> PersonRecord:
        person = self.person
        written = person.state if person is not None else state
        moved = await move(self, state, **kwargs)
        _STEPS[moved.id] = state
        await self._connection.execute(
            update(Person).where(Person.id == moved.id).values(state=written)
        )
        return moved

    PersonTransaction.load = load_held  # type: ignore[method-assign]
    PersonTransaction.move = move_held  # type: ignore[method-assign]


async def _flush_steps() -> None:
    from sqlalchemy import update

    from storage.db import Database
    from storage.models import Person

    database = Database.from_url(os.environ["FIRSTSTEP_DATABASE_URL"])
    try:
        async with database.transaction() as connection:
            for person_id, state in _STEPS.items():
                await connection.execute(
                    update(Person).where(Person.id == person_id).values(state=state)
                )
    finally:
        await database.dispose()


INSTALL = {
    "rewrap-greedy": _install_rewrap_greedy,
    "rewrap-by-offset": _install_rewrap_by_offset,
    "state-in-memory": _install_state_in_memory,
}

if __name__ == "__main__":
    variant, *args = sys.argv[1:]
    INSTALL[variant]()
    from bot.cli import main

    sys.argv = ["firststep", *args]
    try:
        main()
    finally:
        if _STEPS:
            asyncio.run(_flush_steps())
