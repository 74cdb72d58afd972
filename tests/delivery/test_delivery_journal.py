"""The send journal (bot/delivery/journal.py): a process that dies after Telegram answered
a send and before the database recorded it leaves the answer in its journal; the next
worker records it and does not send the message again. A send whose answer never came
is sent again (a possible double over a possible loss), and counted."""

from __future__ import annotations

import logging
from dataclasses import replace
from pathlib import Path

import pytest

from bot.delivery.journal import SendJournal, read_journal
from storage.crypto import KeyRing
from storage.repositories.outbox import Ready, Send
from tests.support.delivery import Rig, died, open_rig, outbox, rejected

PERSON = 7_100_000_301
MENTOR = 7_200_000_301


async def half_sent(rig: Rig, journal_dir: Path, *, answered: bool) -> tuple[str, int | None]:
    """A worker with a journal claims the card and sends it (`answered`: Telegram's answer
    reached the journal) or only gets as far as marking it, then dies before the record."""
    person = await rig.person(PERSON)
    mentor = await rig.mentor(MENTOR)
    card = (await rig.referral(person, [mentor])).cards[mentor]
    crashed = rig.make_worker(journal=SendJournal(journal_dir))
    assert crashed.journal is not None
    crashed.journal.start()
    (row,) = await crashed.claim()
    ready = await crashed.sort_out([row])
    crashed.journal.sending(row.id)
    message_id = None
    if answered:
        message_id = await crashed.send(ready[row.id])
        crashed.journal.sent(row.id, message_id)
    died(crashed.journal)
    assert (await outbox(rig.database))[card].status == "inflight"
    return card, message_id


async def answered_scenario(
    database_url: str, ring: KeyRing, tmp_path: Path, *, with_journal: bool
) -> None:
    async with open_rig(database_url, ring, tmp_path, delivery_lease_seconds=60) as rig:
        journal_dir = tmp_path / "journal"
        card, message_id = await half_sent(rig, journal_dir, answered=True)
        survivor = rig.make_worker(journal=SendJournal(journal_dir) if with_journal else None)
        if survivor.journal is not None:
            survivor.journal.start()
        rig.movable.advance(seconds=61)  # the dead worker's lease ran out
        await rig.settle(survivor)

        assert len(rig.sends_to(MENTOR)) == 1, "the card was sent twice"
        row = (await outbox(rig.database))[card]
        assert (row.status, row.sent_message_id) == ("sent", message_id)
        assert [p.name for p in journal_dir.iterdir()] == [
            survivor.journal.path.name if survivor.journal and survivor.journal.path else ""
        ]


async def test_a_dead_processes_answered_send_is_recorded_not_sent_again(
    database_url: str, ring: KeyRing, tmp_path: Path
) -> None:
    await answered_scenario(database_url, ring, tmp_path, with_journal=True)


async def test_without_the_journal_the_same_crash_sends_twice(
    database_url: str, ring: KeyRing, tmp_path: Path
) -> None:
    error = await rejected(answered_scenario(database_url, ring, tmp_path, with_journal=False))
    assert "sent twice" in str(error)


async def test_an_unanswered_send_is_sent_again_and_counted(
    database_url: str, ring: KeyRing, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, logger="firststep.delivery")
    async with open_rig(database_url, ring, tmp_path, delivery_lease_seconds=60) as rig:
        journal_dir = tmp_path / "journal"
        card, _ = await half_sent(rig, journal_dir, answered=False)
        survivor = rig.make_worker(journal=SendJournal(journal_dir))
        assert survivor.journal is not None
        survivor.journal.start()
        rig.movable.advance(seconds=61)
        await rig.settle(survivor)
        assert len(rig.sends_to(MENTOR)) == 1  # it never went, so now it did: no loss
        assert (await outbox(rig.database))[card].status == "sent"
        assert "event=delivery_journal_replayed recorded=0 uncertain=1" in caplog.text


