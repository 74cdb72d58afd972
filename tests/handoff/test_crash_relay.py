"""Crash test for relayed messages (issue 13 item 3): `firststep run` killed with SIGKILL
at random moments while people and their mentors write to each other, restarted each
time. Afterwards every message each side wrote has reached the other side: 0 lost. A
message may show twice only if the kill fell between Telegram applying its send and the
send journal (bot/delivery/journal.py) hearing the answer: every double must be one of
the rows a restart found "uncertain" in a dead process's journal, and those are few.
Each such row is sent again with a label saying so (bot/delivery/resend.py): no message
shows twice as if it had been written twice.

The set-up is shared with the card crash test (tests/support/crash.py): an
EmulatorServer on 127.0.0.1, an SQLite file, children forked from a warm parent
(tests/support/crash_zygote.py) and killed, some kills aimed at a sendMessage the
emulator holds unanswered (every other one of those after the emulator applied it: the
message arrived, its answer did not, so the send again is a double every time). Accepted
chats are written straight into the database; the messages come in through the emulator
as Telegram updates, while processes die.

The broken variants lose messages under the same kills: `--broken direct-relay` (relays
sent straight after the step's commit, the code before issue 13) and `--broken
journal-first` (the journal says "sent" before the call goes: the shortest way to zero
doubles, and it loses what a kill stops on its way). `--broken unlabelled-resend` (a
send again without its label) shows a message twice as if written twice.
"""

from __future__ import annotations

import asyncio
import random
import re
import time
from collections import Counter
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlalchemy import select

from bot.delivery.resend import sent_again
from bot.sandbox import EmulatorServer
from storage.crypto import KeyRing
from storage.db import Database
from storage.migrate import upgrade
from tests.support.crash import CrashRig, until
from tests.support.delivery import rejected, seed_accepted_chat
from tests.support.tables import OUTBOX

pytestmark = pytest.mark.slow

MENTORS_BASE = 7_510_000_000
PEOPLE_BASE = 7_610_000_000


def now() -> datetime:
    return datetime.now(UTC)


@dataclass
class Pair:
    person: int
    mentor: int
    ref: str
    wrote: list[tuple[int, str]] = field(default_factory=list)  # (to chat, expected text)


