"""A person at the web chat, for flow tests: the real server (bot/webchat/server.py) over
loopback HTTP, bound to the harness's running Application. What the page would show is
rebuilt from the Server-Sent Events, read with Last-Event-ID as the page reads them."""

from __future__ import annotations

import json
import secrets
from dataclasses import dataclass, field
from typing import Any

from aiohttp.test_utils import TestClient, TestServer

from bot.webchat.server import WebChatServer
from storage.repositories import webchat as store
from tests.support.harness import Harness

ORIGIN_HEADER = "Origin"


@dataclass
class Shown:
    text: str
    inline: list[list[dict[str, str]]] = field(default_factory=list)


async def web_client(harness: Harness) -> TestClient[Any, Any]:
    assert harness.app is not None
    server = TestServer(WebChatServer(harness.app, harness.settings).app())
    client: TestClient[Any, Any] = TestClient(server)
    await client.start_server()
    return client


class WebPerson:
    """One browser tab: a token, the last event id seen, and what the page shows."""

    def __init__(self, client: TestClient[Any, Any], harness: Harness) -> None:
        self.client = client
        self.harness = harness
        self.token = ""
        self.chat_id = 0
        self.last = 0
        self.messages: dict[int, Shown] = {}
        self.keyboard: list[list[Any]] = []
        self.toasts: list[str] = []

    @property
    def origin(self) -> dict[str, str]:
        return {ORIGIN_HEADER: f"http://{self.client.host}:{self.client.port}"}

    @property
    def auth(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.token}", **self.origin}

    async def open_chat(self) -> None:
        response = await self.client.post("/api/chats", json={}, headers=self.origin)
        assert response.status == 200, response.status
        self.token = (await response.json())["token"]
        services = self.harness.services
        found = await store.chat_of(services.database, self.token, services.clock())
        assert found is not None
        self.chat_id = found

    async def post(self, body: dict[str, Any], client_id: str | None = None) -> int:
        body = {"id": client_id or secrets.token_hex(8), "lang": "en-GB", **body}
        response = await self.client.post("/api/send", json=body, headers=self.auth)
        return response.status

    async def send(self, text: str, client_id: str | None = None) -> None:
        assert await self.post({"text": text}, client_id) == 200
        await self.sync()

    async def press(self, label: str) -> None:
        for message_id in sorted(self.messages, reverse=True):
            for row in self.messages[message_id].inline:
                for button in row:
                    if button["text"] == label:
                        status = await self.post({"message": message_id, "data": button["data"]})
                        assert status == 200, status
                        await self.sync()
                        return
        if any(label in row for row in self.keyboard):
            await self.send(label)
            return
        raise AssertionError(f"no button {label!r} on the page")

    async def share_phone(self, label: str, number: str) -> None:
        """The page's own "share my number" button (Telegram's contact button there)."""
        offered = [b for row in self.keyboard for b in row if isinstance(b, dict)]
        assert offered == [{"text": label, "contact": True}], self.keyboard
        assert await self.post({"contact": number}) == 200
        await self.sync()

    async def events(self, after: int) -> list[tuple[int, dict[str, Any]]]:
        """Every event after `after`, read from the stream up to the newest one kept."""
        services = self.harness.services
        newest = await store.latest_seq(services.database, self.chat_id)
        got: list[tuple[int, dict[str, Any]]] = []
        if newest <= after:
            return got
        headers = {"Authorization": f"Bearer {self.token}", "Last-Event-ID": str(after)}
        async with self.client.get("/api/events", headers=headers) as response:
            assert response.status == 200
            assert response.headers["Content-Type"].startswith("text/event-stream")
            seq = None
            async for raw in response.content:
                line = raw.decode().rstrip("\n")
                if line.startswith("id: "):
                    seq = int(line[4:])
                elif line.startswith("data: ") and seq is not None:
                    got.append((seq, json.loads(line[6:])))
                    if seq >= newest:
                        break
        return got

    async def sync(self) -> None:
        for seq, event in await self.events(self.last):
            assert seq > self.last, "an event came twice"
            self.last = seq
            if event["t"] == "msg":
                self.messages[seq] = Shown(event["text"], event.get("inline", []))
                if "keyboard" in event:
                    self.keyboard = event["keyboard"]
            elif event["t"] == "edit" and seq and event["id"] in self.messages:
                shown = self.messages[event["id"]]
                shown.text = event.get("text", shown.text)
                shown.inline = event.get("inline", [])
            elif event["t"] == "delete":
                for gone in event["ids"]:
                    self.messages.pop(gone, None)
            elif event["t"] == "toast":
                self.toasts.append(event["text"])

    def texts(self) -> list[str]:
        return [self.messages[key].text for key in sorted(self.messages)]

    def last_text(self) -> str:
        return self.texts()[-1]

    def all_text(self) -> str:
        return "\n".join(self.texts())
