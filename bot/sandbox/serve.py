"""The sandbox: the real bot against a pretend Telegram, with a web page to drive it.

Why: anyone can try the whole service — a person's first contact and a mentor's side of
the handoff — on their own computer, with no bot token, no Telegram account and no
internet. Nothing is pretend except Telegram itself: the bot is the production
Application (``build_application``) talking HTTP to the emulator, with a real key ring
and a real SQLite database. Both are throwaway: ``./var/sandbox/`` is wiped at each start.

Two loopback servers share one emulator: the Bot API on an ephemeral port (for the bot)
and the web page plus the emulator's control API on ``FIRSTSTEP_SANDBOX_PORT`` (8080).
The page is static; what it needs to know about this run (who the demo people are, the
pilot towns it offers when a location is shared) is written beside it as sandbox.json.
"""

from __future__ import annotations

import asyncio
import contextlib
import ipaddress
import json
import shutil
import signal
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from typing import Any, Final

from pydantic import SecretStr

from bot.app import build_application
from bot.logs import configure_logging
from bot.runner import start_application, stop_application
from bot.sandbox.emulator import TelegramEmulator
from bot.sandbox.http import EmulatorServer
from bot.settings import Settings
from bot.webchat.server import RunningWebChat, start_web_chat
from conversations.context import FirstStepApp
from storage.crypto import KeyRing
from storage.directory import gazetteer, office_by_id
from storage.models import MentorRole
from storage.repositories import mentors

__all__ = [
    "DEMO_OFFICE_ID",
    "SANDBOX_DIR",
    "SandboxError",
    "SandboxRun",
    "running_sandbox",
    "serve_sandbox",
]

SANDBOX_DIR: Final = Path("var/sandbox")
STATIC_DIR: Final = Path(__file__).resolve().parent / "static"
# Shaped like a BotFather token so every code path treats it as one; it opens nothing.
SANDBOX_TOKEN: Final = "5000000001:sandbox-token-opens-nothing-real"  # noqa: S105
BOT_USERNAME: Final = "first_step_sandbox_bot"
DEMO_OFFICE_ID: Final = "portsmouth-arundel-street"
PERSON_ID: Final = 7_000_000_101
MENTOR_ID: Final = 7_000_000_201
COORDINATOR_ID: Final = 7_000_000_301
POLL_TIMEOUT: Final = 10.0
JOIN_TIMEOUT: Final = 20.0


class SandboxError(Exception):
    """A problem the person starting the sandbox can fix (e.g. the port is taken)."""


@dataclass(frozen=True, slots=True)
class SandboxRun:
    """A running sandbox: where the page is, and the parts tests may look at."""

    url: str
    api_url: str
    webchat_url: str
    emulator: TelegramEmulator
    application: FirstStepApp
    person_id: int
    mentor_id: int
    coordinator_id: int
    root: Path


def fresh_root(root: Path) -> Path:
    """Wipe and recreate the sandbox folder: every start begins with no data at all."""
    root = root.resolve()
    if root.exists():
        shutil.rmtree(root)
    root.mkdir(parents=True, mode=0o700)
    return root


def site_config(person_id: int, mentor_id: int, webchat_url: str = "") -> dict[str, Any]:
    """What the page needs to know about this run."""
    office = office_by_id(DEMO_OFFICE_ID)
    towns = sorted(gazetteer(), key=lambda place: place.name)
    return {
        "bot_username": BOT_USERNAME,
        "webchat_url": webchat_url,
        "person": {"user_id": person_id, "first_name": "Sam"},
        "mentor": {"user_id": mentor_id, "first_name": "Jo"},
        "office": office.name if office is not None else DEMO_OFFICE_ID,
        "towns": [
            {"name": place.name, "area": place.pilot_area, "lat": place.lat, "lon": place.lon}
            for place in towns
        ],
    }


def build_site(root: Path, config: dict[str, Any]) -> Path:
    """The page's files plus this run's sandbox.json, in a folder of their own."""
    site = root / "site"
    shutil.copytree(STATIC_DIR, site)
    write_site_config(site, config)
    return site


