"""The sandbox: no token needed, the real bot over HTTP, a fresh start every time, a page
that fetches nothing from outside, and a clean stop on Ctrl-C or SIGTERM."""

from __future__ import annotations

import asyncio
import re
import signal
import socket
import urllib.error
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx
import pytest

from bot.sandbox.serve import (
    DEMO_OFFICE_ID,
    STATIC_DIR,
    SandboxError,
    SandboxRun,
    running_sandbox,
)
from bot.settings import Settings
from conversations import texts
from storage.directory import gazetteer, office_by_id
from storage.repositories import mentors
from storage.repositories.referrals import REF_PATTERN
from tests.support.sandbox_process import SandboxProcess, fetch
from tests.support.tables import INVITES

pytestmark = pytest.mark.sandbox

PORTSMOUTH = next(place for place in gazetteer() if place.name == "Portsmouth")


def plain_settings(**overrides: Any) -> Settings:
    return Settings(_env_file=None, **overrides)


class Phone:
    """One person at the page, speaking through the emulator's control API over HTTP."""

    def __init__(self, client: httpx.AsyncClient, user_id: int) -> None:
        self.client = client
        self.user_id = user_id

    async def call(self, path: str, body: dict[str, Any] | None = None) -> Any:
        if body is None:
            response = await self.client.get(f"/_emulator/{path}")
        else:
            response = await self.client.post(f"/_emulator/{path}", json=body)
        payload = response.json()
        assert payload["ok"], payload
        return payload["result"]

    async def chat(self) -> list[dict[str, Any]]:
        return [m for m in await self.call(f"chats/{self.user_id}") if not m["deleted"]]

    async def bot_texts(self) -> list[str]:
        return [m["text"] or "" for m in await self.chat() if m["from_bot"]]

    async def wait_for(
        self, found: Callable[[list[dict[str, Any]]], bool], what: str, timeout: float = 10.0
    ) -> list[dict[str, Any]]:
        for _ in range(int(timeout / 0.05)):
            messages = await self.chat()
            if found(messages):
                return messages
            await asyncio.sleep(0.05)
        raise AssertionError(f"{what} not shown within {timeout}s: {await self.bot_texts()}")

    async def wait_for_text(self, fragment: str) -> None:
        await self.wait_for(
            lambda ms: any(m["from_bot"] and fragment in (m["text"] or "") for m in ms), fragment
        )

    async def send(self, text: str) -> None:
        await self.call("send", {"user_id": self.user_id, "text": text})

    async def press_when_shown(self, label: str, timeout: float = 10.0) -> None:
        """Wait for the button to appear (the bot answers on its own time), then press it."""
        await self.wait_for(
            lambda ms: any(
                button["text"] == label
                for m in ms
                for row in (m["reply_markup"] or {}).get("inline_keyboard", [])
                for button in row
            ),
            f"button {label!r}",
            timeout,
        )
        await self.press(label)

    async def press(self, label: str) -> None:
        for message in reversed(await self.chat()):
            markup = message["reply_markup"] or {}
            for row in markup.get("inline_keyboard", []):
                for button in row:
                    if button["text"] == label:
                        await self.call(
                            "press",
                            {
                                "user_id": self.user_id,
                                "message_id": message["message_id"],
                                "data": button["callback_data"],
                            },
                        )
                        return
        raise AssertionError(f"no button {label!r} in {await self.bot_texts()}")


async def test_the_real_bot_answers_the_page_over_http(tmp_path: Path) -> None:
    root = tmp_path / "sandbox"
    async with running_sandbox(plain_settings(), port=0, root=root) as run:
        assert run.application.bot.base_url.startswith(run.api_url)
        assert run.url != run.api_url + "/"
        async with httpx.AsyncClient(base_url=run.url, trust_env=False) as client:
            person = Phone(client, run.person_id)
            assert await person.chat() == []

            await person.send("/start")
            await person.wait_for_text("Before you tell us anything")
            await person.press(texts.BTN_CONTINUE)
            await person.wait_for_text(texts.MENU)

            await person.send("/jobcentre")
            await person.wait_for_text(texts.FINDER_ASK_OFFICE)
            await person.press_when_shown(texts.BTN_DONT_KNOW)
            await person.wait_for_text(texts.FINDER_ASK)
            keyboard = await person.call(f"keyboards/{run.person_id}")
            location_buttons = [b for row in keyboard for b in row if b.get("request_location")]
            assert [b["text"] for b in location_buttons] == [texts.BTN_SHARE_LOCATION]

            await person.call(
                "tap",
                {
                    "user_id": run.person_id,
                    "text": texts.BTN_SHARE_LOCATION,
                    "lat": PORTSMOUTH.lat,
                    "lon": PORTSMOUTH.lon,
                },
            )
            office = office_by_id(DEMO_OFFICE_ID)
            assert office is not None
            await person.wait_for_text(office.name)
            assert await person.call(f"keyboards/{run.person_id}") == []  # one-time, used

        # Every one of those replies went through the Bot API port, not in process.
        assert run.emulator.calls("sendMessage")
        assert run.emulator.calls("getUpdates")
    _assert_no_raw_id(root, run)


