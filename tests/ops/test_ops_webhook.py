"""Webhook mode: real HTTP to PTB's webhook server on 127.0.0.1, and /healthz.

A request without the right X-Telegram-Bot-Api-Secret-Token gets 403 and is not
processed: no handler runs (no processed_updates row, no reply). With the right header
the update is handled. The production path (`firststep run --webhook`) runs for real in
a subprocess against the emulator served over loopback HTTP.
"""

from __future__ import annotations

import asyncio
import logging
import signal
import socket
import sys
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy import func, select

from bot.app import build_application
from bot.health import Health, check_health, start_health_server
from bot.housekeeping import health_check_for
from bot.runner import stop_application
from bot.sandbox import EmulatorRequest, EmulatorServer, TelegramEmulator
from bot.settings import Settings
from bot.webhook import start_webhook_application, webhook_options
from conversations import texts
from conversations.context import FirstStepApp
from storage.crypto import KeyRing
from storage.db import Database
from storage.models import Base
from storage.repositories.subjects import create_subject_key
from tests.support.harness import TEST_TOKEN
from tests.support.ops import T0, cli_env, firststep
from tests.support.tables import PROCESSED

SECRET = "wh_Secret-token_0123456789abcdefXYZ"
USER = 7_700_000_201
HOOK_PATH = "/tg-hook"


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def webhook_settings(database_url: str, tmp_path: Path, **extra: Any) -> Settings:
    values: dict[str, Any] = {
        "telegram_token": TEST_TOKEN,
        "database_url": database_url,
        "keyring": tmp_path / "unused.json",
        "webhook_url": f"https://bot.example.org{HOOK_PATH}",
        "webhook_secret": SECRET,
        "webhook_port": free_port(),
    }
    values.update(extra)
    return Settings(_env_file=None, **values)


@dataclass
class Running:
    emu: TelegramEmulator
    app: FirstStepApp
    settings: Settings
    url: str

    @property
    def database(self) -> Database:
        return self.app.bot_data.services.database


@pytest.fixture
async def webhook_app(database_url: str, ring: KeyRing, tmp_path: Path) -> AsyncIterator[Running]:
    emu = TelegramEmulator(TEST_TOKEN)
    settings = webhook_settings(database_url, tmp_path)
    app = build_application(settings, request=EmulatorRequest(emu), ring=ring, rate_limit=False)
    await start_webhook_application(app, settings)
    url = f"http://127.0.0.1:{settings.webhook_port}{HOOK_PATH}"
    yield Running(emu, app, settings, url)
    await stop_application(app)


def payload_of(emu: TelegramEmulator, update_id: int) -> dict[str, Any]:
    (payload,) = [u for u in emu.pending_updates() if u["update_id"] == update_id]
    return payload


def start_update(emu: TelegramEmulator, user: int, text: str = "/start") -> dict[str, Any]:
    """The update Telegram would POST: made by the emulator, as if the person typed it."""
    if user not in {u.user_id for u in emu.users()}:
        emu.register_user(user, "Alex")
    return payload_of(emu, emu.user_sends(user, text).update_id)


async def processed_ids(database: Database) -> set[int]:
    table = PROCESSED
    async with database.engine.connect() as connection:
        return {int(i) for i in (await connection.execute(select(table.c.update_id))).scalars()}


async def row_total(database: Database) -> int:
    """Rows in every table, main data and key store: any write shows here."""
    total = 0
    async with database.engine.connect() as connection:
        for table in Base.metadata.sorted_tables:
            total += (
                await connection.execute(select(func.count()).select_from(table))
            ).scalar_one()
    return int(total)


async def post(url: str, payload: object, secret: str | None) -> httpx.Response:
    headers = {"Content-Type": "application/json"}
    if secret is not None:
        headers["X-Telegram-Bot-Api-Secret-Token"] = secret
    async with httpx.AsyncClient() as client:
        return await client.post(url, json=payload, headers=headers)


async def forged_posts_change_nothing(running: Running, payload: dict[str, Any]) -> None:
    before_rows = await row_total(running.database)
    before_sent = len(running.emu.calls("sendMessage"))
    assert (await post(running.url, payload, None)).status_code == 403
    assert (await post(running.url, payload, "wrong-secret")).status_code == 403
    assert (await post(running.url, payload, SECRET[:-1])).status_code == 403
    # Give a (wrongly) queued update every chance to be handled before looking.
    await asyncio.sleep(0.3)
    await asyncio.wait_for(running.app.update_queue.join(), 5)
    assert await row_total(running.database) == before_rows, "a forged update wrote data"
    assert len(running.emu.calls("sendMessage")) == before_sent, "a forged update got a reply"


async def genuine_post(running: Running, payload: dict[str, Any], expect: str) -> None:
    assert (await post(running.url, payload, SECRET)).status_code == 200
    await running.emu.wait_for(
        lambda: expect in "\n".join(running.emu.bot_texts(USER)), 10, message="reply"
    )
    await asyncio.wait_for(running.app.update_queue.join(), 5)


