"""Crash test: `firststep run` killed with SIGKILL at random moments while referrals are
created and delivered, restarted each time. Afterwards every referral has reached every
one of its mentors at least once, a duplicate is the same card (same reference), no
card is left undelivered, and SQLite's integrity check passes.

The bot runs as real processes against an EmulatorServer on 127.0.0.1 with a key-ring
file and an SQLite file in tmp. The first and the last run are a cold
`python -m bot run`; the kills in between hit children forked from a warm parent that
runs the same entry point (tests/support/crash_zygote.py), so dozens of restarts fit in the
time. Referrals and their CARD rows are written straight into the database the way the
request flow writes them.

Besides the random kills, some kills are aimed: the emulator holds the bot's next
sendMessage unanswered and unapplied, and the test kills the bot while it waits. That is
the one moment a worker that records a card as sent before sending it certainly loses
the card, so the broken-variant test fails every time instead of only when a random kill
happens to land in that window; a correct worker simply sends the card again.
"""

from __future__ import annotations

import asyncio
import itertools
import os
import random
import sqlite3
import sys
import time
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlalchemy import select

from bot.delivery.limiter import CHAT_PER_SECOND
from bot.sandbox import EmulatorServer
from storage.crypto import KeyRing
from storage.db import Database, keystore_path
from storage.migrate import upgrade
from tests.support.crash import CrashRig, until
from tests.support.delivery import card_text, rejected, seed_mentor, seed_person, seed_referral
from tests.support.tables import OUTBOX

pytestmark = pytest.mark.slow

MENTOR_CHATS = [7_500_000_001, 7_500_000_002, 7_500_000_003]
PEOPLE_BASE = 7_600_000_000
# How much later than the request the emulator may stamp a call (see _duplicate_causes).
KILL_SEEN_LATE = 0.5


def now() -> datetime:
    return datetime.now(UTC)