async def test_a_whole_handoff_through_the_control_api(tmp_path: Path) -> None:
    """What the page does, without a browser: the person asks near PO1 2AB, the demo
    mentor's card arrives protected, Accept, and one message is passed each way."""
    office = office_by_id(DEMO_OFFICE_ID)
    assert office is not None
    root = tmp_path / "sandbox"
    async with (
        running_sandbox(plain_settings(), port=0, root=root) as run,
        httpx.AsyncClient(base_url=run.url, trust_env=False) as client,
    ):
        person, mentor = Phone(client, run.person_id), Phone(client, run.mentor_id)
        await person.send("/start")
        await person.wait_for_text("Before you tell us anything")
        for label in (texts.BTN_CONTINUE, texts.BTN_MENTOR):
            await person.press_when_shown(label)
        await person.wait_for_text(texts.FINDER_ASK_OFFICE)
        await person.send("PO1 2AB")
        for label in (
            texts.BTN_MENTOR_AT.format(name=office.name),
            texts.BTN_CONTACT_BOT,
            texts.MENTOR_TIME_LABELS["any"],
            texts.BTN_SEND_REQUEST,
        ):
            await person.press_when_shown(label)
        await person.wait_for_text("Your reference is R-")
        found = re.search(REF_PATTERN, "\n".join(await person.bot_texts()))
        assert found is not None
        ref = found.group(0)

        cards = await mentor.wait_for(
            lambda ms: any(f"New request {ref}" in (m["text"] or "") for m in ms), "the card"
        )
        card = next(m for m in cards if f"New request {ref}" in (m["text"] or ""))
        assert card["protect_content"]
        await mentor.press_when_shown(texts.BTN_ACCEPT)
        await person.wait_for_text(
            texts.MENTOR_ACCEPTED.format(name="Jo", office=office.name, ref=ref)
        )

        await person.send("Hello from the person")
        await mentor.wait_for_text(f"{ref}: Hello from the person")
        await mentor.send("Hello from Jo")
        await person.wait_for_text("Jo: Hello from Jo")

        mentor_side = "\n".join(await mentor.bot_texts())
        assert str(run.person_id) not in mentor_side
        assert "PO1 2AB" not in mentor_side
    _assert_no_raw_id(root, run)


async def test_the_demo_mentor_and_coordinator_joined_through_the_bot(tmp_path: Path) -> None:
    """Invites from the storage function, then `/join CODE` and a first name from their
    own phones: the demo staff are made the way real ones are."""
    settings = plain_settings(mentor_approval=True)  # the sandbox has nobody to approve
    async with running_sandbox(settings, port=0, root=tmp_path / "sandbox") as run:
        services = run.application.bot_data.services
        async with services.database.transaction() as connection:
            staff = await mentors.list_mentors(connection)
            invites = (await connection.execute(INVITES.select())).all()
        office = office_by_id(DEMO_OFFICE_ID)
        assert office is not None
        assert sorted((m.role, m.office_id, m.pilot_area, m.status) for m in staff) == [
            ("coordinator", None, office.pilot_area, "active"),
            ("mentor", DEMO_OFFICE_ID, office.pilot_area, "active"),
        ]
        assert len(invites) == 2
        assert all(invite.used_at is not None for invite in invites)

        for user_id, welcome in (
            (run.mentor_id, texts.NAME_ACTIVE.format(name="Jo", office=office.name)),
            (run.coordinator_id, texts.NAME_ACTIVE_COORDINATOR.format(name="Ali")),
        ):
            said = [m.text or "" for m in run.emulator.chat(user_id) if not m.from_bot]
            assert said[0].startswith("/join ")
            assert run.emulator.bot_texts(user_id)[-1] == welcome


def _assert_no_raw_id(root: Path, run: SandboxRun) -> None:
    """The throwaway database is still the real one: no raw Telegram id in it."""
    files = [p for p in root.iterdir() if p.is_file() and p.name.startswith("firststep")]
    assert files
    for path in files:
        data = path.read_bytes()
        for user_id in (run.person_id, run.mentor_id, run.coordinator_id):
            assert str(user_id).encode() not in data, path.name


async def test_the_page_and_its_files_are_served_with_the_run_config(tmp_path: Path) -> None:
    async with (
        running_sandbox(plain_settings(), port=0, root=tmp_path / "sandbox") as run,
        httpx.AsyncClient(base_url=run.url, trust_env=False) as client,
    ):
        page = await client.get("/")
        assert page.status_code == 200
        assert "<title>First Step sandbox</title>" in page.text
        assert page.headers["content-type"].startswith("text/html")
        for name, kind in (("app.js", "javascript"), ("style.css", "text/css")):
            asset = await client.get(f"/{name}")
            assert asset.status_code == 200, name
            assert kind in asset.headers["content-type"]
        config = (await client.get("/sandbox.json")).json()

    assert config["person"]["user_id"] == run.person_id
    assert config["mentor"]["user_id"] == run.mentor_id
    office = office_by_id(DEMO_OFFICE_ID)
    assert office is not None
    assert config["office"] == office.name
    towns = {town["name"]: (town["lat"], town["lon"]) for town in config["towns"]}
    assert towns == {place.name: (place.lat, place.lon) for place in gazetteer()}