def write_site_config(site: Path, config: dict[str, Any]) -> None:
    (site / "sandbox.json").write_text(json.dumps(config, indent=1), encoding="utf-8")


# What the operator must confirm before running for real (bot/settings.py
# REQUIRED_OPERATOR_TEXTS): the sandbox says a marked sample where none is set.
SANDBOX_SAMPLE_TEXTS = {
    "voluntary_policy": (
        "Sandbox sample: talking to a peer mentor is your choice, "
        "and it does not change your benefit claim."
    ),
    "mentor_employer": "Sandbox sample: peer mentors are employed by the pilot's providers.",
    "safeguarding_policy": (
        "Sandbox sample: a mentor keeps what you say private, unless your life or someone "
        "else's is at risk. Then they may tell someone who can help, and tell you first."
    ),
}


def sandbox_settings(settings: Settings, root: Path, api_base_url: str) -> Settings:
    """The operator's settings, with Telegram, the database and the keys made throwaway,
    and a marked sample for each operator text not set."""
    samples = {
        field: sample
        for field, sample in SANDBOX_SAMPLE_TEXTS.items()
        if not str(getattr(settings, field)).strip()
    }
    return settings.model_copy(
        update={
            **samples,
            "telegram_token": SecretStr(SANDBOX_TOKEN),
            "telegram_api_url": api_base_url,
            "database_url": f"sqlite+aiosqlite:///{root / 'firststep.db'}",
            "keyring": root / "keyring.json",
            "keyring_json": None,
            # The demo mentor joins at start-up; nobody is there to approve them.
            "mentor_approval": False,
        }
    )


async def _start_page(server: EmulatorServer, port: int) -> None:
    try:
        await server.start()
    except OSError as error:
        if port:
            raise SandboxError(
                f"cannot open the sandbox page on port {port} ({error.strerror or error}): "
                "set FIRSTSTEP_SANDBOX_PORT to a free port, or pass --port"
            ) from None
        raise SandboxError(f"cannot open the sandbox page: {error.strerror or error}") from None


async def _say_and_wait(emulator: TelegramEmulator, user_id: int, text: str) -> str:
    """The demo user sends ``text``; the bot's first answer to it."""
    sent = emulator.user_sends(user_id, text)
    assert sent.message_id is not None
    reply = await emulator.next_bot_message(user_id, sent.message_id, timeout=JOIN_TIMEOUT)
    return reply.text or ""


async def join_like_a_real_one(
    application: FirstStepApp,
    emulator: TelegramEmulator,
    user_id: int,
    name: str,
    *,
    role: MentorRole,
    ttl: timedelta,
) -> None:
    """An invite from the coordinator's tool, then `/join CODE` and a first name, sent
    from the demo user's own phone: the same path a real mentor takes."""
    services = application.bot_data.services
    office = office_by_id(DEMO_OFFICE_ID)
    assert office is not None
    async with services.database.transaction() as connection:
        invite = await mentors.create_invite(
            connection,
            role=role,
            office_id=office.office_id if role == MentorRole.MENTOR else None,
            pilot_area=office.pilot_area,
            now=services.clock(),
            ttl=ttl,
        )
    emulator.register_user(user_id, name)
    asked = await _say_and_wait(emulator, user_id, f"/join {invite.code}")
    welcomed = await _say_and_wait(emulator, user_id, name)
    if name not in welcomed:
        raise SandboxError(f"the demo {role.value} could not join: {asked!r} / {welcomed!r}")


async def enrol_demo_people(
    application: FirstStepApp, emulator: TelegramEmulator, settings: Settings
) -> None:
    """The demo person (who has not pressed Start yet), the demo mentor at a Portsmouth
    office and a coordinator for the Portsmouth pilot area, both joined through the bot."""
    emulator.register_user(PERSON_ID, "Sam")
    ttl = timedelta(hours=settings.invite_ttl_hours)
    await join_like_a_real_one(
        application, emulator, MENTOR_ID, "Jo", role=MentorRole.MENTOR, ttl=ttl
    )
    await join_like_a_real_one(
        application, emulator, COORDINATOR_ID, "Ali", role=MentorRole.COORDINATOR, ttl=ttl
    )


