"""Start-up as it ships: `firststep run` as a new process, timed from the moment it is
spawned (imports included) until the emulator, over loopback HTTP, sees its first
getUpdates. The first run meets an empty database (migrations run); later runs a ready
one, as a restart does."""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

from bench.apps import TOKEN
from bench.stats import median
from bot.sandbox import EmulatorServer, TelegramEmulator
from bot.settings import REQUIRED_OPERATOR_TEXTS
from storage.crypto import KeyRing

ROOT = Path(__file__).resolve().parent.parent
# Only the operator can confirm these; `firststep run` refuses to start without them
# (every one bot/settings.py requires, so a new one does not break the bench).
OPERATOR_TEXTS = {
    f"FIRSTSTEP_{field.upper()}": f"(The bench's stand-in for {what}.)"
    for field, what in REQUIRED_OPERATOR_TEXTS.items()
}


def _env(base_url: str, database_url: str, keyring: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("FIRSTSTEP_")}
    env.update(OPERATOR_TEXTS)
    env.update(
        {
            "PYTHONPATH": str(ROOT),
            "FIRSTSTEP_TELEGRAM_TOKEN": TOKEN,
            "FIRSTSTEP_TELEGRAM_API_URL": base_url,
            "FIRSTSTEP_DATABASE_URL": database_url,
            "FIRSTSTEP_KEYRING": str(keyring),
            "FIRSTSTEP_HEALTH_PORT": "0",
            "FIRSTSTEP_LOG_LEVEL": "WARNING",
        }
    )
    return env


async def _one(emu: TelegramEmulator, env: dict[str, str], workdir: Path) -> float:
    before = len(emu.calls("getUpdates"))
    started = time.time()
    child = subprocess.Popen(
        [sys.executable, "-m", "bot", "run"],
        cwd=workdir,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    try:
        calls = await emu.wait_for(
            lambda: emu.calls("getUpdates")[before:] or child.poll() is not None,
            60.0,
            interval=0.002,
        )
        if not isinstance(calls, list):
            error = child.stderr.read().decode()[-1000:] if child.stderr else ""
            raise RuntimeError(f"`firststep run` stopped before polling: {error}")
        return calls[0].at - started
    finally:
        child.terminate()
        await asyncio.to_thread(child.wait, 30)


async def process_start_seconds(workdir: Path, *, runs: int = 4) -> dict[str, Any]:
    keyring = workdir / "startup-keyring.json"
    KeyRing.generate().save(keyring)
    database_url = f"sqlite+aiosqlite:///{workdir / 'process-startup.db'}"
    emu = TelegramEmulator(TOKEN)
    times: list[float] = []
    async with EmulatorServer(emu) as server:
        env = _env(server.base_url, database_url, keyring)
        for _ in range(runs):
            times.append(await _one(emu, env, workdir))
    return {
        "process_first_start_s": times[0],
        "process_restart_s": median(times[1:]),
        "process_runs": [round(t, 3) for t in times],
    }
