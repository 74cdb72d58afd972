"""C9 (security.md section 6): `keys rewrap` killed with SIGKILL half way while the bot
keeps reading, then run again (issue 15, 7).

The bot (holding KEK 1 and 2, 2 primary) answers /mydata for people all along; the
rewrap runs as its own process and is killed once some keys moved. Afterwards a second
run finishes: every key is under KEK 2, none lost or wrapped twice (each unwraps with
the ring under its recorded version), and no read failed at any point. On SQLite,
people are served while the rewrap runs, not only before and after it.

Found by this test on SQLite: the rewrap committed batch after batch, and SQLite's write
lock has no queue, so a bot step waiting for it almost never found it free; it waited
for the whole rewrap (its event loop blocked) and, past busy_timeout on a loaded
machine, failed with "database is locked". The rewrap now leaves the lock free between
batches (storage.db.SQLITE_BATCH_GAP_SECONDS). The broken variants below
(tests/support/broken_cli.py) show the test catches that code and a rewrap that skips
keys while reporting success.
"""

from __future__ import annotations

import asyncio
import contextlib
import random
import signal
import sys
from pathlib import Path

import pytest
from sqlalchemy import select

from conversations import texts
from storage.crypto import KeyRing, unwrap_dek, wrapped_kek_version
from storage.repositories.subjects import kek_usage
from tests.ops.test_ops_keys import FileRingHarness, cli
from tests.support.delivery import rejected
from tests.support.ops import cli_env, make_person
from tests.support.tables import KEYS

pytestmark = pytest.mark.slow

PEOPLE = 60
FIRST = 7_700_009_000
READ_BY = [FIRST + n for n in range(0, PEOPLE, 6)]
SOMETHING_WENT_WRONG = texts.SOMETHING_WENT_WRONG[:40]
BROKEN_CLI = Path(__file__).parents[1] / "support" / "broken_cli.py"


def rewrap_command(broken: str | None) -> list[str]:
    """`firststep keys rewrap`, or the same with a deliberately broken part."""
    if broken is None:
        return [sys.executable, "-m", "bot", "keys", "rewrap"]
    return [sys.executable, str(BROKEN_CLI), broken, "keys", "rewrap"]