@dataclass
class RelayCrashRun(CrashRig):
    pairs: int = 6
    kills: int = 52
    seed: int = 20261207
    chats: list[Pair] = field(default_factory=list)
    aim_every: int = 4
    # Of the aimed kills, every `apply_every`-th falls after the emulator applied the send
    # (0: none does).
    apply_every: int = 2
    # Kills go on past `kills` until this many messages were written: how many a kill loop
    # sees depends on the machine's speed, and the test asks for both.
    min_messages: int = 0

    def env(self, server: EmulatorServer, ring_path: Path, **extra: str) -> dict[str, str]:
        return super().env(server, ring_path, FIRSTSTEP_RATE_LIMIT_MESSAGES="100000", **extra)

    async def seed_chats(self, database: Database, ring: KeyRing) -> None:
        """Accepted chats, as a claim leaves them: the person at Step.WITH_MENTOR."""
        for n in range(self.pairs):
            person_chat, mentor_chat = PEOPLE_BASE + n, MENTORS_BASE + n
            self.emu.register_user(mentor_chat, "Sam", started=True)
            self.emu.register_user(person_chat, "Alex", started=True)
            ref = f"R-{n:02d}CRSH"[:8]
            await seed_accepted_chat(database, ring, person_chat, mentor_chat, ref, now())
            self.chats.append(Pair(person_chat, mentor_chat, ref))

    async def talk(self, rng: random.Random, stop: asyncio.Event) -> None:
        """Both ends write, in turn, at random moments, until told to stop."""
        count = 0
        while not stop.is_set():
            pair = rng.choice(self.chats)
            count += 1
            if rng.random() < 0.5:
                text = f"p{count} from the person"
                self.emu.user_sends(pair.person, text)
                pair.wrote.append((pair.mentor, f"{pair.ref}: {text}"))
            else:
                text = f"m{count} from the mentor"
                self.emu.user_sends(pair.mentor, text)
                pair.wrote.append((pair.person, f"Sam: {text}"))
            await asyncio.sleep(rng.uniform(0.05, 0.25))

    async def run(self) -> None:
        rng = random.Random(self.seed)
        ring = KeyRing.generate()
        ring_path = self.tmp_path / "keys" / "keyring.json"
        ring.save(ring_path)
        database = Database.from_url(self.url)
        await upgrade(database)
        await self.seed_chats(database, ring)
        stop = asyncio.Event()
        async with EmulatorServer(self.emu) as server:
            zygote = await self.start_zygote(self.env(server, ring_path))
            talker = asyncio.create_task(self.talk(rng, stop))
            try:
                await self.ready(zygote)
                n = 0
                while n < self.kills or self.written() < self.min_messages:
                    pid = await self.spawn(zygote)
                    if n % self.aim_every == 0:
                        aimed = n // self.aim_every
                        every = self.apply_every
                        applied = every > 0 and aimed % every == every - 1
                        await self.kill_in_flight(pid, 20, applied=applied)
                    else:
                        await self._kill_at_random(pid, rng)
                    n += 1
                stop.set()
                await talker
                await self._final_run(zygote)
            finally:
                stop.set()
                talker.cancel()
                await self.quit(zygote)
        await database.dispose()

    async def _kill_at_random(self, pid: int, rng: random.Random) -> None:
        """Mostly once the bot is at work (updates fetched, messages passed on), sometimes
        during start-up."""
        sends = len(self.emu.calls("sendMessage"))
        if rng.random() < 0.8:
            await until(lambda: len(self.emu.calls("sendMessage")) > sends, 30)
            await asyncio.sleep(rng.uniform(0.0, 0.4))
        else:
            await asyncio.sleep(rng.uniform(0.0, 1.2))
        await self.kill(pid)

    def _all_arrived(self) -> bool:
        return all(
            text in self.emu.bot_texts(chat) or sent_again(text) in self.emu.bot_texts(chat)
            for pair in self.chats
            for chat, text in pair.wrote
        )

    async def _final_run(self, zygote: asyncio.subprocess.Process) -> None:
        """A last run left alone until every update is handled and the outbox is empty
        (or a minute passed), then stopped with SIGTERM."""
        pid = await self.spawn(zygote)
        database = Database.from_url(self.url)
        try:
            deadline = time.monotonic() + 180
            while time.monotonic() < deadline:
                async with database.engine.connect() as connection:
                    open_rows = (
                        await connection.execute(
                            select(OUTBOX.c.id).where(OUTBOX.c.status.in_(["pending", "inflight"]))
                        )
                    ).all()
                if not open_rows and not self.emu.pending_updates() and self._all_arrived():
                    break
                await asyncio.sleep(0.2)
            await asyncio.sleep(1.0)  # anything late (a double) has time to show
        finally:
            await database.dispose()
            await self.stop_cleanly(pid)

    def written(self) -> int:
        return sum(len(pair.wrote) for pair in self.chats)

    def journal_counts(self) -> tuple[int, int]:
        """From the bot's log: rows dead processes' journals recorded as sent (each a
        double avoided), and rows they left uncertain (each a possible double)."""
        log = self.log_path.read_text(errors="replace")
        found = re.findall(r"event=delivery_journal_replayed recorded=(\d+) uncertain=(\d+)", log)
        return sum(int(r) for r, _ in found), sum(int(u) for _, u in found)

    def check(self) -> dict[str, int]:
        """Counts, from what each phone shows: every message written must show, as written
        or as sent again (with the label); more than once only with the label."""
        lost = doubled = written = labelled = unlabelled_doubles = 0
        for pair in self.chats:
            for chat in (pair.person, pair.mentor):
                shown = Counter(self.emu.bot_texts(chat))
                expected = [text for to, text in pair.wrote if to == chat]
                written += len(expected)
                for text in expected:
                    plain, again = shown[text], shown[sent_again(text)]
                    lost += plain + again == 0
                    doubled += max(0, plain + again - 1)
                    unlabelled_doubles += max(0, plain - 1)
                    labelled += again
        recorded, uncertain = self.journal_counts()
        return {
            "journal_recorded": recorded,
            "journal_uncertain": uncertain,
            "pending_updates": len(self.emu.pending_updates()),
            "messages": written,
            "kills": self.kills_done,
            "kills_in_flight": self.kills_in_flight,
            "kills_applied": self.kills_applied,
            "lost": lost,
            "doubled": doubled,
            "labelled": labelled,
            "unlabelled_doubles": unlabelled_doubles,
        }


