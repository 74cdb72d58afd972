"""The shipped HTTP client (issue 16, item 4): the real bot over loopback HTTP through
AiohttpRequest against the emulator's server, and PTB's error mapping kept."""

from __future__ import annotations

import socket
from pathlib import Path

import pytest
from telegram.error import NetworkError, TimedOut
from telegram.ext import ExtBot

from bot.aiohttp_request import AiohttpRequest
from bot.app import build_application
from bot.runner import start_application, stop_application
from bot.sandbox import EmulatorServer, TelegramEmulator
from bot.settings import Settings
from bot.webchat.request import TwoDoorRequest
from conversations import texts
from storage.crypto import KeyRing
from tests.support.harness import TEST_TOKEN

PERSON = 6_400_000_001


async def test_the_bot_answers_over_http_with_the_shipped_client(
    database_url: str, tmp_path: Path
) -> None:
    emu = TelegramEmulator(TEST_TOKEN)
    async with EmulatorServer(emu) as server:
        settings = Settings(
            _env_file=None,
            telegram_token=emu.token,
            telegram_api_url=server.base_url,
            database_url=database_url,
            keyring=tmp_path / "unused-keyring.json",
        )
        app = build_application(settings, ring=KeyRing.generate(), delivery=False)
        # The shipped client, behind the request class that routes web chats' calls to
        # the web door (bot/webchat/request.py).
        assert isinstance(app.bot.request, TwoDoorRequest)
        assert isinstance(app.bot.request.inner, AiohttpRequest)
        await start_application(app)
        try:
            emu.register_user(PERSON, "Sam")
            emu.user_sends(PERSON, "/start")
            await emu.wait_for(lambda: texts.BTN_CONTINUE in emu.button_texts(PERSON), 20.0)
            emu.press_button(PERSON, texts.BTN_CONTINUE)
            # The menu comes under the notice (an edit over HTTP, with its buttons).
            await emu.wait_for(lambda: emu.bot_texts(PERSON)[-1].endswith(texts.MENU), 20.0)
        finally:
            await stop_application(app)
    assert all(call.status == 200 for call in emu.calls() if call.method != "getUpdates")


async def test_a_refused_connection_is_a_network_error_without_the_token() -> None:
    with socket.socket() as free:
        free.bind(("127.0.0.1", 0))
        port = free.getsockname()[1]
    bot: ExtBot[None] = ExtBot(
        TEST_TOKEN, base_url=f"http://127.0.0.1:{port}/bot", request=AiohttpRequest()
    )
    with pytest.raises(NetworkError) as raised:
        await bot.initialize()
    assert TEST_TOKEN not in str(raised.value)
    assert not isinstance(raised.value, TimedOut)
    await bot.request.shutdown()
