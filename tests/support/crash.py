"""What the crash tests share (tests/delivery/test_crash_delivery.py for cards,
tests/handoff/test_crash_relay.py for relayed messages): the bot as real processes
forked from a warm parent (tests/support/crash_zygote.py) against an EmulatorServer on
127.0.0.1 and an SQLite file in tmp, killed with SIGKILL, some kills aimed at a send
the emulator holds unanswered and unapplied.

Each test keeps what is its own: what it seeds, where its kills fall, what it checks.
"""

from __future__ import annotations

import asyncio
import os
import signal
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from bot.sandbox import EmulatorServer, TelegramEmulator
from tests.support.harness import TEST_TOKEN
from tests.support.ops import OPERATOR_TEXTS

ROOT = Path(__file__).resolve().parents[2]
ZYGOTE = ROOT / "tests" / "support" / "crash_zygote.py"


def alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    return True


async def until(done: Callable[[], bool], timeout: float, poll: float = 0.01) -> bool:
    """Poll `done` every `poll` seconds until it holds (True) or `timeout` seconds passed
    (False)."""
    deadline = time.monotonic() + timeout
    while not done():
        if time.monotonic() > deadline:
            return False
        await asyncio.sleep(poll)
    return True


@dataclass
class CrashRig:
    """The processes and the kills. `broken` names a variant crash_zygote.py installs."""

    tmp_path: Path
    broken: str | None = field(default=None, kw_only=True)
    emu: TelegramEmulator = field(
        default_factory=lambda: TelegramEmulator(TEST_TOKEN), kw_only=True
    )
    kills_done: int = field(default=0, kw_only=True)
    kills_in_flight: int = field(default=0, kw_only=True)
    kills_applied: int = field(default=0, kw_only=True)  # of those, the message had arrived

    @property
    def db_path(self) -> Path:
        return self.tmp_path / "var" / "firststep.db"

    @property
    def url(self) -> str:
        return f"sqlite+aiosqlite:///{self.db_path}"

    @property
    def log_path(self) -> Path:
        return self.tmp_path / "bot.log"

    def env(self, server: EmulatorServer, ring_path: Path, **extra: str) -> dict[str, str]:
        env = {k: v for k, v in os.environ.items() if not k.startswith("FIRSTSTEP_")}
        env.update(
            FIRSTSTEP_TELEGRAM_TOKEN=self.emu.token,
            FIRSTSTEP_TELEGRAM_API_URL=server.base_url,
            FIRSTSTEP_DATABASE_URL=self.url,
            FIRSTSTEP_KEYRING=str(ring_path),
            FIRSTSTEP_DELIVERY_LEASE_SECONDS="2",
            FIRSTSTEP_DELIVERY_POLL_SECONDS="0.2",
            FIRSTSTEP_LOG_LEVEL="INFO",
            FIRSTSTEP_HEALTH_PORT="0",  # no /healthz: parallel runs would fight over 8081
            PYTHONPATH=str(ROOT),
            **OPERATOR_TEXTS,
            **extra,
        )
        return env

    def zygote_argv(self, *more: str) -> list[str]:
        argv = [sys.executable, str(ZYGOTE), str(self.log_path), *more]
        if self.broken:
            argv += ["--broken", self.broken]
        return argv

    async def start_zygote(self, env: dict[str, str]) -> asyncio.subprocess.Process:
        return await asyncio.create_subprocess_exec(
            *self.zygote_argv(),
            env=env,
            cwd=self.tmp_path,
            stdin=asyncio.subprocess.PIPE,
            stdout=asyncio.subprocess.PIPE,
        )

    @staticmethod
    async def ready(zygote: asyncio.subprocess.Process) -> None:
        assert zygote.stdout is not None
        assert (await asyncio.wait_for(zygote.stdout.readline(), 60)).strip() == b"ready"

    @staticmethod
    async def spawn(zygote: asyncio.subprocess.Process) -> int:
        """A fresh `firststep run` from the warm parent; its pid."""
        assert zygote.stdin is not None and zygote.stdout is not None
        zygote.stdin.write(b"spawn\n")
        await zygote.stdin.drain()
        return int(await asyncio.wait_for(zygote.stdout.readline(), 10))

    @staticmethod
    async def quit(zygote: asyncio.subprocess.Process) -> None:
        assert zygote.stdin is not None
        zygote.stdin.write(b"quit\n")
        await zygote.stdin.drain()
        await asyncio.wait_for(zygote.wait(), 10)

    async def kill(self, pid: int) -> None:
        os.kill(pid, signal.SIGKILL)
        self.kills_done += 1
        await asyncio.sleep(0.05)  # the parent reaps it

    async def kill_in_flight(self, pid: int, timeout: float, *, applied: bool = False) -> bool:
        """SIGKILL while the emulator holds a sendMessage unanswered and not applied (the
        process dies after deciding to send and before the message arrives; `applied`:
        after the message arrived and before its answer came back, so a send again shows
        it twice); whether a send was there to hit within `timeout`, else a plain kill."""
        fault = self.emu.inject_fault("sendMessage", timeout=True, count=1, applied=applied)
        hit = await until(lambda: fault.hits > 0, timeout)
        if not hit:
            self.emu.clear_faults()  # same event loop as the emulator: no send slips in
        self.kills_in_flight += int(hit)
        self.kills_applied += int(hit and applied)
        await self.kill(pid)
        return hit

    @staticmethod
    async def stop_cleanly(pid: int) -> None:
        os.kill(pid, signal.SIGTERM)
        assert await until(lambda: not alive(pid), 30), "no clean stop on SIGTERM"
