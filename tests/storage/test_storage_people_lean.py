"""The lean person transaction: one read for person and key, last contact written once,
an answer replaced in one statement, and a half-erased person finished off."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import delete, event, select

from storage.crypto import KeyRing
from storage.db import Database
from storage.models import Disclosure, Person, SubjectKey
from storage.repositories.people import person_transaction
from storage.repositories.person_draft import Draft

T0 = datetime(2026, 11, 29, 12, 0, tzinfo=UTC)
SAM = 1_000_000_011


async def _register(database: Database, ring: KeyRing) -> str:
    async with person_transaction(database, ring, SAM, T0) as tx:
        person = await tx.register(state="menu", chat_id=SAM)
        return person.id


async def _last_seen(database: Database, person_id: str) -> datetime:
    async with database.transaction() as connection:
        value = (
            await connection.execute(select(Person.last_seen_at).where(Person.id == person_id))
        ).scalar_one()
        assert isinstance(value, datetime)
        return value


async def test_last_contact_is_written_with_or_without_a_move(
    database: Database, ring: KeyRing
) -> None:
    person_id = await _register(database, ring)

    later = T0 + timedelta(days=3)
    async with person_transaction(database, ring, SAM, later) as tx:
        assert tx.person is not None  # read only: nothing moved
    assert await _last_seen(database, person_id) == later

    latest = later + timedelta(days=3)
    async with person_transaction(database, ring, SAM, latest) as tx:
        await tx.move("finder.place")
    assert await _last_seen(database, person_id) == latest


async def test_last_contact_rolls_back_with_a_failed_step(
    database: Database, ring: KeyRing
) -> None:
    person_id = await _register(database, ring)
    try:
        async with person_transaction(database, ring, SAM, T0 + timedelta(days=9)) as tx:
            assert tx.person is not None
            raise RuntimeError("the step failed")
    except RuntimeError:
        pass
    assert await _last_seen(database, person_id) == T0


async def test_one_statement_per_write_on_the_usual_step(database: Database, ring: KeyRing) -> None:
    """Load is one SELECT (person and key together); a move carries the last contact."""
    await _register(database, ring)
    statements: list[str] = []

    def record(*args: Any) -> None:
        statements.append(str(args[2]).split()[0].upper())

    engine = database.engine.sync_engine
    event.listen(engine, "before_cursor_execute", record)
    try:
        async with person_transaction(database, ring, SAM, T0) as tx:
            await tx.move("disclose.substances", draft=Draft(ticked=("alcohol",)))
    finally:
        event.remove(engine, "before_cursor_execute", record)
    work = [s for s in statements if s not in ("BEGIN", "COMMIT", "ROLLBACK")]
    assert work == ["SELECT", "UPDATE"], work


async def test_a_replaced_answer_is_one_row_and_reads_back(
    database: Database, ring: KeyRing
) -> None:
    person_id = await _register(database, ring)
    for answer in ("alcohol", "alcohol,cannabis", "prefer_not_to_say"):
        async with person_transaction(database, ring, SAM, T0) as tx:
            await tx.move("menu", disclosures={"substances": answer})
    async with person_transaction(database, ring, SAM, T0) as tx:
        assert await tx.disclosures() == {"substances": "prefer_not_to_say"}
    async with database.transaction() as connection:
        rows = (
            await connection.execute(select(Disclosure.id).where(Disclosure.person_id == person_id))
        ).all()
    assert len(rows) == 1


async def test_a_person_whose_key_is_gone_is_finished_off(
    database: Database, ring: KeyRing
) -> None:
    person_id = await _register(database, ring)
    async with database.transaction() as connection:
        await connection.execute(delete(SubjectKey).where(SubjectKey.subject_id == person_id))
    async with person_transaction(database, ring, SAM, T0) as tx:
        assert tx.person is None
    async with database.transaction() as connection:
        left = (await connection.execute(select(Person.id))).all()
    assert left == []
