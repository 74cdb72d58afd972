"""The webhook server drops slow, huge and surplus connections (issue 15, 5).

Real sockets against PTB's webhook server on 127.0.0.1 (the real Application, Telegram
played by the emulator). The limits are shortened for the test through the module's
constants, which the server reads when it starts. Before the change tornado's defaults
held a slow request open for an hour and read a 100 MB body before the secret check.
"""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from bot import webhook_limits
from bot.app import build_application
from bot.runner import stop_application
from bot.sandbox import EmulatorRequest, TelegramEmulator
from bot.webhook import start_webhook_application
from storage.crypto import KeyRing
from tests.ops.test_ops_webhook import (
    HOOK_PATH,
    SECRET,
    Running,
    processed_ids,
    start_update,
    webhook_settings,
)
from tests.support.harness import TEST_TOKEN

USER = 7_700_001_551
LIMIT = 1.0  # seconds for headers and for a body, in this test
CAP = 20


@pytest.fixture
async def limited(
    database_url: str, ring: KeyRing, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> AsyncIterator[Running]:
    monkeypatch.setattr(webhook_limits, "HEADER_TIMEOUT", LIMIT)
    monkeypatch.setattr(webhook_limits, "BODY_TIMEOUT", LIMIT)
    monkeypatch.setattr(webhook_limits, "MAX_CONNECTIONS", CAP)
    emu = TelegramEmulator(TEST_TOKEN)
    settings = webhook_settings(database_url, tmp_path)
    app = build_application(settings, request=EmulatorRequest(emu), ring=ring, rate_limit=False)
    await start_webhook_application(app, settings)
    yield Running(emu, app, settings, f"http://127.0.0.1:{settings.webhook_port}{HOOK_PATH}")
    await stop_application(app)


async def connect(running: Running) -> tuple[asyncio.StreamReader, asyncio.StreamWriter]:
    return await asyncio.open_connection("127.0.0.1", running.settings.webhook_port)


async def closed_within(reader: asyncio.StreamReader, seconds: float) -> float:
    """Seconds until the server closed the connection (reading what it sent first)."""
    began = time.monotonic()
    async with asyncio.timeout(seconds):
        while await reader.read(65536):
            pass
    return time.monotonic() - began


def head(length: int, secret: str = SECRET) -> bytes:
    return (
        f"POST {HOOK_PATH} HTTP/1.1\r\nHost: bot\r\nContent-Type: application/json\r\n"
        f"X-Telegram-Bot-Api-Secret-Token: {secret}\r\nContent-Length: {length}\r\n\r\n"
    ).encode()


async def test_slow_headers_are_dropped(limited: Running) -> None:
    reader, writer = await connect(limited)
    writer.write(f"POST {HOOK_PATH} HTTP/1.1\r\nHost: bot\r\n".encode())  # and no more
    await writer.drain()
    assert await closed_within(reader, LIMIT + 4) >= LIMIT * 0.5
    writer.close()


async def test_slow_bodies_are_dropped(limited: Running) -> None:
    reader, writer = await connect(limited)
    writer.write(head(1000) + b'{"update_id": ')  # 14 of 1000 bytes, then nothing
    await writer.drain()
    await closed_within(reader, LIMIT + 4)
    writer.close()


async def test_a_huge_body_is_refused_before_it_is_read(limited: Running) -> None:
    """100 MB announced with the right secret: refused from the header, nothing read."""
    reader, writer = await connect(limited)
    writer.write(head(100 * 1024 * 1024))
    await writer.drain()
    await closed_within(reader, 3)
    writer.close()
    assert await processed_ids(limited.database) == set()


async def test_surplus_connections_are_closed_and_a_real_update_gets_through(
    limited: Running,
) -> None:
    """CAP + 30 connections that never finish: the surplus is closed at once, the rest
    after the header limit; then Telegram's (re)delivery is answered and handled."""
    streams = [await connect(limited) for _ in range(CAP + 30)]
    for _, writer in streams:
        writer.write(b"POST ")
    await asyncio.gather(*(w.drain() for _, w in streams))
    closes = await asyncio.gather(
        *(closed_within(r, LIMIT + 4) for r, _ in streams), return_exceptions=True
    )
    assert not [c for c in closes if isinstance(c, BaseException)], "some stayed open"
    quick = [c for c in closes if isinstance(c, float) and c < LIMIT * 0.5]
    assert len(quick) >= 30, "the surplus over the cap was not closed at once"
    for _, writer in streams:
        writer.close()

    update = start_update(limited.emu, USER, "/start")
    body = json.dumps(update).encode()
    reader, writer = await connect(limited)
    writer.write(head(len(body)) + body)
    await writer.drain()
    status = await asyncio.wait_for(reader.readline(), 5)
    assert status.startswith(b"HTTP/1.1 200"), status
    writer.close()
    await limited.emu.wait_for(lambda: limited.emu.bot_texts(USER), 15, message="reply")


@pytest.mark.parametrize("secret", ["", "x", SECRET[:-1], SECRET + "x", "é" * 8])
async def test_a_wrong_secret_of_any_length_is_403(limited: Running, secret: str) -> None:
    update = start_update(limited.emu, USER, "/start")
    body = json.dumps(update).encode()
    reader, writer = await connect(limited)
    writer.write(head(len(body), secret) + body)
    await writer.drain()
    status = await asyncio.wait_for(reader.readline(), 5)
    assert status.startswith(b"HTTP/1.1 403"), status
    writer.close()
    assert await processed_ids(limited.database) == set()


def test_the_secret_is_compared_in_constant_time() -> None:
    """The handler PTB builds is ours, which uses hmac.compare_digest (PTB's uses !=)."""
    import inspect

    from telegram.ext._utils import webhookhandler

    webhook_limits.install()
    assert webhookhandler.TelegramHandler is webhook_limits.ConstantTimeTelegramHandler
    source = inspect.getsource(webhook_limits.ConstantTimeTelegramHandler._validate_post)
    assert "hmac.compare_digest" in source
