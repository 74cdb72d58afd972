"""R4 (security.md section 6): `firststep run` killed with SIGKILL between two steps of a
conversation, then started again (issue 15, 7: the restart test stopped gracefully).

The bot runs as its own process, polling the emulator over loopback HTTP. The person
answers the first question; the process is killed without warning; a new process takes
the next answer as the next step (not /start), the first answer is kept, and the step's
version never went back. The broken variant (tests/support/broken_cli.py,
`state-in-memory`) shows the test catches a bot that writes the step only at shutdown.
"""

from __future__ import annotations

import asyncio
import signal
import sys
from pathlib import Path

import pytest
from sqlalchemy import select

from bot.sandbox import EmulatorServer, TelegramEmulator
from conversations import texts
from storage.crypto import KeyRing
from storage.db import Database
from storage.repositories.people import person_transaction
from tests.support.delivery import rejected
from tests.support.harness import TEST_TOKEN
from tests.support.ops import T0, cli_env
from tests.support.tables import PEOPLE

pytestmark = pytest.mark.slow

ALEX = 7_700_001_561
BROKEN_CLI = Path(__file__).parents[1] / "support" / "broken_cli.py"


async def start_bot(
    tmp_path: Path, env: dict[str, str], broken: str | None
) -> asyncio.subprocess.Process:
    """`firststep run`, or the same with a deliberately broken part."""
    command = ["-m", "bot"] if broken is None else [str(BROKEN_CLI), broken]
    return await asyncio.create_subprocess_exec(
        sys.executable, *command, "run", cwd=tmp_path, env=env,
        stdout=asyncio.subprocess.DEVNULL, stderr=asyncio.subprocess.DEVNULL,
    )  # fmt: skip


def ending(emu: TelegramEmulator, text: str) -> int:
    """How many of the bot's messages end with `text` (a question may come under a
    few words of introduction, the menu under the notice)."""
    return sum(shown.endswith(text) for shown in emu.bot_texts(ALEX))


async def said(emu: TelegramEmulator, text: str, wait: float = 60, count: int = 1) -> None:
    await emu.wait_for(lambda: ending(emu, text) >= count, wait, message=text)


async def press(emu: TelegramEmulator, label: str) -> None:
    """Press a button once the bot has shown it (the bot runs in another process)."""
    from bot.sandbox.emulator import EmulatorUsageError

    for _ in range(600):
        try:
            emu.press_button(ALEX, label)
            return
        except EmulatorUsageError:
            await asyncio.sleep(0.1)
    raise AssertionError(f"the bot never showed {label!r}")


async def version(database: Database) -> int:
    async with database.engine.connect() as connection:
        return int((await connection.execute(select(PEOPLE.c.state_version))).scalar_one())


async def killed_between_steps(
    database: Database, database_url: str, ring: KeyRing, tmp_path: Path, broken: str | None
) -> None:
    # A broken bot shows itself by not answering: wait less for what never comes.
    wait = 60 if broken is None else 20
    keyring = tmp_path / "keys" / "keyring.json"
    ring.save(keyring)
    emu = TelegramEmulator(TEST_TOKEN)
    emu.register_user(ALEX, "Alex")
    async with EmulatorServer(emu) as server:
        env = cli_env(
            database_url,
            keyring,
            FIRSTSTEP_TELEGRAM_TOKEN=TEST_TOKEN,
            FIRSTSTEP_TELEGRAM_API_URL=server.base_url,
            FIRSTSTEP_HEALTH_PORT="0",
        )
        bot = await start_bot(tmp_path, env, broken)
        try:
            emu.user_sends(ALEX, "/start")
            await press(emu, texts.BTN_CONTINUE)
            await said(emu, texts.MENU)
            await press(emu, texts.BTN_TELL)
            await said(emu, texts.Q_SUBSTANCES)
            await press(emu, texts.OPTION_LABELS["opioids"])
            await press(emu, texts.BTN_DONE)
            await said(emu, texts.Q_DURATION)
            before_kill = await version(database)

            bot.send_signal(signal.SIGKILL)
            await bot.wait()
            assert bot.returncode == -signal.SIGKILL
            bot = await start_bot(tmp_path, env, broken)

            await press(emu, texts.OPTION_LABELS["over_5y"])
            await said(emu, texts.Q_SUPPORT, wait)
            assert texts.Q_SUBSTANCES not in emu.bot_texts(ALEX)[-1]
            assert ending(emu, texts.MENU) == 1, "started again from /start"
            assert await version(database) > before_kill
        finally:
            if bot.returncode is None:
                bot.send_signal(signal.SIGTERM)
                await asyncio.wait_for(bot.wait(), 30)
    async with person_transaction(database, ring, ALEX, T0) as tx:
        assert tx.person is not None
        answers = await tx.disclosures()
    assert answers == {"substances": "opioids", "duration": "over_5y"}


async def test_sigkill_between_steps_then_the_next_answer_is_the_next_step(
    database: Database, database_url: str, ring: KeyRing, tmp_path: Path
) -> None:
    await killed_between_steps(database, database_url, ring, tmp_path, None)


async def test_rejects_a_bot_that_writes_the_step_only_when_stopped_gracefully(
    database: Database, database_url: str, ring: KeyRing, tmp_path: Path
) -> None:
    """The step kept in the process's memory (as a persistence that flushes at shutdown
    keeps it) survives a graceful restart but not SIGKILL: this test must notice. (Run
    once with SIGTERM instead of SIGKILL, this variant passed the scenario: the graceful
    restart test this one replaced could not have caught it.)"""
    error = await rejected(killed_between_steps(database, database_url, ring, tmp_path,
                                                "state-in-memory"))  # fmt: skip
    assert texts.Q_SUPPORT[:30] in str(error) or "from /start" in str(error), error
