"""Nobody becomes a mentor without a valid invite, and a revoked mentor can do nothing.

Reuse, expiry (on the harness clock), 1,000 random guesses (throttled per account),
two accounts redeeming one code at once (and the same test against a check-then-update
redemption, which lets both in), approval, and a revoked mentor's every action.
"""

from __future__ import annotations

import asyncio
import secrets
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import func, select, update

from conversations import texts
from conversations.mentor.accounts import approve_mentor, revoke_mentor
from storage.crypto import KeyRing
from storage.db import Database
from storage.models import MentorRole, MentorStatus
from storage.repositories import mentors
from storage.repositories.mentors import JoinResult, code_hash
from tests.support.handoff import (
    drain,
    join_as_mentor,
    new_invite,
    request_mentor,
    services_of,
)
from tests.support.harness import Harness
from tests.support.tables import INVITES, MENTORS

OFFICE = "portsmouth-arundel-street"
NOW = datetime(2026, 11, 30, 9, 0, tzinfo=UTC)
SAM, JO, MAX, EVE = 8_800_400_001, 8_800_400_002, 8_800_400_003, 8_800_400_004
ALEX, BEA = 7_700_400_001, 7_700_400_002


async def mentor_count(database: Database) -> int:
    async with database.transaction() as connection:
        return int(
            (await connection.execute(select(func.count()).select_from(MENTORS))).scalar_one()
        )


async def make_invite(database: Database, ttl: timedelta = timedelta(hours=72)) -> str:
    async with database.transaction() as connection:
        invite = await mentors.create_invite(
            connection,
            role=MentorRole.MENTOR,
            office_id=OFFICE,
            pilot_area="Portsmouth",
            now=NOW,
            ttl=ttl,
        )
    return invite.code


async def redeem(
    database: Database, ring: KeyRing, telegram_id: int, code: str, now: datetime = NOW
) -> JoinResult:
    async with database.transaction() as connection:
        outcome = await mentors.redeem_invite(
            connection,
            ring,
            telegram_id=telegram_id,
            chat_id=telegram_id,
            code=code,
            now=now,
            attempts_per_hour=5,
        )
    return outcome.result


# ---------------------------------------------------------------------- through the bot


async def test_join_name_and_a_used_code_is_refused(harness: Harness) -> None:
    code = await new_invite(harness, office_id=OFFICE)
    harness.person(SAM)
    await harness.send(SAM, "/join")
    assert harness.last_text(SAM) == texts.JOIN_HOW
    harness.emu.user_starts(SAM, f"join-{code}")  # the deep-link form
    await harness.settle()
    assert harness.last_text(SAM).startswith(
        "Welcome. You're joining as a peer mentor at Portsmouth"
    )
    await harness.send(SAM, "Sam123")
    assert texts.NAME_BAD in harness.all_text(SAM)
    await harness.send(SAM, "  sam  ")
    assert harness.last_text(SAM).startswith("Thanks, Sam. You're all set.")
    assert "/join" not in " ".join(harness.texts(SAM)[-1:])

    harness.person(JO)
    await harness.send(JO, f"/join {code}")
    assert harness.last_text(JO) == texts.JOIN_INVALID
    # Jo is still a person: /start gives the privacy notice, not mentor mode.
    await harness.send(JO, "/start")
    assert "Before you tell us anything" in harness.all_text(JO)
    assert await mentor_count(services_of(harness).database) == 1


async def test_an_expired_code_is_refused(harness: Harness) -> None:
    code = await new_invite(harness, office_id=OFFICE, ttl_hours=72)
    harness.clock.advance(hours=72, seconds=1)
    harness.person(SAM)
    await harness.send(SAM, f"/join {code}")
    assert harness.last_text(SAM) == texts.JOIN_INVALID
    assert await mentor_count(services_of(harness).database) == 0


async def test_wrong_codes_are_throttled_then_allowed_again_after_an_hour(
    harness: Harness,
) -> None:
    code = await new_invite(harness, office_id=OFFICE)
    harness.person(SAM)
    for _ in range(5):
        await harness.send(SAM, f"/join {secrets.token_urlsafe(16)}")
        assert harness.last_text(SAM) == texts.JOIN_INVALID
    await harness.send(SAM, f"/join {code}")  # even the right code, while throttled
    assert harness.last_text(SAM) == texts.JOIN_THROTTLED
    harness.clock.advance(minutes=61)
    await harness.send(SAM, f"/join {code}")
    assert harness.last_text(SAM).startswith("Welcome.")