async def test_sigkill_through_relay_conversations_loses_and_doubles_nothing(
    tmp_path: Path,
) -> None:
    run = RelayCrashRun(tmp_path, pairs=6, kills=52, min_messages=300)
    await run.run()
    report = run.check()
    print(f"relay crash test: {report}")
    assert report["kills"] >= 50
    assert report["kills_in_flight"] >= 5  # the kills really hit messages on their way
    assert report["messages"] >= 300
    assert report["lost"] == 0, report
    assert report["journal_recorded"] > 0, report  # the journal really kept doubles away
    # Not asserted zero: Telegram has no idempotency key, so a kill after Telegram applied
    # a send and before its answer reached the journal sends it again (the policy: a
    # possible double over a possible loss). Every double is one of the sends a dead
    # process's journal left uncertain, and says it is sent again: no copy shows twice as
    # written, and every labelled copy is one of those uncertain sends. The kills aimed
    # after the emulator applied a send make sure doubles happen. Measured on SQLite, 52
    # kills, ~300-400 messages: 23-28 doubles before the journal; with it (and 6 kills
    # after an applied send) 13-20, all labelled, of 20-27 uncertain, while ~20 were
    # recorded from journals instead of sent again (docs/operating.md, "What a crash
    # does").
    assert report["unlabelled_doubles"] == 0, f"shown twice as written: {report}"
    assert report["kills_applied"] >= 3, report
    assert report["doubled"] >= 1, report  # the label was really needed
    assert report["doubled"] <= report["labelled"] <= report["journal_uncertain"], report


async def test_relay_crash_test_rejects_relays_sent_after_the_commit(tmp_path: Path) -> None:
    async def scenario() -> None:
        run = RelayCrashRun(
            tmp_path, pairs=4, kills=8, broken="direct-relay", aim_every=1, apply_every=0
        )
        await run.run()
        report = run.check()
        print(f"relay crash test, broken: {report}")
        assert report["lost"] == 0, f"messages lost: {report}"

    # Every kill is aimed at a held send: with relays sent after the commit, the message
    # in hand is gone (its update was claimed), so a few kills are enough.
    error = await rejected(scenario())
    assert "messages lost" in str(error)


async def test_relay_crash_test_rejects_a_journal_that_says_sent_before_sending(
    tmp_path: Path,
) -> None:
    async def scenario() -> None:
        run = RelayCrashRun(
            tmp_path, pairs=4, kills=8, broken="journal-first", aim_every=1, apply_every=0
        )
        await run.run()
        report = run.check()
        print(f"relay crash test, journal first: {report}")
        assert report["lost"] == 0, f"messages lost: {report}"

    # Every kill stops a send the emulator holds unapplied: the journal already says it
    # went, so the next process records it as sent and it never goes.
    error = await rejected(scenario())
    assert "messages lost" in str(error)


async def test_relay_crash_test_rejects_a_send_again_without_its_label(tmp_path: Path) -> None:
    async def scenario() -> None:
        run = RelayCrashRun(
            tmp_path, pairs=4, kills=8, broken="unlabelled-resend", aim_every=1, apply_every=1
        )
        await run.run()
        report = run.check()
        print(f"relay crash test, unlabelled: {report}")
        assert report["lost"] == 0, f"messages lost: {report}"
        assert report["unlabelled_doubles"] == 0, f"shown twice as written: {report}"

    # Every kill falls after the emulator applied a send and before its answer: the next
    # process sends it again, and without the label the copy reads as written twice.
    error = await rejected(scenario())
    assert "shown twice as written" in str(error)