async def test_a_card_shown_before_a_crash_gets_its_buttons_not_a_second_copy(
    database_url: str, ring: KeyRing, tmp_path: Path
) -> None:
    """A card goes out as text first (issue 13 item 8): a crash after Telegram answered
    that call leaves the message id in the journal, and the next worker adds the buttons
    to that message instead of sending the card again."""
    async with open_rig(database_url, ring, tmp_path, delivery_lease_seconds=60) as rig:
        journal_dir = tmp_path / "journal"
        person = await rig.person(PERSON)
        mentor = await rig.mentor(MENTOR)
        card = (await rig.referral(person, [mentor])).cards[mentor]
        crashed = rig.make_worker(journal=SendJournal(journal_dir))
        assert crashed.journal is not None
        crashed.journal.start()
        (row,) = await crashed.claim()
        ready = (await crashed.sort_out([row]))[row.id]
        assert isinstance(ready.payload, Send) and ready.payload.markup is not None
        crashed.journal.sending(row.id)
        first = await crashed.send(Ready(ready.chat_id, replace(ready.payload, markup=None)))
        assert first is not None
        crashed.journal.shown(row.id, first)
        died(crashed.journal)

        survivor = rig.make_worker(journal=SendJournal(journal_dir))
        assert survivor.journal is not None
        survivor.journal.start()
        rig.movable.advance(seconds=61)
        await rig.settle(survivor)
        assert len(rig.sends_to(MENTOR)) == 1, "the card was sent again"
        (message,) = rig.emu.bot_messages(MENTOR)
        assert message.message_id == first and message.button_texts, "no buttons"
        row_now = (await outbox(rig.database))[card]
        assert (row_now.status, row_now.sent_message_id) == ("sent", first)


async def test_a_live_processes_journal_is_left_alone(tmp_path: Path) -> None:
    alive, other = SendJournal(tmp_path), SendJournal(tmp_path)
    alive.start()
    other.start()
    alive.sending("row1")
    alive.sent("row1", 41)
    assert other.orphans() == []  # its lock is held: it may still record the row itself
    died(alive)
    ((path, replay),) = other.orphans()
    assert path == alive.path and replay.sent == {"row1": 41} and not replay.uncertain
    other.forget(path)
    other.close()
    assert list(tmp_path.iterdir()) == []  # a clean stop with nothing open leaves no file


def test_the_journal_reads_what_a_kill_left() -> None:
    replay = read_journal("S a\nD a 7\nS b\nS c\nD c -\nS d\nD d 1")  # torn: "D d 1" whole
    assert replay.sent == {"a": 7, "c": None, "d": 1}
    assert replay.uncertain == {"b"}
    torn = read_journal("S a\nD a")  # the answer's line was cut off mid-write
    assert torn.sent == {} and torn.uncertain == {"a"}
    card = read_journal("S a\nB a 5\nS b\nB b 6\nD b 6")
    assert card.shown == {"a": 5} and card.sent == {"b": 6} and not card.uncertain


def test_the_journal_is_emptied_once_everything_in_it_is_recorded(tmp_path: Path) -> None:
    journal = SendJournal(tmp_path)
    journal.start()
    assert journal.path is not None
    for n in range(2000):
        journal.sending(f"row{n:05d}")
        journal.sent(f"row{n:05d}", n)
        if n % 2:
            journal.settled(f"row{n - 1:05d}")
            journal.settled(f"row{n:05d}")
    assert journal.path.stat().st_size < 64 * 1024
    journal.sending("open")
    journal.close()
    assert journal.path.exists()  # something unrecorded: kept for the next process


def test_the_worker_is_built_with_a_journal_beside_an_sqlite_file(tmp_path: Path) -> None:
    from bot.delivery.lifecycle import journal_dir
    from bot.settings import Settings

    def settings(url: str, **kwargs: object) -> Settings:
        return Settings(_env_file=None, database_url=url, **kwargs)  # type: ignore[arg-type]

    assert journal_dir(settings(f"sqlite+aiosqlite:///{tmp_path}/var/x.db")) == (
        tmp_path / "var" / "delivery-journal"
    )
    assert journal_dir(settings("sqlite+aiosqlite:///:memory:")) is None
    assert journal_dir(settings("postgresql+asyncpg://u@h/db")) is None
    chosen = tmp_path / "j"
    assert journal_dir(settings("postgresql+asyncpg://u@h/db", delivery_journal=chosen)) == chosen