async def test_a_mentor_waiting_for_approval_gets_no_requests(
    database_url: str, ring: KeyRing, tmp_path: Path
) -> None:
    harness = Harness(database_url, ring, tmp_path, mentor_approval=True)
    await harness.start()
    try:
        await join_as_mentor(harness, SAM, "Sam", office_id=OFFICE)
        assert harness.last_text(SAM) == texts.NAME_PENDING.format(name="Sam")
        await harness.send(SAM, "/referrals")
        assert harness.last_text(SAM) == texts.MENTOR_WAIT_APPROVAL
        await request_mentor(harness, ALEX, OFFICE)
        assert texts.MENTOR_SENT_NOBODY.split("{")[0] in harness.last_text(ALEX)
        await drain(harness)
        assert not any("New request" in t for t in harness.texts(SAM))

        services = services_of(harness)
        async with services.database.transaction() as connection:
            (mentor_id,) = (await connection.execute(select(MENTORS.c.id))).one()
            assert await approve_mentor(connection, services.ring, mentor_id, services.clock())
        await drain(harness)
        assert harness.last_text(SAM) == texts.MENTOR_APPROVED
        await request_mentor(harness, BEA, OFFICE)
        await drain(harness)
        assert "New request" in harness.last_text(SAM)
    finally:
        await harness.stop()


async def test_a_coordinator_waiting_for_approval_is_told_the_pilot_team_approves(
    database_url: str, ring: KeyRing, tmp_path: Path
) -> None:
    harness = Harness(database_url, ring, tmp_path, mentor_approval=True)
    await harness.start()
    try:
        await join_as_mentor(harness, EVE, "Eve", area="Portsmouth", role=MentorRole.COORDINATOR)
        assert harness.last_text(EVE) == texts.NAME_PENDING_COORDINATOR.format(name="Eve")
        await harness.send(EVE, "/referrals")
        assert harness.last_text(EVE) == texts.COORDINATOR_WAIT_APPROVAL
        # A coordinator has no coordinator above them: nothing tells them to ask one.
        assert not any("your coordinator" in t.lower() for t in harness.texts(EVE))

        services = services_of(harness)
        async with services.database.transaction() as connection:
            (mentor_id,) = (await connection.execute(select(MENTORS.c.id))).one()
            assert await approve_mentor(connection, services.ring, mentor_id, services.clock())
        await drain(harness)
        assert harness.last_text(EVE) == texts.COORDINATOR_APPROVED
    finally:
        await harness.stop()


async def test_a_revoked_mentor_is_refused_everything_and_their_person_is_not_left_alone(
    harness: Harness,
) -> None:
    await join_as_mentor(harness, SAM, "Sam", office_id=OFFICE)
    await join_as_mentor(harness, JO, "Jo", office_id=OFFICE)
    ref = await request_mentor(harness, ALEX, OFFICE)
    await drain(harness)
    await harness.press(SAM, texts.BTN_ACCEPT)
    await drain(harness)
    relayed_card = harness.emu.last_bot_message(SAM)
    assert relayed_card is not None

    services = services_of(harness)
    async with services.database.transaction() as connection:
        mentor = await mentors.load_mentor(connection, services.ring, SAM)
        assert mentor is not None
        assert await revoke_mentor(connection, services.ring, mentor.id, services.clock()) == 1
        assert await revoke_mentor(connection, services.ring, mentor.id, services.clock()) is None

    # Alex is told honestly; Jo gets the request again; the coordinators would be told.
    await drain(harness)
    assert harness.last_text(ALEX) == texts.LADDER_MENTOR_LEFT.format(ref=ref, area="Portsmouth")
    assert harness.last_text(JO).startswith(f"🤝 New request {ref}")

    # Every action of Sam's is refused and changes nothing.
    before = await _mentor_rows(services.database)
    for command in ("/available", "/away", "/referrals", f"/close {ref}", f"/to {ref} hi"):
        await harness.send(SAM, command)
        assert harness.last_text(SAM) == texts.MENTOR_REVOKED
    harness.emu.user_sends(SAM, "still there?", reply_to_message_id=relayed_card.message_id)
    await harness.settle()
    assert harness.last_text(SAM) == texts.MENTOR_REVOKED
    harness.emu.forge_callback(SAM, relayed_card.message_id, f"mc:acc:{ref}")
    await harness.settle()
    answers = list(harness.emu.callback_answers().values())
    assert answers[-1].text == texts.TOAST_MENTORS_ONLY
    assert await _mentor_rows(services.database) == before
    assert not any(ref in t and "still there" in t for t in harness.texts(ALEX))

    # A new request goes to Jo only.
    await request_mentor(harness, BEA, OFFICE)
    delivered = await drain(harness)
    assert {chat for kind, chat in delivered.sent if kind == "card"} == {JO}


