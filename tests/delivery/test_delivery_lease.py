"""Leases: a row left inflight by a dead worker is sent again once its lease ran out,
exactly once; two workers at once never send the same row twice."""

from __future__ import annotations

import asyncio
from collections import Counter
from collections.abc import Awaitable, Callable
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Select, select, update
from sqlalchemy.ext.asyncio import AsyncConnection

from bot.delivery import DeliveryWorker
from storage.crypto import KeyRing
from storage.repositories.outbox import Claimed
from tests.support.delivery import open_rig, outbox, rejected
from tests.support.tables import OUTBOX

PERSON = 7_100_000_201
MENTOR_IDS = [7_200_000_201, 7_200_000_202, 7_200_000_203, 7_200_000_204]


async def lease_rows(
    connection: AsyncConnection, ids: list[str], worker: DeliveryWorker
) -> list[Claimed]:
    """Lease exactly these rows, whatever their state (what a broken claim does)."""
    lease_until = worker.clock() + worker.policy.lease
    rows = (
        await connection.execute(
            update(OUTBOX)
            .where(OUTBOX.c.id.in_(ids))
            .values(status="inflight", lease_until=lease_until, attempts=OUTBOX.c.attempts + 1)
            .returning(
                *(OUTBOX.c[name] for name in Claimed.__dataclass_fields__ if name in OUTBOX.c)
            )
        )
    ).all()
    return [Claimed(**row._asdict()) for row in rows]  # `uncertain` is no column: False


def due_pending(worker: DeliveryWorker) -> Select[str]:
    return (
        select(OUTBOX.c.id)
        .where(OUTBOX.c.status == "pending", OUTBOX.c.next_attempt_at <= worker.clock())
        .limit(worker.policy.batch_size)
    )


class ClaimsOnlyPending(DeliveryWorker):
    """Forgets that an inflight row whose lease ran out is due again."""

    async def claim(self) -> list[Claimed]:
        async with self.database.transaction() as connection:
            ids = list((await connection.execute(due_pending(self))).scalars())
            return await lease_rows(connection, ids, self)


class ReadThenWrite(DeliveryWorker):
    """Reads due rows, then leases them in a later transaction: two workers take the
    same rows."""

    async def claim(self) -> list[Claimed]:
        async with self.database.transaction() as connection:
            ids = list((await connection.execute(due_pending(self))).scalars())
        await asyncio.sleep(0.05)
        async with self.database.transaction() as connection:
            return await lease_rows(connection, ids, self)


async def lease_scenario(
    database_url: str, ring: KeyRing, tmp_path: Path, cls: type[DeliveryWorker]
) -> None:
    async with open_rig(database_url, ring, tmp_path, delivery_lease_seconds=60) as rig:
        person = await rig.person(PERSON)
        mentor = await rig.mentor(MENTOR_IDS[0])
        seeded = await rig.referral(person, [mentor])
        card = seeded.cards[mentor]

        # A worker claims the card and dies before sending (nothing else happens).
        crashed = await rig.make_worker().claim()
        assert [row.id for row in crashed] == [card]
        row = (await outbox(rig.database))[card]
        assert (row.status, row.attempts) == ("inflight", 1)

        survivor = rig.make_worker(cls)
        rig.movable.advance(seconds=30)  # the lease still holds
        await survivor.drain()
        assert rig.emu.calls("sendMessage") == []

        rig.movable.advance(seconds=31)  # now it ran out
        await survivor.drain()
        rig.movable.advance(seconds=120)
        await survivor.drain()

        assert len(rig.sends_to(MENTOR_IDS[0])) == 1
        row = (await outbox(rig.database))[card]
        assert (row.status, row.attempts, row.lease_until) == ("sent", 2, None)


async def test_expired_lease_is_reclaimed_and_sent_exactly_once(
    database_url: str, ring: KeyRing, tmp_path: Path
) -> None:
    await lease_scenario(database_url, ring, tmp_path, DeliveryWorker)


async def test_lease_scenario_rejects_a_claim_that_ignores_expired_leases(
    database_url: str, ring: KeyRing, tmp_path: Path
) -> None:
    await rejected(lease_scenario(database_url, ring, tmp_path, ClaimsOnlyPending))


async def two_workers_scenario(
    database_url: str, ring: KeyRing, tmp_path: Path, cls: type[DeliveryWorker]
) -> None:
    async with open_rig(database_url, ring, tmp_path, delivery_messages_per_second=30) as rig:
        mentors = [await rig.mentor(m) for m in MENTOR_IDS]
        refs = []
        for n in range(10):
            person = await rig.person(PERSON + n)
            refs.append((await rig.referral(person, mentors)).ref)

        first, second = rig.make_worker(cls), rig.make_worker(cls)
        await asyncio.gather(first.drain(), second.drain())
        await rig.settle(max_steps=5)

        sent = Counter(
            (int(call.params["chat_id"]), call.params["text"])
            for call in rig.emu.calls("sendMessage")
        )
        assert len(sent) == len(MENTOR_IDS) * len(refs)
        assert set(sent.values()) == {1}, "a card was sent twice"


