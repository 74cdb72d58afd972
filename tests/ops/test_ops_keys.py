"""Key rotation through the real CLI while a bot Application is running on the same
database, following the runbook in docs/operating.md:

    keys add → restart every process → keys promote → restart → keys rewrap → keys retire
    → restart

A process reads the key ring at start only. The second test shows why the order
matters: a rewrap to a KEK that a running process has never loaded strands it (it
answers kindly, /healthz says why, and a restart heals it with nothing lost).
"""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

import pytest

from bot.app import build_application
from bot.health import check_health
from conversations import texts
from conversations.context import FirstStepApp
from storage.crypto import KeyRing
from storage.repositories.subjects import kek_usage
from tests.support.harness import Harness
from tests.support.ops import Ran, cli_env, firststep

ALEX = 7_700_000_301
BEA = 7_700_000_302
CAT = 7_700_000_303
WORDS = "I want to cut down, rotation-canary-5521"


class FileRingHarness(Harness):
    """The bot reads its ring from the key-ring file, as `firststep run` does."""

    def __init__(self, database_url: str, ring: KeyRing, tmp_path: Path, **kw: Any) -> None:
        super().__init__(database_url, ring, tmp_path, **kw)
        self.keyring = tmp_path / "keys" / "keyring.json"
        ring.save(self.keyring)
        self.settings = self.settings.model_copy(update={"keyring": self.keyring})

    def build(self) -> FirstStepApp:
        from bot.sandbox import EmulatorRequest

        return build_application(
            self.settings,
            request=EmulatorRequest(self.emu),
            get_updates_request=EmulatorRequest(self.emu, read_timeout=5.0),
            clock=self.clock,
            ring=None,
            rate_limit=False,
        )


async def tell(bot: Harness, user: int, words: str) -> None:
    await bot.onboard(user)
    await bot.press(user, texts.BTN_TELL)
    await bot.press(user, texts.BTN_SKIP)
    await bot.press(user, texts.BTN_SKIP)
    await bot.press(user, texts.BTN_SKIP)
    await bot.press(user, texts.BTN_SKIP)
    await bot.send(user, words)
    assert "✅ Saved" in bot.all_text(user)


async def served(bot: Harness, user: int, expect: str) -> None:
    """The person asks what we hold and sees it (their key opened in this process)."""
    before = len(bot.texts(user))
    await bot.send(user, "/mydata")
    shown = "\n".join(bot.texts(user)[before:])
    assert expect in shown, shown
    assert texts.SOMETHING_WENT_WRONG not in shown


async def cli(bot: FileRingHarness, tmp_path: Path, *args: str) -> Ran:
    ran = await firststep(tmp_path, cli_env(bot.settings.database_url, bot.keyring), *args)
    assert ran.code == 0, ran.err
    return ran


async def usage(bot: Harness) -> dict[int, int]:
    assert bot.app is not None
    return await kek_usage(bot.app.bot_data.services.database)


@pytest.mark.slow
async def test_rotation_through_the_cli_while_the_bot_serves(
    database_url: str, ring: KeyRing, tmp_path: Path
) -> None:
    bot = FileRingHarness(database_url, ring, tmp_path)
    await bot.start()
    try:
        await tell(bot, ALEX, WORDS)
        assert await usage(bot) == {1: 1}

        assert "added KEK version 2" in (await cli(bot, tmp_path, "keys", "add")).out
        await served(bot, ALEX, WORDS)  # untouched by a key it doesn't know yet
        await bot.restart()  # every process now holds v2 (not primary)

        assert "KEK version 2 is primary" in (await cli(bot, tmp_path, "keys", "promote", "2")).out
        await tell(bot, BEA, "Bea")  # this process still wraps under v1 until restarted
        assert await usage(bot) == {1: 2}
        await bot.restart()
        await tell(bot, CAT, "Cat")
        assert await usage(bot) == {1: 2, 2: 1}

        # Rewrap in another process while Alex keeps talking to this one.
        rewrap, _ = await asyncio.gather(
            cli(bot, tmp_path, "keys", "rewrap", "--batch", "1"),
            served(bot, ALEX, WORDS),
        )
        assert "rewrapped 2 keys under KEK version 2" in rewrap.out
        assert await usage(bot) == {2: 3}
        await served(bot, ALEX, WORDS)
        assert bot.app is not None
        services = bot.app.bot_data.services
        assert (await check_health(services.database, services.ring)).ok

        assert "KEK version 1 retired" in (await cli(bot, tmp_path, "keys", "retire", "1")).out
        await served(bot, ALEX, WORDS)
        await bot.restart()  # the ring without v1
        assert bot.app is not None
        assert bot.app.bot_data.services.ring.kek_versions == (2,)
        await served(bot, ALEX, WORDS)
        await served(bot, BEA, "Bea")
        await served(bot, CAT, "Cat")
        status = (await cli(bot, tmp_path, "keys", "status")).out
        assert "KEK v2 (primary): wraps 3 keys" in status
    finally:
        await bot.stop()


async def test_rewrap_before_restarting_strands_the_running_bot_until_restart(
    database_url: str, ring: KeyRing, tmp_path: Path
) -> None:
    bot = FileRingHarness(database_url, ring, tmp_path)
    await bot.start()
    try:
        await tell(bot, ALEX, WORDS)
        # Retiring a KEK that still wraps keys is refused in one line.
        env = cli_env(bot.settings.database_url, bot.keyring)
        refused = await firststep(tmp_path, env, "keys", "retire", "1")
        assert refused.code == 2
        assert "still wraps 1 keys" in refused.err

        await cli(bot, tmp_path, "keys", "add")
        await cli(bot, tmp_path, "keys", "promote", "2")
        await cli(bot, tmp_path, "keys", "rewrap")  # wrong: the bot was not restarted

        before = len(bot.texts(ALEX))
        await bot.send(ALEX, "/mydata")
        assert bot.texts(ALEX)[before:] == [texts.SOMETHING_WENT_WRONG]
        assert bot.app is not None
        services = bot.app.bot_data.services
        health = await check_health(services.database, services.ring)
        assert not health.ok
        assert "KEK version(s) 2" in health.reason

        await bot.restart()
        await served(bot, ALEX, WORDS)  # nothing was lost
    finally:
        await bot.stop()
