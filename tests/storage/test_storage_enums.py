"""Status columns are typed: read back as StrEnum members, stored as the same strings as
before (so no data migration), and a string that is no member never reaches the
database (a typo in code fails where it is written, not as a constraint error later, and
columns without a CHECK constraint are guarded too)."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest
from sqlalchemy import event, insert, select, text, update
from sqlalchemy.exc import StatementError

from storage.crypto import KeyRing
from storage.db import Database
from storage.models import (
    ContactBy,
    MentorRole,
    MentorStatus,
    OutboxStatus,
    Referral,
    ReferralStatus,
    Share,
    new_id,
)
from storage.repositories import mentors, referrals
from storage.repositories.outbox import Kind, Send, enqueue
from storage.repositories.people import person_transaction
from storage.repositories.referrals import Ladder

NOW = datetime(2026, 12, 1, 9, 0, tzinfo=UTC)
SAM, MO = 1_000_000_021, 1_000_000_022
OFFICE = "liverpool-duke-street"


async def a_referral(database: Database, ring: KeyRing) -> referrals.ReferralRow:
    async with person_transaction(database, ring, SAM, NOW) as tx:
        person = await tx.register(state="menu", chat_id=SAM)
        return await referrals.create(
            tx.connection,
            person_id=person.id,
            office_id=OFFICE,
            pilot_area="North West",
            contact_by=ContactBy.BOT,
            share=Share.CATEGORIES,
            time_window="any",
            ladder_step=Ladder.OFFICE,
            next_ladder_at=None,
            now=NOW,
        )


async def test_statuses_are_read_back_as_members(database: Database, ring: KeyRing) -> None:
    referral = await a_referral(database, ring)
    assert referral.status is ReferralStatus.PENDING
    assert referral.contact_by is ContactBy.BOT
    assert referral.share is Share.CATEGORIES
    async with database.transaction() as connection:
        mentor = await mentors.enrol_mentor(
            connection,
            ring,
            telegram_id=MO,
            chat_id=MO,
            role=MentorRole.MENTOR,
            office_id=OFFICE,
            pilot_area="North West",
            display_name="Mo",
            now=NOW,
        )
        await enqueue(
            connection,
            dedupe_key="card:test",
            kind=Kind.CARD,
            recipient_kind="mentor",
            recipient_id=mentor.id,
            payload=Send(text="a card"),
            sealed_by=mentor.cipher,
            now=NOW,
            referral_id=referral.id,
        )
        (listed,) = await mentors.list_mentors(connection)
        (card,) = await referrals.cards_of(connection, referral.id, [Kind.CARD])
        loaded = await mentors.load_mentor(connection, ring, MO)
    assert (listed.role, listed.status) == (MentorRole.MENTOR, MentorStatus.ACTIVE)
    assert type(listed.role) is MentorRole and type(listed.status) is MentorStatus
    assert loaded is not None and type(loaded.status) is MentorStatus
    assert card.status is OutboxStatus.PENDING
    assert await mentors.account_status(database, ring, MO) is MentorStatus.ACTIVE


async def test_the_stored_strings_are_the_ones_stored_before(
    database: Database, ring: KeyRing
) -> None:
    """Rows as the untyped columns wrote them read back as members, and typed writes
    store the very same strings: nothing to migrate."""
    referral = await a_referral(database, ring)
    async with database.transaction() as connection:
        stored = (
            await connection.execute(
                text("SELECT status, contact_by, share FROM referrals WHERE id = :id"),
                {"id": referral.id},
            )
        ).one()
        assert tuple(stored) == ("pending", "bot", "categories")
        assert all(type(value) is str for value in stored)
        old_id = new_id()
        await connection.execute(
            text(
                "INSERT INTO referrals (id, public_ref, person_id, office_id, pilot_area,"
                " status, version, contact_by, share, time_window, ladder_step, created_at)"
                " VALUES (:id, 'R-AAAAAA', NULL, :office, 'North West', 'closed', 3,"
                " 'phone', 'none', 'any', 2, :now)"
            ),
            {"id": old_id, "office": OFFICE, "now": NOW.replace(tzinfo=None)},
        )
        old = await referrals.by_id(connection, old_id)
    assert old is not None
    assert (old.status, old.contact_by, old.share) == (
        ReferralStatus.CLOSED,
        ContactBy.PHONE,
        Share.NONE,
    )
    assert type(old.status) is ReferralStatus


@pytest.mark.parametrize(
    ("column", "value"),
    [("status", "taken"), ("share", "everything"), ("contact_by", "pigeon")],
)
async def test_a_string_that_is_no_member_never_reaches_the_database(
    database: Database, ring: KeyRing, column: str, value: str
) -> None:
    referral = await a_referral(database, ring)
    statements: list[str] = []

    def record(*args: Any) -> None:
        statements.append(str(args[2]))

    engine = database.engine.sync_engine
    async with database.transaction() as connection:
        event.listen(engine, "before_cursor_execute", record)
        try:
            with pytest.raises(StatementError, match="is not among the defined enum values"):
                await connection.execute(
                    update(Referral).where(Referral.id == referral.id).values({column: value})
                )
        finally:
            event.remove(engine, "before_cursor_execute", record)
    assert statements == []
    async with database.transaction() as connection:
        unchanged = await referrals.by_id(connection, referral.id)
    assert unchanged == referral


async def test_an_insert_with_no_member_is_refused_too(database: Database) -> None:
    with pytest.raises(StatementError, match="is not among the defined enum values"):
        async with database.transaction() as connection:
            await connection.execute(
                insert(Referral).values(
                    id=new_id(),
                    public_ref="R-CCCCCC",
                    office_id=OFFICE,
                    pilot_area="North West",
                    status="pending",
                    version=0,
                    contact_by="bot",
                    share="all of it",
                    time_window="any",
                    ladder_step=0,
                    created_at=NOW,
                )
            )
    async with database.read() as connection:
        assert (await connection.execute(select(Referral.id))).all() == []
