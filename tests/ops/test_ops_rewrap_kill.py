"""C9 (security.md section 6): `keys rewrap` killed with SIGKILL half way while the bot
keeps reading, then run again (issue 15, 7).

The bot (holding KEK 1 and 2, 2 primary) answers /mydata for people all along; the
rewrap runs as its own process and is killed once some keys moved. Afterwards a second
run finishes: every key is under KEK 2, none lost or wrapped twice (each unwraps with
the ring under its recorded version), and no read failed at any point.

Found by this test, not fixed yet: on SQLite, while a rewrap process writes, a bot
transaction sometimes fails with "database is locked" (the person is told "something
went wrong"; nothing is lost and a retry works); about one run in two here, on a loaded
2-core machine. Marked xfail (not strict) on SQLite until that is understood;
PostgreSQL must pass.
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
from tests.support.ops import cli_env, make_person
from tests.support.tables import KEYS

pytestmark = pytest.mark.slow

PEOPLE = 60
FIRST = 7_700_009_000
READ_BY = [FIRST + n for n in range(0, PEOPLE, 6)]


async def test_rewrap_killed_mid_run_with_readers_loses_and_breaks_nothing(
    database_url: str, ring: KeyRing, tmp_path: Path, request: pytest.FixtureRequest
) -> None:
    if database_url.startswith("sqlite"):
        request.applymarker(
            pytest.mark.xfail(
                reason="SQLite: a concurrent rewrap process sometimes makes a bot transaction "
                "fail with 'database is locked' (issue 15 follow-up)",
                strict=False,
            )
        )
    bot = FileRingHarness(database_url, ring, tmp_path)
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
        reads = 0

        async def reader() -> None:
            nonlocal reads
            rng = random.Random(9)
            while not stop.is_set():
                user = rng.choice(READ_BY)
                before = len(bot.texts(user))
                await bot.send(user, "/mydata")
                shown = "\n".join(bot.texts(user)[before:])
                reads += 1
                if texts.SOMETHING_WENT_WRONG in shown or texts.MYDATA_HEADER not in shown:
                    failures.append(shown)

        reading = asyncio.create_task(reader())
        running.append(reading)
        env = cli_env(bot.settings.database_url, bot.keyring)
        process = await asyncio.create_subprocess_exec(
            sys.executable, "-m", "bot", "keys", "rewrap", "--batch", "1",
            cwd=tmp_path, env=env,
            stdout=asyncio.subprocess.DEVNULL, stderr=asyncio.subprocess.PIPE,
        )  # fmt: skip
        target = random.Random(20261207).randint(5, PEOPLE // 2)
        moved_at_kill = 0
        while process.returncode is None:
            moved_at_kill = (await kek_usage(database)).get(2, 0)
            if moved_at_kill >= target:
                process.send_signal(signal.SIGKILL)
                break
            await asyncio.sleep(0.005)
        _, err = await process.communicate()
        assert process.returncode == -signal.SIGKILL, f"the rewrap ended first: {err.decode()}"
        after_kill = await kek_usage(database)
        assert sum(after_kill.values()) == PEOPLE
        assert 0 < after_kill.get(2, 0) < PEOPLE, after_kill

        rerun = await cli(bot, tmp_path, "keys", "rewrap", "--batch", "7")
        assert f"rewrapped {after_kill[1]} keys" in rerun.out
        stop.set()
        await reading
        assert failures == []
        assert reads >= 3
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