async def test_two_workers_never_send_the_same_row(
    database_url: str, ring: KeyRing, tmp_path: Path
) -> None:
    await two_workers_scenario(database_url, ring, tmp_path, DeliveryWorker)


async def test_two_workers_scenario_rejects_a_read_then_write_claim(
    database_url: str, ring: KeyRing, tmp_path: Path
) -> None:
    await rejected(two_workers_scenario(database_url, ring, tmp_path, ReadThenWrite))


def held_only(module: Any) -> Callable[..., Awaitable[bool]]:
    """The old record (broken variant): only while our lease holds, so a send slower than
    the lease loses its message id even when nobody else recorded the row."""

    async def mark_sent(
        connection: AsyncConnection, row: Claimed, *, now: datetime, message_id: int | None
    ) -> bool:
        result = await connection.execute(
            update(OUTBOX)
            .where(
                OUTBOX.c.id == row.id,
                OUTBOX.c.status == "inflight",
                OUTBOX.c.lease_until == row.lease_until,
            )
            .values(status="sent", sent_at=now, sent_message_id=message_id, payload_ct=None)
        )
        return bool(result.rowcount == 1)

    return mark_sent


class KeepsDuplicates(DeliveryWorker):
    """Broken variant: leaves its copy on screen when another worker's was recorded."""

    async def drop_duplicate(self, chat_id: int, message_id: int | None) -> None:
        return None


async def slow_send_scenario(
    database_url: str,
    ring: KeyRing,
    tmp_path: Path,
    cls: type[DeliveryWorker],
    *,
    second_delay: float,
) -> None:
    """A's send of a card outlives its lease; B reclaims and sends it too. Whichever copy
    is recorded, the mentor keeps exactly one card, and it is the recorded one (so the
    card's later edits reach it)."""
    async with open_rig(database_url, ring, tmp_path, delivery_lease_seconds=60) as rig:
        person = await rig.person(PERSON)
        mentor = await rig.mentor(MENTOR_IDS[0])
        seeded = await rig.referral(person, [mentor])
        chat = MENTOR_IDS[0]
        slow = rig.emu.inject_fault("sendMessage", status=None, delay=0.6, chat_id=chat)
        first = asyncio.create_task(rig.make_worker(cls).drain())
        for _ in range(200):
            if slow.hits:
                break
            await asyncio.sleep(0.01)
        assert slow.hits == 1, "the first send never started"
        rig.movable.advance(seconds=61)  # the first lease runs out mid-send
        if second_delay:
            rig.emu.inject_fault("sendMessage", status=None, delay=second_delay, chat_id=chat)
        await asyncio.gather(first, rig.make_worker(cls).drain())

        assert len(rig.sends_to(chat)) == 2  # at least once: both copies went out
        cards = [m for m in rig.emu.bot_messages(chat) if seeded.ref in (m.text or "")]
        row = (await outbox(rig.database))[seeded.cards[mentor]]
        assert row.status == "sent"
        assert [m.message_id for m in cards] == [row.sent_message_id], "a card nobody can edit"


@pytest.mark.parametrize("second_delay", [0.0, 1.2], ids=["second-records-first", "first-does"])
async def test_a_send_slower_than_its_lease_leaves_one_recorded_card(
    database_url: str, ring: KeyRing, tmp_path: Path, second_delay: float
) -> None:
    await slow_send_scenario(
        database_url, ring, tmp_path, DeliveryWorker, second_delay=second_delay
    )


@pytest.mark.parametrize("second_delay", [0.0, 1.2], ids=["second-records-first", "first-does"])
async def test_slow_send_scenario_rejects_a_worker_that_keeps_its_duplicate(
    database_url: str, ring: KeyRing, tmp_path: Path, second_delay: float
) -> None:
    await rejected(
        slow_send_scenario(database_url, ring, tmp_path, KeepsDuplicates, second_delay=second_delay)
    )


async def test_slow_send_scenario_rejects_a_record_that_needs_the_lease(
    database_url: str, ring: KeyRing, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from bot.delivery import worker as module

    monkeypatch.setattr(module, "mark_sent", held_only(module))
    await rejected(
        slow_send_scenario(database_url, ring, tmp_path, DeliveryWorker, second_delay=1.2)
    )
