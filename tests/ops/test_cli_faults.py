"""Every failure an operator can cause ends in one line and exit status 2 (issue 15, 1).

Each command runs in its own process, as an operator runs it, against a real fault:
Telegram answering getMe with 401 (a wrong token) or 404 (a mistyped API URL), Telegram
not listening at all, PostgreSQL not listening, and a database that was never upgraded.
The last line must say what to fix; neither the bot token nor the database password may
appear anywhere in what the command prints, at any log level.
"""

from __future__ import annotations

import asyncio
import socket
from pathlib import Path

import pytest

from bot.sandbox import EmulatorServer, TelegramEmulator
from storage.crypto import KeyRing
from tests.support.ops import Ran, cli_env, firststep

TOKEN = "987654321:AAH-operator-token-canary-7311"
PASSWORD = "pw-canary-5530"
SECRET = "wh_Secret-token_fault-canary-0042"
DATABASE_COMMANDS = [
    ("keys", "status"),
    ("keys", "rewrap"),
    ("keys", "retire", "1"),
    ("keys", "retire", "--pepper", "1"),
    ("purge",),
    ("restore", "--replay-journal"),
]


def closed_port() -> int:
    """A loopback port nobody listens on (bound, read, released)."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def assert_one_clean_line(ran: Ran, *expected: str, logs: bool = False) -> None:
    """One line on stderr (the last one, after the logs an operator asked for with
    FIRSTSTEP_LOG_LEVEL=DEBUG), exit 2, and no secret anywhere."""
    everything = ran.out + ran.err
    assert ran.code == 2, (ran.code, ran.err[-3000:])
    lines = ran.err.strip().splitlines()
    if logs:
        lines = lines[-1:]
    assert len(lines) == 1, ran.err[-3000:]
    assert lines[0].startswith("firststep: "), lines[0]
    for words in expected:
        assert words in lines[0], lines[0]
    assert logs or "Traceback" not in everything
    assert TOKEN not in everything and TOKEN.split(":")[1] not in everything
    assert PASSWORD not in everything
    assert SECRET not in everything


def ring_file(tmp_path: Path) -> Path:
    path = tmp_path / "keys" / "keyring.json"
    if not path.exists():
        KeyRing.generate().save(path)
    return path


def telegram_env(tmp_path: Path, api_url: str, level: str = "INFO") -> dict[str, str]:
    return cli_env(
        f"sqlite+aiosqlite:///{tmp_path / 'bot.db'}",
        ring_file(tmp_path),
        FIRSTSTEP_TELEGRAM_TOKEN=TOKEN,
        FIRSTSTEP_TELEGRAM_API_URL=api_url,
        FIRSTSTEP_WEBHOOK_URL="https://bot.example.org/hook",
        FIRSTSTEP_WEBHOOK_SECRET=SECRET,
        FIRSTSTEP_WEBHOOK_PORT=str(closed_port()),
        FIRSTSTEP_HEALTH_PORT=str(closed_port()),
        FIRSTSTEP_LOG_LEVEL=level,
    )


@pytest.mark.parametrize("mode", [(), ("--webhook",)], ids=["polling", "webhook"])
async def test_telegram_faults_at_start_up_are_one_line(
    tmp_path: Path, mode: tuple[str, ...]
) -> None:
    """A wrong token (401), a mistyped API URL (404), Telegram not listening; the wrong
    token again at DEBUG, where PTB's logs come first and our line still ends it."""
    emu = TelegramEmulator("111111111:AAH-the-token-telegram-knows-0000")
    async with EmulatorServer(emu) as server:
        cases = [
            (telegram_env(tmp_path, server.base_url), ("refused the bot token",), False),
            (
                telegram_env(tmp_path, server.base_url + "/typo"),
                ("refused the bot token", "FIRSTSTEP_TELEGRAM_API_URL"),
                False,
            ),
            (
                telegram_env(tmp_path, f"http://127.0.0.1:{closed_port()}/bot"),
                ("cannot reach Telegram",),
                False,
            ),
            (telegram_env(tmp_path, server.base_url, "DEBUG"), ("refused the bot token",), True),
        ]
        ran = await asyncio.gather(*(firststep(tmp_path, env, "run", *mode) for env, _, _ in cases))
    for (_, expected, logs), result in zip(cases, ran, strict=True):
        assert_one_clean_line(result, *expected, logs=logs)


async def test_unreachable_postgres_is_one_line_for_every_command(tmp_path: Path) -> None:
    url = f"postgresql+asyncpg://postgres:{PASSWORD}@127.0.0.1:{closed_port()}/firststep"
    env = cli_env(url, ring_file(tmp_path), FIRSTSTEP_TELEGRAM_TOKEN=TOKEN)
    ran = await asyncio.gather(*(firststep(tmp_path, env, *args) for args in DATABASE_COMMANDS))
    for args, result in zip(DATABASE_COMMANDS, ran, strict=True):
        try:
            assert_one_clean_line(result, "cannot reach the database", "FIRSTSTEP_DATABASE_URL")
        except AssertionError as error:
            raise AssertionError(f"firststep {' '.join(args)}: {error}") from None


NEVER_UPGRADED = [
    ("keys", "status"),
    ("keys", "rewrap"),
    ("keys", "retire", "1"),
    ("purge",),
    ("restore", "--replay-journal"),
    ("report", "--out", "report"),
]


async def test_a_never_upgraded_database_is_one_line(tmp_path: Path, database_url: str) -> None:
    """The database answers but holds no tables (the conftest left it empty)."""
    env = cli_env(database_url, ring_file(tmp_path))
    ran = await asyncio.gather(*(firststep(tmp_path, env, *args) for args in NEVER_UPGRADED))
    for args, result in zip(NEVER_UPGRADED, ran, strict=True):
        try:
            assert_one_clean_line(result, "firststep db upgrade")
        except AssertionError as error:
            raise AssertionError(f"firststep {' '.join(args)}: {error}") from None


async def test_a_web_chat_port_in_use_is_one_line(tmp_path: Path) -> None:
    emu = TelegramEmulator(TOKEN)
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen(1)
        port = taken.getsockname()[1]
        async with EmulatorServer(emu) as server:
            env = telegram_env(tmp_path, server.base_url)
            env["FIRSTSTEP_WEBCHAT_PORT"] = str(port)
            result = await firststep(tmp_path, env, "run")
    assert_one_clean_line(result, "cannot open the web chat", "FIRSTSTEP_WEBCHAT_PORT")
