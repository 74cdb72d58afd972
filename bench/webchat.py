"""The web chat under load, over loopback (issue 17): 500 people at once.

The server is what `firststep run` serves (bot/webchat/server.py, aiohttp) bound to the
production Application (every handler, real SQLite in WAL, real encryption), with the
emulator standing in for Telegram, in a child process of its own, as in production. This
process plays the people: each opens a chat, keeps its Server-Sent Events stream open
(as the page does) and, after a pause to read and type, sends /start, taps Continue,
then /help and /mydata. Each comes from its own address (X-Forwarded-For from loopback,
as behind the proxy), so the per-address limits hold as they would.

- latency: from just before a person's message is posted until the bot's first new
  message reaches that person's event stream (what the page would show), p50 and p99;
- memory per session: the server process's resident memory with every session open,
  less before the first one (after a warm-up person), over the number of sessions;
- page weight: the page, its stylesheet and its script as served, and gzipped.
"""

from __future__ import annotations

import asyncio
import contextlib
import gzip
import json
import random
import secrets
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import aiohttp

from bench.apps import TOKEN, bench_settings, build_full, start_full, stop_full
from bench.stats import median, percentile
from bot.sandbox import TelegramEmulator
from bot.webchat.server import start_web_chat
from conversations import texts
from storage.crypto import KeyRing

PAGE = ("/", "/chat.css", "/chat.js")
# What each person sends, and the start of the bot's first answer to it.
SCRIPT: tuple[tuple[str, str], ...] = (
    ("/start", texts.WELCOME.split("\n")[0]),
    (texts.BTN_CONTINUE, texts.NOTICE_ACCEPTED[:20]),
    ("/help", texts.HELP.split("\n")[0]),
    ("/mydata", texts.MYDATA_HEADER[:20]),
)


@dataclass(frozen=True)
class Pace:
    """How people arrive and how long they pause between messages (seconds)."""

    ramp: float = 30.0
    think_min: float = 5.0
    think_max: float = 15.0


@dataclass
class Tally:
    latencies: list[float] = field(default_factory=list)
    answered: list[float] = field(default_factory=list)  # until the POST itself returned
    unexpected: int = 0
    refused: dict[int, int] = field(default_factory=dict)


# ------------------------------------------------------------------------ the server (child)


async def serve(database_url: str, workdir: Path) -> None:
    """The web chat and its Application, until the parent closes stdin."""
    emu = TelegramEmulator(TOKEN)
    settings = bench_settings(emu, database_url, workdir).model_copy(
        update={"webchat_new_chats_per_minute": 100_000}
    )
    application = build_full(emu, database_url, workdir, KeyRing.generate())
    await start_full(application)
    running = await start_web_chat(application, settings, port=0)
    try:
        print(json.dumps({"port": running.port}), flush=True)
        await asyncio.get_running_loop().run_in_executor(None, sys.stdin.read)
    finally:
        await running.stop()
        await stop_full(application)


def rss_of(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) * 1024
    raise RuntimeError("no VmRSS (Linux only)")


# ------------------------------------------------------------------------ the people (here)


class Person:
    def __init__(self, http: aiohttp.ClientSession, base: str, number: int) -> None:
        self.http = http
        self.base = base
        address = f"10.{number // 65536 % 256}.{number // 256 % 256}.{number % 256}"
        self.headers = {"Origin": base, "X-Forwarded-For": address}
        self.inbox: asyncio.Queue[tuple[float, int, dict[str, Any]]] = asyncio.Queue()
        self.buttons: dict[str, tuple[int, str]] = {}
        self.reader: asyncio.Task[None] | None = None

    async def open(self) -> None:
        async with self.http.post(f"{self.base}/api/chats", json={}, headers=self.headers) as r:
            if r.status != 200:
                raise RuntimeError(f"a new chat was refused: {r.status}")
            token = (await r.json())["token"]
        self.headers = {**self.headers, "Authorization": f"Bearer {token}"}
        stream = await self.http.get(f"{self.base}/api/events", headers=self.headers)
        if stream.status != 200:
            raise RuntimeError(f"the event stream was refused: {stream.status}")
        self.reader = asyncio.create_task(self._read(stream))

    async def _read(self, stream: aiohttp.ClientResponse) -> None:
        seq = 0
        with contextlib.suppress(aiohttp.ClientError, asyncio.CancelledError):
            async for raw in stream.content:
                line = raw.decode().rstrip("\n")
                if line.startswith("id: "):
                    seq = int(line[4:])
                elif line.startswith("data: "):
                    self.inbox.put_nowait((time.perf_counter(), seq, json.loads(line[6:])))
        stream.release()

    async def say(self, what: str, tally: Tally) -> str:
        """Send one message (or tap a button by its label); the bot's first new message."""
        while not self.inbox.empty():  # what the last message brought, shown meanwhile
            self._note(*self.inbox.get_nowait())
        body: dict[str, Any] = {"id": secrets.token_hex(8), "lang": "en-GB"}
        if what in self.buttons:
            body["message"], body["data"] = self.buttons[what]
        else:
            body["text"] = what
        started = time.perf_counter()
        while True:
            url = f"{self.base}/api/send"
            async with self.http.post(url, json=body, headers=self.headers) as response:
                status = response.status
            if status == 200:
                break
            tally.refused[status] = tally.refused.get(status, 0) + 1
            await asyncio.sleep(1.0)  # the page sends it again with the same id
        tally.answered.append(time.perf_counter() - started)
        while True:
            arrived, seq, event = await asyncio.wait_for(self.inbox.get(), 120)
            self._note(arrived, seq, event)
            if event.get("t") == "msg":
                tally.latencies.append(arrived - started)
                return str(event.get("text", ""))

    def _note(self, _arrived: float, seq: int, event: dict[str, Any]) -> None:
        for row in event.get("inline", []):
            for button in row:
                self.buttons[button["text"]] = (seq, button["data"])

    async def close(self) -> None:
        if self.reader is not None:
            self.reader.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self.reader