@contextlib.asynccontextmanager
async def running_sandbox(
    settings: Settings, *, port: int | None = None, root: Path = SANDBOX_DIR
) -> AsyncIterator[SandboxRun]:
    """Start everything; stop everything on the way out, in reverse order."""
    page_port = settings.sandbox_port if port is None else port
    if not _is_loopback(settings.sandbox_host):
        # The control API lets whoever can reach the page speak as anyone in it.
        raise SandboxError(
            f"the sandbox only listens on this computer, not {settings.sandbox_host}: "
            "set FIRSTSTEP_SANDBOX_HOST to 127.0.0.1"
        )
    root = fresh_root(root)
    ring = KeyRing.generate()
    ring.save(root / "keyring.json")

    emulator = TelegramEmulator(SANDBOX_TOKEN, bot_username=BOT_USERNAME)
    api = EmulatorServer(emulator, port=0)
    site = build_site(root, site_config(PERSON_ID, MENTOR_ID))
    page = EmulatorServer(emulator, host=settings.sandbox_host, port=page_port, static_dir=site)
    await api.start()
    application: FirstStepApp | None = None
    web_chat: RunningWebChat | None = None
    try:
        await _start_page(page, page_port)
        bot_settings = sandbox_settings(settings, root, api.base_url)
        application = build_application(bot_settings)
        await start_application(application, poll_timeout=POLL_TIMEOUT)
        # The person's side may also be the web chat: the real page, served by the real
        # web door (bot/webchat), on a port of its own.
        web_chat = await start_web_chat(application, bot_settings, port=0)
        webchat_url = f"http://{settings.sandbox_host}:{web_chat.port}/?office={DEMO_OFFICE_ID}"
        write_site_config(site, site_config(PERSON_ID, MENTOR_ID, webchat_url))
        await enrol_demo_people(application, emulator, settings)
        yield SandboxRun(
            url=f"{page.url}/",
            api_url=api.url,
            webchat_url=webchat_url,
            emulator=emulator,
            application=application,
            person_id=PERSON_ID,
            mentor_id=MENTOR_ID,
            coordinator_id=COORDINATOR_ID,
            root=root,
        )
    finally:
        if web_chat is not None:
            await web_chat.stop()
        if application is not None:
            await stop_application(application)
        await page.stop()
        await api.stop()


def _is_loopback(host: str) -> bool:
    try:
        return host == "localhost" or ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def _on_stop_signals(stop: asyncio.Event) -> None:
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGINT, signal.SIGTERM):
        with contextlib.suppress(NotImplementedError, RuntimeError):  # not on Windows
            loop.add_signal_handler(signum, stop.set)


async def _serve(settings: Settings, port: int | None) -> None:
    stop = asyncio.Event()
    _on_stop_signals(stop)
    async with running_sandbox(settings, port=port) as run:
        print(f"First Step sandbox: open {run.url} in your browser (Ctrl-C stops it)", flush=True)
        await stop.wait()
        print("Stopping the sandbox…", flush=True)
    print("Sandbox stopped. Its data in ./var/sandbox/ is wiped at the next start.", flush=True)


def serve_sandbox(settings: Settings, *, port: int | None = None) -> None:
    """`firststep sandbox` (and `make run` with no token): serve until Ctrl-C or SIGTERM."""
    # Quiet unless asked: the one line with the address should not scroll away.
    configure_logging(settings.log_level if "log_level" in settings.model_fields_set else "WARNING")
    try:
        asyncio.run(_serve(settings, port))
    except KeyboardInterrupt:  # Ctrl-C before the handlers were in place
        print("Sandbox stopped.", flush=True)