async def check_secret_is_enforced(running: Running) -> None:
    """The assertions of the webhook-secret test, shared with its broken-variant check."""
    emu = running.emu
    # Someone we don't know: a forged /start is refused; a genuine one is answered.
    await forged_posts_change_nothing(running, start_update(emu, USER, "/start"))
    await genuine_post(running, start_update(emu, USER, "/start"), "Before you tell us")
    press = emu.press_button(USER, texts.BTN_CONTINUE).update_id
    await genuine_post(running, payload_of(emu, press), texts.MENU)
    assert await processed_ids(running.database) == {press}

    # Someone we know: a forged /mydata is refused and not recorded; a genuine one is.
    forged = start_update(emu, USER, "/mydata")
    await forged_posts_change_nothing(running, forged)
    assert forged["update_id"] not in await processed_ids(running.database)
    genuine = start_update(emu, USER, "/mydata")
    await genuine_post(running, genuine, texts.MYDATA_HEADER)
    assert genuine["update_id"] in await processed_ids(running.database)


async def test_webhook_refuses_requests_without_the_secret(webhook_app: Running) -> None:
    hook = webhook_app.emu.webhook()
    assert hook["url"] == f"https://bot.example.org{HOOK_PATH}"
    assert hook["secret_token"] == SECRET
    await check_secret_is_enforced(webhook_app)


async def test_the_secret_test_catches_a_webhook_without_a_secret(
    database_url: str, ring: KeyRing, tmp_path: Path
) -> None:
    """Deliberately broken: the same server started without secret_token must fail the
    assertions above (a forged update is handled)."""
    emu = TelegramEmulator(TEST_TOKEN)
    settings = webhook_settings(database_url, tmp_path)
    app = build_application(settings, request=EmulatorRequest(emu), ring=ring, rate_limit=False)
    await app.initialize()
    assert app.post_init is not None
    await app.post_init(app)
    assert app.updater is not None
    options = webhook_options(settings) | {"secret_token": None}
    await app.updater.start_webhook(**options)
    await app.start()
    try:
        running = Running(
            emu, app, settings, f"http://127.0.0.1:{settings.webhook_port}{HOOK_PATH}"
        )
        with pytest.raises(AssertionError):
            await check_secret_is_enforced(running)
    finally:
        await stop_application(app)


