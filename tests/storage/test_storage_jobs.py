"""The job loops storage runs for the mentor side (the unclaimed ladder, expiry): each
referral in a transaction of its own, read again inside it, and skipped when it is no
longer due by then."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from storage.crypto import KeyRing
from storage.db import Connection, Database
from storage.models import ContactBy, ReferralStatus, Share
from storage.repositories import referrals
from storage.repositories.people import person_transaction
from storage.repositories.referrals import Ladder, ReferralRow

NOW = datetime(2026, 12, 1, 9, 0, tzinfo=UTC)
OFFICE = "liverpool-duke-street"


async def three_referrals(database: Database, ring: KeyRing) -> list[ReferralRow]:
    """Two due on the ladder now (made an hour and half an hour ago), one due later."""
    made: list[ReferralRow] = []
    for n, (age, due_in) in enumerate([(60, -5), (30, -1), (10, 30)]):
        async with person_transaction(database, ring, 1_000_000_100 + n, NOW) as tx:
            person = await tx.register(state="mentor.waiting", chat_id=n + 1)
            made.append(
                await referrals.create(
                    tx.connection,
                    person_id=person.id,
                    office_id=OFFICE,
                    pilot_area="North West",
                    contact_by=ContactBy.BOT,
                    share=Share.NONE,
                    time_window="any",
                    ladder_step=Ladder.OFFICE,
                    next_ladder_at=NOW + timedelta(minutes=due_in),
                    now=NOW - timedelta(minutes=age),
                )
            )
    return made


async def status_of(database: Database, referral: ReferralRow) -> ReferralStatus:
    async with database.read() as connection:
        found = await referrals.by_id(connection, referral.id)
    assert found is not None
    return found.status


async def test_a_referral_that_ended_after_the_list_was_read_is_skipped(
    database: Database, ring: KeyRing
) -> None:
    first, second, later = await three_referrals(database, ring)
    seen: list[str] = []

    async def work(connection: Connection, referral: ReferralRow) -> bool:
        seen.append(referral.id)
        if referral.id == first.id:  # meanwhile, the second one ends (withdrawn)
            await referrals.expire(connection, second, NOW)
        return True

    assert await referrals.each_due_on_ladder(database, NOW, 10, work) == 1
    assert seen == [first.id]  # the second had ended by then; the third is not due
    assert await status_of(database, second) == ReferralStatus.WITHDRAWN
    assert await status_of(database, later) == ReferralStatus.PENDING


async def test_each_referral_commits_or_rolls_back_on_its_own(
    database: Database, ring: KeyRing
) -> None:
    first, second, _ = await three_referrals(database, ring)

    async def work(connection: Connection, referral: ReferralRow) -> bool:
        await referrals.expire(connection, referral, NOW)
        if referral.id == second.id:
            raise RuntimeError("the second one's step failed")
        return True

    with pytest.raises(RuntimeError):
        await referrals.each_pending_since(database, NOW, 10, work)
    assert await status_of(database, first) == ReferralStatus.WITHDRAWN  # committed
    assert await status_of(database, second) == ReferralStatus.PENDING  # rolled back


async def test_only_referrals_made_before_the_cut_off_are_given(
    database: Database, ring: KeyRing
) -> None:
    first, second, later = await three_referrals(database, ring)
    seen: list[str] = []

    async def work(connection: Connection, referral: ReferralRow) -> bool:
        seen.append(referral.id)
        return referral.id == second.id

    cut_off = NOW - timedelta(minutes=20)
    assert await referrals.each_pending_since(database, cut_off, 10, work) == 1
    assert seen == [first.id, second.id]
    assert later.id not in seen