def test_the_page_fetches_nothing_from_outside() -> None:
    """No CDN, web font or remote script: the page works with no internet at all."""
    files = {path.name: path.read_text() for path in STATIC_DIR.iterdir()}
    assert set(files) == {"index.html", "app.js", "style.css"}
    remote = re.compile(
        r"""(?:src|href|action)\s*=\s*["']?(?:https?:)?//"""
        r"""|url\(\s*["']?(?:https?:)?//|@import|fetch\(\s*["'`]https?:""",
        re.IGNORECASE,
    )
    for name, text in files.items():
        assert not remote.search(text), name
    # Every control has a label: inputs and selects by <label for>, buttons by their text.
    html = files["index.html"]
    for control_id in re.findall(r"<(?:input|select)[^>]*\bid=\"([^\"]+)\"", html):
        assert f'<label for="{control_id}">' in html, control_id
    assert '<html lang="en-GB">' in html


async def test_every_start_begins_with_nothing(tmp_path: Path) -> None:
    root = tmp_path / "sandbox"
    async with running_sandbox(plain_settings(), port=0, root=root) as run:
        async with httpx.AsyncClient(base_url=run.url, trust_env=False) as client:
            person = Phone(client, run.person_id)
            await person.send("/start")
            await person.wait_for_text("Before you tell us anything")
            await person.press(texts.BTN_CONTINUE)
            await person.wait_for_text(texts.MENU)
        (root / "left-over.txt").write_text("from the first run")
        first_ring = (root / "keyring.json").read_bytes()

    async with running_sandbox(plain_settings(), port=0, root=root) as run:
        assert not (root / "left-over.txt").exists()
        assert (root / "keyring.json").read_bytes() != first_ring
        async with httpx.AsyncClient(base_url=run.url, trust_env=False) as client:
            person = Phone(client, run.person_id)
            assert await person.chat() == []
            await person.send("/start")
            # A stranger again: the privacy notice, not "welcome back" and the menu.
            await person.wait_for_text("Before you tell us anything")
            assert texts.MENU not in await person.bot_texts()


async def test_a_busy_port_is_a_sandbox_error_and_nothing_is_left_running(
    tmp_path: Path,
) -> None:
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        with pytest.raises(SandboxError, match=f"port {port}.*FIRSTSTEP_SANDBOX_PORT"):
            async with running_sandbox(plain_settings(), port=port, root=tmp_path / "s"):
                pytest.fail("the sandbox started on a busy port")


@pytest.mark.parametrize("host", ["0.0.0.0", "192.168.1.20", "example.org"])  # noqa: S104
async def test_the_page_is_never_served_beyond_this_computer(tmp_path: Path, host: str) -> None:
    root = tmp_path / "sandbox"
    settings = plain_settings(sandbox_host=host)
    with pytest.raises(SandboxError, match=re.escape("FIRSTSTEP_SANDBOX_HOST to 127.0.0.1")):
        async with running_sandbox(settings, port=0, root=root):
            pytest.fail("the sandbox started on a non-loopback address")
    assert not root.exists()


def test_cli_busy_port_is_one_line(tmp_path: Path) -> None:
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        with SandboxProcess(tmp_path, "sandbox", "--port", str(port)) as sandbox:
            code = sandbox.process.wait(timeout=60)
            stderr = sandbox.stderr()
    assert code == 2
    lines = stderr.strip().splitlines()
    assert len(lines) == 1, stderr
    assert f"port {port}" in lines[0]
    assert "Traceback" not in stderr


@pytest.mark.parametrize("signum", [signal.SIGINT, signal.SIGTERM], ids=["ctrl-c", "sigterm"])
def test_make_run_without_a_token_serves_the_sandbox(tmp_path: Path, signum: int) -> None:
    """What `make run` does on a fresh clone with no token: the URL within 30 s, a page,
    and a clean stop."""
    with SandboxProcess(tmp_path, "run", "--or-sandbox", FIRSTSTEP_SANDBOX_PORT="0") as sandbox:
        url, seconds = sandbox.wait_for_url()
        assert seconds <= 30
        status, body, headers = fetch(url)
        assert status == 200
        assert "<title>First Step sandbox</title>" in body
        assert headers["Content-Type"].startswith("text/html")
        code = sandbox.stop(signum)
        stderr = sandbox.stderr()

    assert code == 0, stderr
    assert "Traceback" not in stderr
    assert stderr.strip() == "", stderr  # quiet by default: the URL line stands alone
    url_lines = [line for line in sandbox.stdout if "http://" in line]
    assert url_lines == [sandbox.stdout[0]]
    assert (tmp_path / "var" / "sandbox" / "firststep.db").is_file()
    with pytest.raises(urllib.error.URLError, match="refused"):  # really stopped
        fetch(url, timeout=2)