async def test_unparseable_update_is_refused_and_its_text_never_logged(
    webhook_app: Running, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    caplog.set_level(logging.DEBUG, logger="telegram.ext.Updater")
    broken = {"update_id": 99, "message": {"text": "CANARY_TXT_91 at 7781000001"}}
    response = await post(webhook_app.url, broken, SECRET)
    assert response.status_code == 400
    genuine = start_update(webhook_app.emu, USER, "/start")
    assert (await post(webhook_app.url, genuine, SECRET)).status_code == 200
    await webhook_app.emu.wait_for(lambda: webhook_app.emu.bot_texts(USER), 10)
    # PTB logs each body at DEBUG and one it cannot parse at CRITICAL (with the data);
    # the library filter keeps those records but not their values, at every level.
    assert any(r.levelno == logging.CRITICAL for r in caplog.records if r.name.endswith("Updater"))
    for secret_or_id in ("CANARY_TXT_91", "7781000001", str(USER), SECRET):
        assert secret_or_id not in caplog.text


async def healthz(port: int) -> tuple[int, str]:
    async with httpx.AsyncClient() as client:
        response = await client.get(f"http://127.0.0.1:{port}/healthz")
    return response.status_code, response.text


async def test_healthz_reports_ok_and_a_missing_kek_version(
    webhook_app: Running, ring: KeyRing
) -> None:
    server = await start_health_server(health_check_for(webhook_app.app), "127.0.0.1", 0)
    try:
        assert await healthz(server.port) == (200, "ok\n")
        # Another process promoted a KEK this process has never loaded, and wrapped a key.
        newer, version = ring.with_new_kek()
        async with webhook_app.database.transaction() as connection:
            await create_subject_key(connection, newer.promote_kek(version), "f" * 32, T0)
        status, body = await healthz(server.port)
        assert status == 503
        assert body == f"key ring lacks KEK version(s) {version} used by stored keys\n"
    finally:
        await server.stop()


async def test_healthz_database_down_says_so_without_the_connection_string(
    ring: KeyRing,
) -> None:
    down = Database.from_url("postgresql+asyncpg://firststep:pw-9931@127.0.0.1:1/firststep")

    async def check() -> Health:
        return await check_health(down, ring)

    server = await start_health_server(check, "127.0.0.1", 0)
    try:
        status, body = await healthz(server.port)
    finally:
        await server.stop()
        await down.dispose()
    assert status == 503
    assert body == "database unavailable\n"


async def test_healthz_before_start_up_is_503_starting(tmp_path: Path, ring: KeyRing) -> None:
    settings = webhook_settings(f"sqlite+aiosqlite:///{tmp_path / 'x.db'}", tmp_path)
    app = build_application(settings, request=EmulatorRequest(TelegramEmulator(TEST_TOKEN)))
    server = await start_health_server(health_check_for(app), "127.0.0.1", 0)
    try:
        assert await healthz(server.port) == (503, "starting\n")
    finally:
        await server.stop()


@pytest.mark.parametrize(
    ("extra", "expected"),
    [
        ({}, "FIRSTSTEP_WEBHOOK_SECRET is required"),
        ({"FIRSTSTEP_WEBHOOK_SECRET": "has spaces in it"}, "FIRSTSTEP_WEBHOOK_SECRET"),
        ({"FIRSTSTEP_WEBHOOK_SECRET": "x" * 257}, "FIRSTSTEP_WEBHOOK_SECRET"),
        ({"FIRSTSTEP_WEBHOOK_SECRET": SECRET}, "FIRSTSTEP_WEBHOOK_URL is required"),
        (
            {"FIRSTSTEP_WEBHOOK_SECRET": SECRET, "FIRSTSTEP_WEBHOOK_URL": "http://plain"},
            "FIRSTSTEP_WEBHOOK_URL",
        ),
    ],
)
async def test_webhook_mode_without_a_valid_secret_or_url_stops_in_one_line(
    tmp_path: Path, extra: dict[str, str], expected: str
) -> None:
    env = cli_env(f"sqlite+aiosqlite:///{tmp_path / 'x.db'}", FIRSTSTEP_TELEGRAM_TOKEN=TEST_TOKEN)
    env.update(extra)
    ran = await firststep(tmp_path, env, "run", "--webhook")
    assert ran.code == 2
    lines = ran.err.strip().splitlines()
    assert len(lines) == 1, ran.err
    assert expected in lines[0]
    assert "Traceback" not in ran.err
    secret = extra.get("FIRSTSTEP_WEBHOOK_SECRET", "")
    if secret:
        assert secret not in lines[0]


async def test_firststep_run_webhook_for_real(
    database_url: str, ring: KeyRing, tmp_path: Path
) -> None:
    """`firststep run --webhook` in its own process, Telegram played by the emulator over
    loopback HTTP: it registers the webhook with the secret, serves /healthz, answers a
    genuine update, refuses a forged one, and stops cleanly on SIGTERM."""
    emu = TelegramEmulator(TEST_TOKEN)
    keyring = tmp_path / "keyring.json"
    ring.save(keyring)
    hook_port, health_port = free_port(), free_port()
    async with EmulatorServer(emu) as server:
        env = cli_env(
            database_url,
            keyring,
            FIRSTSTEP_TELEGRAM_TOKEN=TEST_TOKEN,
            FIRSTSTEP_TELEGRAM_API_URL=server.base_url,
            FIRSTSTEP_WEBHOOK_URL=f"https://bot.example.org{HOOK_PATH}",
            FIRSTSTEP_WEBHOOK_SECRET=SECRET,
            FIRSTSTEP_WEBHOOK_PORT=str(hook_port),
            FIRSTSTEP_HEALTH_PORT=str(health_port),
        )
        process = await asyncio.create_subprocess_exec(
            sys.executable,
            "-m",
            "bot",
            "run",
            "--webhook",
            cwd=tmp_path,
            env=env,
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.PIPE,
        )
        try:
            status = 0
            for _ in range(300):
                try:
                    status, _body = await healthz(health_port)
                except httpx.TransportError:
                    status = 0
                if status == 200 or process.returncode is not None:
                    break
                await asyncio.sleep(0.1)
            assert status == 200, "the health server never said ok"
            assert emu.webhook()["secret_token"] == SECRET
            url = f"http://127.0.0.1:{hook_port}{HOOK_PATH}"
            forged = start_update(emu, USER, "/start")
            assert (await post(url, forged, "nope")).status_code == 403
            genuine = start_update(emu, USER + 1, "/start")
            assert (await post(url, genuine, SECRET)).status_code == 200
            await emu.wait_for(lambda: emu.bot_texts(USER + 1), 15, message="reply")
            assert emu.bot_texts(USER) == []
        finally:
            if process.returncode is None:
                process.send_signal(signal.SIGTERM)
            _out, err = await asyncio.wait_for(process.communicate(), 30)
    assert process.returncode == 0, err.decode()[-2000:]
    assert SECRET not in err.decode()
    assert TEST_TOKEN.split(":")[1] not in err.decode()


async def test_bot_serves_when_the_health_port_is_taken(
    database_url: str, ring: KeyRing, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    """`firststep run` adds the purge job and /healthz; a port already in use must not
    keep people from being answered (it is logged for the operator)."""
    from bot.housekeeping import install_operations
    from tests.support.harness import Harness

    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = int(taken.getsockname()[1])

        class OpsHarness(Harness):
            def build(self) -> FirstStepApp:
                app = super().build()
                install_operations(app, self.settings)
                return app

        bot = OpsHarness(database_url, ring, tmp_path, health_port=port)
        await bot.start()
        try:
            await bot.send(USER, "/start")
            assert "Before you tell us anything" in bot.all_text(USER)
            assert "event=health_server_unavailable" in caplog.text
            assert bot.app is not None
            assert bot.app.job_queue is not None
            names = {job.name for job in bot.app.job_queue.jobs()}
            assert "firststep.purge" in names
        finally:
            await bot.stop()
