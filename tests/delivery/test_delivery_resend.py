"""A relay sent again after a crash says so (bot/delivery/resend.py), driven without a
crash run: a worker journals a send and dies with no answer (Telegram applied it, or not),
and the next worker replays its journal and sends the row again, labelled. Nothing is
lost; a message that shows twice never shows twice as written. The whole-process version
is tests/handoff/test_crash_relay.py."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest

from bot.delivery import DeliveryWorker
from bot.delivery.journal import SendJournal
from bot.delivery.resend import labelled, sent_again
from conversations.door import WEB_CHAT_FLOOR
from conversations.relay import MAX_MESSAGE
from storage.crypto import KeyRing
from storage.repositories.outbox import Claimed, Kind, Ready, Reason, Send
from tests.support.delivery import (
    Rig,
    died,
    open_rig,
    outbox,
    rejected,
    seed_message,
    set_referral_status,
)

PERSON = 7_100_000_401
MENTOR = 7_200_000_401
WORDS = "Sam: I can't make Tuesday, can we do Thursday?"


class UnlabelledResend(DeliveryWorker):
    """Broken: sends again after an uncertain attempt as if it were the first."""

    def sent_again(self, row: Claimed, ready: Ready) -> Ready:
        return ready


async def queue_relay(rig: Rig) -> str:
    """A mentor's words queued for the person in an accepted chat; the row's id."""
    person = await rig.person(PERSON)
    seeded = await rig.referral(person, [])
    await set_referral_status(rig.database, seeded.referral_id, "accepted")
    return await seed_message(
        rig.database,
        rig.ring,
        kind=Kind.RELAY,
        recipient_kind="person",
        recipient_id=person,
        about=person,
        payload=Send(WORDS),
        now=rig.now,
        referral_id=seeded.referral_id,
    )


async def relay_in_a_crash(rig: Rig, journal_dir: Path, *, arrived: bool) -> str:
    """A relay to the person in an accepted chat; a worker journals its send, Telegram
    applies it (`arrived`) or not, and the worker dies before the answer is journaled."""
    row_id = await queue_relay(rig)
    crashed = rig.make_worker(journal=SendJournal(journal_dir))
    assert crashed.journal is not None
    crashed.journal.start()
    (row,) = await crashed.claim()
    ready = await crashed.sort_out([row])
    crashed.journal.sending(row.id)
    if arrived:
        await crashed.send(ready[row.id])
    died(crashed.journal)
    return row_id


async def survivor_sends(rig: Rig, journal_dir: Path, cls: type[DeliveryWorker]) -> None:
    survivor = rig.make_worker(cls, journal=SendJournal(journal_dir))
    assert survivor.journal is not None
    survivor.journal.start()
    rig.movable.advance(seconds=61)  # the dead worker's lease ran out
    await rig.settle(survivor)
    survivor.journal.close()


async def double_scenario(
    database_url: str, ring: KeyRing, tmp_path: Path, cls: type[DeliveryWorker]
) -> None:
    async with open_rig(database_url, ring, tmp_path, delivery_lease_seconds=60) as rig:
        journal_dir = tmp_path / "journal"
        row_id = await relay_in_a_crash(rig, journal_dir, arrived=True)
        await survivor_sends(rig, journal_dir, cls)
        shown = rig.emu.bot_texts(PERSON)
        assert shown.count(WORDS) == 1, f"shown twice as written: {shown}"
        assert shown == [WORDS, sent_again(WORDS)]
        row = (await outbox(rig.database))[row_id]
        assert (row.status, row.last_error) == ("sent", None)


async def test_a_relay_sent_again_after_an_uncertain_send_says_so(
    database_url: str, ring: KeyRing, tmp_path: Path
) -> None:
    await double_scenario(database_url, ring, tmp_path, DeliveryWorker)


async def test_a_send_again_without_the_label_is_caught(
    database_url: str, ring: KeyRing, tmp_path: Path
) -> None:
    error = await rejected(double_scenario(database_url, ring, tmp_path, UnlabelledResend))
    assert "shown twice as written" in str(error)


async def test_a_relay_that_never_arrived_arrives_once_labelled(
    database_url: str, ring: KeyRing, tmp_path: Path
) -> None:
    """The crash came before Telegram applied the send: the one copy is the labelled one
    (nothing can tell the two cases apart), and nothing is lost."""
    async with open_rig(database_url, ring, tmp_path, delivery_lease_seconds=60) as rig:
        journal_dir = tmp_path / "journal"
        await relay_in_a_crash(rig, journal_dir, arrived=False)
        await survivor_sends(rig, journal_dir, DeliveryWorker)
        assert rig.emu.bot_texts(PERSON) == [sent_again(WORDS)]


async def test_a_relay_stays_uncertain_through_a_failed_send_again(
    database_url: str, ring: KeyRing, tmp_path: Path
) -> None:
    """The send again meets a 502 and is retried later: the row still says an earlier
    attempt may have arrived, so the copy that finally goes carries the label."""
    async with open_rig(database_url, ring, tmp_path, delivery_lease_seconds=60) as rig:
        journal_dir = tmp_path / "journal"
        row_id = await relay_in_a_crash(rig, journal_dir, arrived=True)
        survivor = rig.make_worker(journal=SendJournal(journal_dir))
        assert survivor.journal is not None
        survivor.journal.start()
        rig.movable.advance(seconds=61)
        rig.emu.inject_fault("sendMessage", status=502, count=1)
        await survivor.drain()
        row = (await outbox(rig.database))[row_id]
        assert (row.status, row.last_error) == ("pending", Reason.UNCERTAIN)
        await rig.settle(survivor)
        survivor.journal.close()
        assert rig.emu.bot_texts(PERSON) == [WORDS, sent_again(WORDS)]


async def test_a_relay_sent_again_after_a_timeout_says_so(
    database_url: str, ring: KeyRing, tmp_path: Path
) -> None:
    """No crash: Telegram applied the send and its answer was lost (a timeout). The same
    uncertainty, the same label on the copy the retry sends."""
    async with open_rig(database_url, ring, tmp_path, delivery_lease_seconds=60) as rig:
        await queue_relay(rig)
        rig.emu.inject_fault("sendMessage", timeout=True, applied=True, count=1)
        await rig.settle()
        assert rig.emu.bot_texts(PERSON) == [WORDS, sent_again(WORDS)]


def claimed(kind: str, *, uncertain: bool) -> Claimed:
    moment = datetime(2026, 12, 7, tzinfo=UTC)
    return Claimed(
        id="row",
        kind=kind,
        referral_id=None,
        recipient_kind="person",
        recipient_id="p",
        payload_subject="p",
        payload_ct=None,
        attempts=2,
        next_attempt_at=moment,
        lease_until=moment,
        uncertain=uncertain,
    )


@pytest.mark.parametrize(
    ("kind", "uncertain", "chat_id", "text", "label"),
    [
        (Kind.RELAY, True, PERSON, WORDS, True),
        (Kind.CONTACT, True, MENTOR, WORDS, True),
        (Kind.RELAY_FAILED, True, MENTOR, WORDS, True),
        (Kind.RELAY, False, PERSON, WORDS, False),  # a first send, or a plain retry
        (Kind.ACCEPTED, True, PERSON, WORDS, False),  # not a kind whose double misleads
        (Kind.RELAY, True, WEB_CHAT_FLOOR + 5, WORDS, False),  # one copy per row there
        (Kind.RELAY, True, PERSON, "x" * (MAX_MESSAGE - 5), False),  # would not fit
    ],
)
def test_which_sends_again_carry_the_label(
    kind: str, uncertain: bool, chat_id: int, text: str, label: bool
) -> None:
    ready = Ready(chat_id=chat_id, payload=Send(text, protect=True))
    out = labelled(claimed(kind, uncertain=uncertain), ready)
    assert isinstance(out.payload, Send) and out.payload.protect
    assert out.payload.text == (sent_again(text) if label else text)