async def _mentor_rows(database: Database) -> list[tuple[object, ...]]:
    async with database.transaction() as connection:
        return [
            tuple(r)
            for r in (await connection.execute(select(MENTORS).order_by(MENTORS.c.id))).all()
        ]


# ------------------------------------------------------------------ storage, at volume


@pytest.mark.slow
async def test_a_thousand_random_guesses_let_nobody_in(database: Database, ring: KeyRing) -> None:
    real = await make_invite(database)
    results: dict[JoinResult, int] = {}
    accounts = [9_200_000_000 + n for n in range(20)]
    for telegram_id in accounts:
        per_account = []
        for _ in range(50):
            result = await redeem(database, ring, telegram_id, secrets.token_urlsafe(16))
            per_account.append(result)
            results[result] = results.get(result, 0) + 1
        # Five wrong codes, then nothing more is even tried this hour.
        assert per_account == [JoinResult.INVALID] * 5 + [JoinResult.THROTTLED] * 45
    assert sum(results.values()) == 1000
    assert await mentor_count(database) == 0
    # Throttled accounts cannot use even the real code; a fresh account can.
    assert await redeem(database, ring, accounts[0], real) == JoinResult.THROTTLED
    assert await redeem(database, ring, 9_300_000_000, real) == JoinResult.JOINED
    async with database.transaction() as connection:
        used = (
            await connection.execute(
                select(INVITES.c.used_at).where(INVITES.c.code_hash == code_hash(real))
            )
        ).scalar_one()
    assert used is not None


async def broken_redeem(
    database: Database, ring: KeyRing, telegram_id: int, code: str
) -> JoinResult:
    """Check-then-update: looks the code up in one transaction, spends it in the next."""
    async with database.transaction() as connection:
        row = (
            await connection.execute(
                select(INVITES.c.used_at, INVITES.c.expires_at).where(
                    INVITES.c.code_hash == code_hash(code)
                )
            )
        ).one()
    if row.used_at is not None or row.expires_at <= NOW:
        return JoinResult.INVALID
    # Between the two, the loop serves someone else (inline SQLite itself never yields).
    await asyncio.sleep(0)
    async with database.transaction() as connection:
        await connection.execute(
            update(INVITES).where(INVITES.c.code_hash == code_hash(code)).values(used_at=NOW)
        )
    return JoinResult.JOINED


Redeem = Callable[[Database, KeyRing, int, str], Awaitable[JoinResult]]


async def two_accounts_at_once(
    database: Database, ring: KeyRing, redeem_fn: Redeem, trials: int
) -> list[int]:
    winners: list[int] = []
    for trial in range(trials):
        code = await make_invite(database)
        barrier = asyncio.Barrier(2)
        accounts = (9_400_000_000 + 2 * trial, 9_400_000_001 + 2 * trial)

        async def one(
            telegram_id: int, code: str = code, barrier: asyncio.Barrier = barrier
        ) -> JoinResult:
            await barrier.wait()
            return await redeem_fn(database, ring, telegram_id, code)

        results = await asyncio.gather(*(one(a) for a in accounts))
        winners.append(results.count(JoinResult.JOINED))
    return winners


async def test_two_accounts_redeeming_one_code_at_once_only_one_joins(
    database: Database, ring: KeyRing
) -> None:
    winners = await two_accounts_at_once(database, ring, redeem, trials=20)
    assert winners == [1] * 20
    assert await mentor_count(database) == 20


async def test_the_same_test_catches_a_check_then_update_redemption(
    database: Database, ring: KeyRing
) -> None:
    winners = await two_accounts_at_once(database, ring, broken_redeem, trials=20)
    assert any(w > 1 for w in winners), winners


async def test_revoked_rows_and_unknown_prefixes(database: Database, ring: KeyRing) -> None:
    code = await make_invite(database)
    assert await redeem(database, ring, SAM, code) == JoinResult.JOINED
    async with database.transaction() as connection:
        (mentor_id,) = (await connection.execute(select(MENTORS.c.id))).one()
        found = await mentors.find_by_prefix(connection, mentor_id[:6])
        assert found.id == mentor_id and found.status == MentorStatus.PENDING_NAME
        with pytest.raises(mentors.MentorLookupError):
            await mentors.find_by_prefix(connection, "zz")
        assert await mentors.revoke(connection, mentor_id)
        assert not await mentors.approve(connection, mentor_id)
        record = await mentors.load_mentor(connection, ring, SAM)
        assert record is not None and record.status == MentorStatus.REVOKED
        assert "Sam" not in repr(record) and str(SAM) not in repr(record)
    assert await mentors.account_status(database, ring, SAM) == MentorStatus.REVOKED
    assert await mentors.account_status(database, ring, EVE) is None