async def rewrap_killed_mid_run(
    database_url: str, ring: KeyRing, tmp_path: Path, broken: str | None = None
) -> None:
    bot = FileRingHarness(database_url, ring, tmp_path)
    # The test's clock stands still, so the readers' steady /mydata would trip the guard
    # against people sending too fast.
    bot.settings = bot.settings.model_copy(update={"rate_limit_messages": 100_000})
    stop = asyncio.Event()
    running: list[asyncio.Task[None]] = []
    await bot.start()
    try:
        assert bot.app is not None
        database = bot.app.bot_data.services.database
        for n in range(PEOPLE):
            await make_person(database, ring, FIRST + n, disclosures={"own_words": f"w{n}"})
        for user in READ_BY:
            bot.person(user)
        await cli(bot, tmp_path, "keys", "add")
        await bot.restart()
        await cli(bot, tmp_path, "keys", "promote", "2")
        await bot.restart()
        assert bot.app is not None
        database = bot.app.bot_data.services.database  # the new process's (the old is closed)
        assert await kek_usage(database) == {1: PEOPLE}

        failures: list[str] = []
        served_at: list[int] = []  # keys under KEK 2 when each read was answered

        async def reader() -> None:
            rng = random.Random(9)
            while not stop.is_set():
                user = rng.choice(READ_BY)
                before = len(bot.texts(user))
                await bot.send(user, "/mydata")
                shown = "\n".join(bot.texts(user)[before:])
                served_at.append((await kek_usage(database)).get(2, 0))
                if texts.SOMETHING_WENT_WRONG in shown or texts.MYDATA_HEADER not in shown:
                    failures.append(shown)

        reading = asyncio.create_task(reader())
        running.append(reading)
        env = cli_env(bot.settings.database_url, bot.keyring)
        process = await asyncio.create_subprocess_exec(
            *rewrap_command(broken), "--batch", "1",
            cwd=tmp_path, env=env,
            stdout=asyncio.subprocess.DEVNULL, stderr=asyncio.subprocess.PIPE,
        )  # fmt: skip
        target = random.Random(20261207).randint(5, PEOPLE // 2)
        moved_at_kill = 0
        while process.returncode is None:
            moved_at_kill = (await kek_usage(database)).get(2, 0)  # a read: never waits
            if moved_at_kill >= target:
                process.send_signal(signal.SIGKILL)
                break
            await asyncio.sleep(0.005)
        _, err = await process.communicate()
        assert process.returncode == -signal.SIGKILL, f"the rewrap ended first: {err.decode()}"
        after_kill = await kek_usage(database)
        assert sum(after_kill.values()) == PEOPLE
        assert 0 < after_kill.get(2, 0) < PEOPLE, f"killed past its last key: {after_kill}"
        if database_url.startswith("sqlite"):
            # SQLite's lock has no queue: a greedy rewrap starves every step until it ends.
            # (PostgreSQL locks rows and queues waiters; its rewrap of a few keys is over
            # in a few reads' time, too soon to count reads inside it.)
            mid_run = [moved for moved in served_at if 0 < moved < moved_at_kill]
            assert len(mid_run) >= 3, f"people waited for the rewrap: served at {served_at}"

        process = await asyncio.create_subprocess_exec(
            *rewrap_command(broken), "--batch", "7",
            cwd=tmp_path, env=env,
            stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE,
        )  # fmt: skip
        out, err = await asyncio.wait_for(process.communicate(), 120)
        assert process.returncode == 0, err.decode()
        assert f"rewrapped {after_kill[1]} keys" in out.decode()
        stop.set()
        await reading
        assert failures == []
        assert await kek_usage(database) == {2: PEOPLE}

        current = KeyRing.load(bot.keyring)
        async with database.engine.connect() as connection:
            rows = (await connection.execute(select(KEYS.c.subject_id, KEYS.c.kek_version,
                                                    KEYS.c.wrapped_dek))).all()  # fmt: skip
        assert len(rows) == PEOPLE
        for subject_id, version, wrapped in rows:
            assert version == wrapped_kek_version(wrapped) == 2
            assert len(unwrap_dek(current, wrapped, subject_id)) == 32
    finally:
        stop.set()
        for task in running:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await task
        await bot.stop()


async def test_rewrap_killed_mid_run_with_readers_loses_and_breaks_nothing(
    database_url: str, ring: KeyRing, tmp_path: Path
) -> None:
    await rewrap_killed_mid_run(database_url, ring, tmp_path)


async def test_rejects_a_rewrap_that_keeps_sqlites_write_lock_batch_after_batch(
    database_url: str, ring: KeyRing, tmp_path: Path
) -> None:
    if not database_url.startswith("sqlite"):
        pytest.skip("PostgreSQL queues lock waiters and locks rows: no pause is needed there")
    error = await rejected(rewrap_killed_mid_run(database_url, ring, tmp_path, "rewrap-greedy"))
    # Steps starve for the whole run (past busy_timeout they fail: "something went wrong"),
    # and this process's loop with them, so the kill often comes too late as well.
    caught = (
        "people waited for the rewrap",
        "the rewrap ended first",
        "killed past its last key",
        SOMETHING_WENT_WRONG,
    )
    assert any(words in str(error) for words in caught), error


async def test_rejects_a_rewrap_that_skips_keys_and_reports_success(
    database_url: str, ring: KeyRing, tmp_path: Path
) -> None:
    error = await rejected(rewrap_killed_mid_run(database_url, ring, tmp_path, "rewrap-by-offset"))
    assert "rewrapped" in str(error), error  # fewer than were left, and "success"