async def one_person(
    http: aiohttp.ClientSession,
    base: str,
    number: int,
    pace: Pace,
    tally: Tally,
    opened: list[Person],
    rng: random.Random,
) -> None:
    await asyncio.sleep(rng.uniform(0, pace.ramp))
    person = Person(http, base, number)
    await person.open()
    opened.append(person)
    for index, (what, expected) in enumerate(SCRIPT):
        if index:
            await asyncio.sleep(rng.uniform(pace.think_min, pace.think_max))
        said = await person.say(what, tally)
        if not said.startswith(expected):
            tally.unexpected += 1


async def page_weight(http: aiohttp.ClientSession, base: str) -> dict[str, int]:
    raw = zipped = 0
    for path in PAGE:
        async with http.get(base + path) as response:
            body = await response.read()
        raw += len(body)
        zipped += len(gzip.compress(body, 6))
    return {"bytes": raw, "gzipped_bytes": zipped}


async def measure_webchat(
    database_url: str, workdir: Path, *, sessions: int, pace: Pace | None = None
) -> dict[str, Any]:
    pace = pace or Pace()
    with (workdir / "webchat-server.log").open("wb") as log:
        child = subprocess.Popen(
            [sys.executable, "-m", "bench", "--child", "webchat", "--database-url", database_url],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=log,
            cwd=Path(__file__).resolve().parent.parent,
        )
    try:
        assert child.stdout is not None
        line = await asyncio.to_thread(child.stdout.readline)
        if not line:
            raise RuntimeError("the web chat server did not start (webchat-server.log)")
        base = f"http://127.0.0.1:{json.loads(line)['port']}"
        connector = aiohttp.TCPConnector(limit=0)
        timeout = aiohttp.ClientTimeout(total=None, sock_read=None)
        async with aiohttp.ClientSession(connector=connector, timeout=timeout) as http:
            weight = await page_weight(http, base)
            warm = Tally()
            warm_pace = Pace(0, 0.5, 0.5)
            await one_person(http, base, sessions + 1, warm_pace, warm, [], random.Random(0))
            await asyncio.sleep(1.0)
            rss_before = rss_of(child.pid)
            tally = Tally()
            opened: list[Person] = []
            rng = random.Random(17)
            began = time.perf_counter()
            await asyncio.gather(
                *(
                    one_person(http, base, number, pace, tally, opened, rng)
                    for number in range(sessions)
                )
            )
            seconds = time.perf_counter() - began
            rss_open = rss_of(child.pid)  # every session still open, its stream too
            for person in opened:
                await person.close()
    finally:
        if child.stdin is not None:
            child.stdin.close()
        try:
            child.wait(timeout=60)
        except subprocess.TimeoutExpired:
            child.kill()
            child.wait()
        if child.stdout is not None:
            child.stdout.close()
    messages = len(tally.latencies)
    return {
        "sessions": sessions,
        "messages": messages,
        "seconds": seconds,
        "messages_per_s": messages / seconds if seconds else 0.0,
        "pace": pace.__dict__,
        "reply_ms": {
            "p50": median(tally.latencies) * 1000,
            "p90": percentile(tally.latencies, 0.90) * 1000,
            "p99": percentile(tally.latencies, 0.99) * 1000,
            "max": max(tally.latencies, default=0.0) * 1000,
        },
        "post_answered_ms_p50": median(tally.answered) * 1000,
        "unexpected_replies": tally.unexpected + warm.unexpected,
        "refused": {str(k): v for k, v in sorted(tally.refused.items())},
        "rss_before_mb": rss_before / 2**20,
        "rss_open_mb": rss_open / 2**20,
        "kb_per_session": (rss_open - rss_before) / sessions / 1024,
        "page": weight,
    }