@dataclass
class CrashRun(CrashRig):
    referrals: int = 100
    kills: int = 30
    seed: int = 20261129
    refs: dict[str, list[int]] = field(default_factory=dict)  # ref -> mentor chat ids
    aim_every: int = 5  # every n-th kill of a forked child is aimed at a send in flight
    kills_mid_delivery: int = 0
    drain_seconds: float = 0.0  # how long the last run took to send what was left
    kill_times: list[float] = field(default_factory=list)  # time.time() of each SIGKILL
    integrity_checks: int = 0
    open_per_chat_at_final: int = 0

    async def kill(self, pid: int) -> None:
        """CrashRig's kill, remembering when, and R2's integrity check after it."""
        self.kill_times.append(time.time())
        await super().kill(pid)
        self._assert_intact()

    def _assert_intact(self) -> None:
        """R2: SQLite's integrity check passes after every kill, in both files (read from
        a snapshot: the next run may already be writing)."""
        for path in (self.db_path, keystore_path(self.db_path)):
            connection = sqlite3.connect(path, timeout=10)
            try:
                assert connection.execute("PRAGMA integrity_check").fetchone() == ("ok",), path.name
            finally:
                connection.close()
        self.integrity_checks += 1

    async def run(self) -> None:
        rng = random.Random(self.seed)
        ring = KeyRing.generate()
        ring_path = self.tmp_path / "keys" / "keyring.json"
        ring.save(ring_path)
        database = Database.from_url(self.url)
        await upgrade(database)
        mentors = []
        for chat in MENTOR_CHATS:
            self.emu.register_user(chat, "Sam", started=True)
            mentors.append(await seed_mentor(database, ring, chat, now()))

        async def create_referrals() -> None:
            for n in range(self.referrals):
                person = await seed_person(database, ring, PEOPLE_BASE + n, now())
                seeded = await seed_referral(database, ring, person, mentors, now())
                self.refs[seeded.ref] = list(MENTOR_CHATS)
                await asyncio.sleep(rng.uniform(0.05, 0.25))

        async with EmulatorServer(self.emu) as server:
            env = self.env(server, ring_path)
            creator = asyncio.create_task(create_referrals())
            zygote = await self.start_zygote(env)  # warms up meanwhile
            try:
                await self._cold_run(env)
                await self.ready(zygote)
                for n in range(1, self.kills):
                    pid = await self.spawn(zygote)
                    if n % self.aim_every == 0 and not creator.done():
                        await self._kill_in_flight(pid, required=False)
                    else:
                        await self._kill_at_random(pid, rng)
                await creator
                await self._final_run(zygote, database)
            finally:
                creator.cancel()
                await self.quit(zygote)
        await database.dispose()

    async def _kill_at_random(self, pid: int, rng: random.Random) -> None:
        """SIGKILL at a random moment: mostly once the bot is sending (mid-batch, between
        a send and its record), sometimes during start-up (settings, migrations,
        post_init, the first claim)."""
        calls, sends = len(self.emu.calls()), len(self.emu.calls("sendMessage"))
        if rng.random() < 0.75:
            await until(lambda: len(self.emu.calls()) > calls, 60)
            await until(lambda: len(self.emu.calls("sendMessage")) > sends, 3)
            await asyncio.sleep(rng.uniform(0.02, 0.5))
        else:
            await asyncio.sleep(rng.uniform(0.0, 1.5))
        mid_delivery = any(c.at >= time.time() - 0.3 for c in self.emu.calls("sendMessage"))
        await self.kill(pid)
        self.kills_mid_delivery += int(mid_delivery)

    async def _kill_in_flight(self, pid: int, *, required: bool) -> None:
        """SIGKILL while a card is on its way (CrashRig.kill_in_flight).

        ``required``: the bot is sure to send (cards are waiting), so a send that never
        comes is a failure; otherwise a kill with nothing to aim at falls back to a plain
        kill after the wait."""
        hit = await self.kill_in_flight(pid, 60 if required else 10)
        assert hit or not required, "the bot never sent while cards were waiting"
        self.kills_mid_delivery += int(hit)

    async def _cold_run(self, env: dict[str, str]) -> None:
        """`python -m bot run` itself, killed while its first card is in flight (every card
        is still waiting then, so the send is certain to come)."""
        argv = [sys.executable, "-m", "bot", "run"]
        if self.broken:
            argv = self.zygote_argv("--once")
        with self.log_path.open("ab") as log:
            process = await asyncio.create_subprocess_exec(
                *argv, env=env, cwd=self.tmp_path, stdout=log, stderr=log
            )
            await self._kill_in_flight(process.pid, required=True)
            await process.wait()

    async def _final_run(self, zygote: asyncio.subprocess.Process, database: Database) -> None:
        """A last run left alone until nothing is open, then stopped with SIGTERM.

        Its time: every referral has a card for each of the mentors, and the bot sends
        one chat about one message a second (Telegram's limit, bot/delivery/limiter.py),
        so a mentor's cards still open take that many seconds at least. The full-size
        run (300 referrals) found a fixed 180 s too short: the bot was pacing, not stuck.
        """
        pid = await self.spawn(zygote)
        started = time.monotonic()
        try:
            open_per_chat = await self._open_per_chat(database)
            budget = 120 + open_per_chat / CHAT_PER_SECOND * 1.5
            await self._wait_all_sent(database, timeout=budget)
            self.drain_seconds = time.monotonic() - started
            self.open_per_chat_at_final = open_per_chat
        finally:
            await self.stop_cleanly(pid)

    async def _open_per_chat(self, database: Database) -> int:
        """The most cards still open for one mentor (each referral has one per mentor)."""
        async with database.engine.connect() as connection:
            open_rows = (
                await connection.execute(
                    select(OUTBOX.c.id).where(OUTBOX.c.status.in_(["pending", "inflight"]))
                )
            ).all()
        still_to_come = self.referrals - len(self.refs)
        return -(-len(open_rows) // len(MENTOR_CHATS)) + still_to_come

    async def _wait_all_sent(self, database: Database, timeout: float) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            async with database.engine.connect() as connection:
                open_rows = (
                    await connection.execute(
                        select(OUTBOX.c.id).where(OUTBOX.c.status.in_(["pending", "inflight"]))
                    )
                ).all()
            if not open_rows and len(self.refs) == self.referrals:
                return
            await asyncio.sleep(0.2)
        raise AssertionError(
            f"the last run did not drain the outbox within {timeout}s: {len(open_rows)} rows open"
        )

    def _duplicate_causes(self) -> tuple[int, int]:
        """(second copies no kill came before, the most second copies one kill caused).

        A kill between a send and its record is the one way a correct worker sends a card
        twice, and each kill cuts off at most the sends then in flight: one per mentor's
        chat (their lanes go side by side). The emulator stamps a call when this process's
        event loop reads it, which can be after a kill the request went out before (its
        bytes wait in the socket): a kill up to KILL_SEEN_LATE before the first copy counts.
        """
        copies: dict[tuple[int, str], list[float]] = defaultdict(list)
        for call in self.emu.calls("sendMessage"):
            if call.status != 200:
                continue
            refs = [ref for ref in self.refs if ref in str(call.params.get("text", ""))]
            if refs:
                copies[(int(call.params["chat_id"]), refs[0])].append(call.at)
        unexplained = 0
        per_kill: Counter[float] = Counter()
        for times in copies.values():
            times.sort()
            for first, again in itertools.pairwise(times):
                kills = [k for k in self.kill_times if first - KILL_SEEN_LATE <= k <= again]
                if kills:
                    per_kill[kills[0]] += 1
                else:
                    unexplained += 1
                    before = [first - k for k in self.kill_times if k < first]
                    lag = f"{min(before):.3f} s" if before else "no kill"
                    print(f"doubled with no kill between: copies {again - first:.3f} s apart, "
                          f"the last kill {lag} before the first")  # fmt: skip
        return unexplained, max(per_kill.values(), default=0)

    def check(self) -> dict[str, int]:
        """The invariants, from what the mentors' phones show and from the files."""
        assert self.kills_done >= self.kills
        assert self.integrity_checks == self.kills_done
        received: dict[int, Counter[str]] = defaultdict(Counter)
        for chat in MENTOR_CHATS:
            for text in self.emu.bot_texts(chat):
                refs = [ref for ref in self.refs if ref in text]
                assert len(refs) == 1, "a message that is no referral's card"
                assert text == card_text(refs[0]), "a duplicate that differs from the card"
                received[chat][refs[0]] += 1
        missing = [
            (ref, chat)
            for ref, chats in self.refs.items()
            for chat in chats
            if received[chat][ref] == 0
        ]
        if missing:
            with sqlite3.connect(self.db_path) as debug:
                states = debug.execute(
                    "SELECT status, last_error, count(*) FROM outbox GROUP BY 1, 2"
                ).fetchall()
        assert not missing, f"{len(missing)} cards never reached their mentor; outbox: {states}"
        connection = sqlite3.connect(self.db_path)
        try:
            assert connection.execute("PRAGMA integrity_check").fetchone() == ("ok",)
            statuses = Counter(row[0] for row in connection.execute("SELECT status FROM outbox"))
            assert set(statuses) == {"sent"}, statuses
        finally:
            connection.close()
        keystore = sqlite3.connect(keystore_path(self.db_path))
        try:
            assert keystore.execute("PRAGMA integrity_check").fetchone() == ("ok",)
        finally:
            keystore.close()
        log = self.log_path.read_text(errors="replace")
        assert "event=delivery_started" in log
        assert "event=delivery_stopped" in log  # the last run stopped cleanly on SIGTERM
        for secret in [*self.refs, *map(str, MENTOR_CHATS), self.emu.token.split(":")[1]]:
            assert secret not in log, "the bot's log holds a reference, a chat id or the token"
        unexplained, most_per_kill = self._duplicate_causes()
        assert unexplained == 0, f"{unexplained} cards went twice with no kill between"
        assert most_per_kill <= len(MENTOR_CHATS), "one kill doubled more than was in flight"
        duplicates = sum(
            count - 1 for counts in received.values() for count in counts.values() if count > 1
        )
        # A copy nobody recorded never shows Accept (issue 13 item 8): per card, at most
        # one message has buttons, and it is the one the outbox recorded.
        connection = sqlite3.connect(self.db_path)
        try:
            recorded = {row[0] for row in connection.execute("SELECT sent_message_id FROM outbox")}
        finally:
            connection.close()
        for chat in MENTOR_CHATS:
            with_buttons = Counter(
                next(ref for ref in self.refs if ref in (message.text or ""))
                for message in self.emu.bot_messages(chat)
                if message.buttons
            )
            assert set(with_buttons.values()) <= {1}, "a duplicate card still shows Accept"
            assert {
                message.message_id for message in self.emu.bot_messages(chat) if message.buttons
            } <= recorded, "a card with buttons that no later edit can reach"
        return {
            "referrals": len(self.refs),
            "kills": self.kills_done,
            "kills_mid_delivery": self.kills_mid_delivery,
            "kills_in_flight": self.kills_in_flight,
            "cards": sum(len(chats) for chats in self.refs.values()),
            "duplicates": duplicates,
            "integrity_checks_after_kills": self.integrity_checks,
            "duplicates_with_no_kill_between": unexplained,
            "most_duplicates_from_one_kill": most_per_kill,
            "open_per_chat_at_final": self.open_per_chat_at_final,
            "drain_seconds": round(self.drain_seconds),
        }


async def test_sigkill_at_random_moments_loses_no_card(tmp_path: Path) -> None:
    run = CrashRun(tmp_path, referrals=100, kills=30)
    await run.run()
    report = run.check()
    print(f"crash test: {report}")
    assert report["referrals"] >= 100
    assert report["kills_mid_delivery"] >= 10  # the kills really hit deliveries
    assert report["kills_in_flight"] >= 1  # and at least one hit a card on its way


FULL_SIZE = os.environ.get("FIRSTSTEP_FULL_SIZE_TESTS") == "1"


@pytest.mark.skipif(
    not FULL_SIZE,
    reason="full size (security.md section 6, R2: 300 referrals, 100 kills) takes long on "
    "2 cores: set FIRSTSTEP_FULL_SIZE_TESTS=1; the scaled run above is in the default suite",
)
async def test_r2_full_size_300_referrals_100_kills_loses_no_card(tmp_path: Path) -> None:
    run = CrashRun(tmp_path, referrals=300, kills=100)
    await run.run()
    report = run.check()
    print(f"crash test (full size): {report}")
    assert report["referrals"] >= 300
    assert report["kills"] >= 100
    assert report["kills_in_flight"] >= 1
    # R2: at most 2% duplicates. Before the send journal (bot/delivery/journal.py) runs at
    # full size doubled 54 and 46 of 900 cards (6.0%, 5.1%: these kills are aimed at
    # deliveries); with it, 3 of 900 (2026-12-07, README "Fault tests at full size").
    assert report["duplicates"] <= 0.02 * report["cards"], "more than 2% duplicates"


async def test_crash_test_rejects_a_worker_that_records_before_sending(tmp_path: Path) -> None:
    async def scenario() -> None:
        run = CrashRun(tmp_path, referrals=24, kills=4, broken="mark-first")
        await run.run()
        run.check()

    # Certain, not probable: the cold run is always killed with a card in flight, which
    # this worker has already recorded as sent (so a few kills are enough).
    error = await rejected(scenario())
    assert "never reached their mentor" in str(error)
