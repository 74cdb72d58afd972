"""What delivery leaves behind: logs with event names only (no text, no ids, no token),
alerts with a reference and a reason only, payloads dropped once sent or dead, reprs
that show nothing decrypted."""

from __future__ import annotations

import logging
from pathlib import Path

import pytest

from storage.crypto import KeyRing
from storage.repositories.outbox import Kind, Ready, Reason, Send
from tests.support.delivery import PERSON_CANARY, open_rig, outbox, seed_message

PERSON = 7_100_000_401
MENTOR_IDS = [7_200_000_401, 7_200_000_402, 7_200_000_403]
COORDINATOR = 7_300_000_401


async def test_logs_hold_events_only_and_payloads_are_dropped(
    database_url: str, ring: KeyRing, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO)
    caplog.set_level(logging.DEBUG, logger="firststep")
    async with open_rig(database_url, ring, tmp_path, delivery_max_attempts=3) as rig:
        person = await rig.person(PERSON)
        mentors = [await rig.mentor(m) for m in MENTOR_IDS]
        coordinator = await rig.mentor(COORDINATOR, role="coordinator", office_id=None)
        seeded = await rig.referral(person, mentors)
        # A row the worker cannot even build a request for (a bug): it must not stop
        # the others, loop, or log what it holds.
        broken = await seed_message(
            rig.database,
            ring,
            kind=Kind.CARD,
            recipient_kind="mentor",
            recipient_id=mentors[2],
            about=person,
            payload=Send(PERSON_CANARY, markup={"inline_keyboard": PERSON_CANARY}),
            now=rig.now,
            referral_id=seeded.referral_id,
        )
        rig.emu.block_bot(MENTOR_IDS[0])
        rig.emu.inject_fault("sendMessage", status=502, count=1, chat_id=MENTOR_IDS[1])
        rig.emu.inject_fault("sendMessage", timeout=True, count=1, chat_id=MENTOR_IDS[2])

        await rig.settle(max_steps=200)

        rows = await outbox(rig.database)
        assert rows[seeded.cards[mentors[0]]].last_error == Reason.UNREACHABLE
        assert rows[seeded.cards[mentors[1]]].status == "sent"
        assert rows[seeded.cards[mentors[2]]].status == "sent"
        assert (rows[broken].status, rows[broken].last_error, rows[broken].attempts) == (
            "dead",
            Reason.GAVE_UP,
            3,
        )
        assert all(row.payload_ct is None for row in rows.values())
        alerts = [row for row in rows.values() if row.kind == Kind.ALERT]
        assert {a.payload_subject for a in alerts} == {coordinator}  # not the person's key
        for text in rig.emu.bot_texts(COORDINATOR):
            assert seeded.ref in text
            assert PERSON_CANARY not in text

    logged = caplog.text + "".join(r.exc_text or "" for r in caplog.records)
    for event in (
        "event=delivery_dead",
        "event=delivery_retry",
        "event=delivery_alert_queued",
        "event=delivery_row_error",
    ):
        assert event in logged
    secrets = [
        PERSON_CANARY,
        seeded.ref,
        rig.emu.token,
        rig.emu.token.split(":")[1],
        person,
        coordinator,
        broken,
        *mentors,
        *seeded.cards.values(),
        *(str(chat) for chat in [PERSON, COORDINATOR, *MENTOR_IDS]),
    ]
    for secret in secrets:
        assert secret not in logged


async def test_flood_control_logs_no_ids(
    database_url: str, ring: KeyRing, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO)
    async with open_rig(database_url, ring, tmp_path, real_time=True, rate_limit=True) as rig:
        person = await rig.person(PERSON)
        mentor = await rig.mentor(MENTOR_IDS[0])
        seeded = await rig.referral(person, [mentor])
        rig.emu.inject_fault("sendMessage", status=429, retry_after=1)
        await rig.worker.run_once()
        await rig.worker.run_once()
        assert (await outbox(rig.database))[seeded.cards[mentor]].status == "sent"
    logged = caplog.text + "".join(r.exc_text or "" for r in caplog.records)
    assert "event=delivery_flood_control" in logged
    for secret in [PERSON_CANARY, seeded.ref, str(MENTOR_IDS[0]), mentor, rig.emu.token]:
        assert secret not in logged


def test_reprs_show_nothing_decrypted() -> None:
    ready = Ready(chat_id=MENTOR_IDS[0], payload=Send(PERSON_CANARY))
    assert PERSON_CANARY not in repr(ready)
    assert str(MENTOR_IDS[0]) not in repr(ready)
