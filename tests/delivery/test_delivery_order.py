"""A chat reads in the order it was written: relayed messages queued for one recipient
in the same instant, or held up by a failed attempt or by flood control, still arrive
in order. Each scenario also runs against a deliberately broken variant, and the same
assertions must reject it."""

from __future__ import annotations

from pathlib import Path

import pytest

import bot.delivery.worker as worker_module
import storage.repositories.outbox as outbox_module
from storage.crypto import KeyRing
from storage.models import new_id
from storage.repositories.outbox import Kind, Send, release
from tests.support.delivery import open_rig, rejected, seed_message, set_referral_status

PERSON = 7_100_000_041
MENTOR = 7_200_000_041
MESSAGES = [f"message {n} of 12" for n in range(1, 13)]


async def order_scenario(
    database_url: str, ring: KeyRing, tmp_path: Path, fault: int | None
) -> None:
    """Twelve relays to one mentor, all queued at the same (frozen) instant; `fault` makes
    the first attempt at the first of them fail with that HTTP status."""
    async with open_rig(database_url, ring, tmp_path) as rig:
        person = await rig.person(PERSON)
        mentor = await rig.mentor(MENTOR)
        seeded = await rig.referral(person, [mentor])
        await set_referral_status(rig.database, seeded.referral_id, "accepted")
        for text in MESSAGES:
            await seed_message(
                rig.database,
                rig.ring,
                kind=Kind.RELAY,
                recipient_kind="mentor",
                recipient_id=mentor,
                about=person,
                payload=Send(text),
                now=rig.now,
                referral_id=seeded.referral_id,
            )
        if fault is not None:
            rig.emu.inject_fault("sendMessage", status=fault, chat_id=MENTOR)
        await rig.settle()
        arrived = [
            text
            for call in rig.sends_to(MENTOR)
            if call.status == 200 and (text := call.params.get("text")) in MESSAGES
        ]
        assert sorted(arrived) == sorted(MESSAGES), "a message was lost or doubled"
        assert arrived == MESSAGES, arrived


@pytest.mark.parametrize("fault", [None, 502, 429], ids=["same-instant", "retry", "flood"])
async def test_one_chat_reads_in_the_order_written(
    database_url: str, ring: KeyRing, tmp_path: Path, fault: int | None
) -> None:
    await order_scenario(database_url, ring, tmp_path, fault)


async def test_random_row_ids_are_caught(
    database_url: str, ring: KeyRing, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Broken: outbox rows get random ids, so rows queued in one instant have no order."""
    monkeypatch.setattr(outbox_module, "ordered_id", new_id)
    await rejected(order_scenario(database_url, ring, tmp_path, None))


@pytest.mark.parametrize("fault", [502, 429], ids=["retry", "flood"])
async def test_a_failed_first_that_holds_nothing_back_is_caught(
    database_url: str, ring: KeyRing, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, fault: int
) -> None:
    """Broken: what follows a row to be tried again is handed back due at once, so it
    overtakes the row it followed."""

    async def release_at_once(connection: object, leader: object, rows: list[object]) -> None:
        await release(connection, rows)  # type: ignore[arg-type]

    monkeypatch.setattr(worker_module, "hold_behind", release_at_once)
    await rejected(order_scenario(database_url, ring, tmp_path, fault))
