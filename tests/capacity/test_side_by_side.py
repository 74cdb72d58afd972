"""People served side by side, each person strictly in order (issue 16, item 2).

300 people act at once through the emulator, 20 steps each, with random pauses between
their steps and a random round trip on every Bot API call (so handlers really overlap).
Each person's transcript — every call the bot addressed to their chat, in order — must
equal what the same script produced when that person was the only one, handled one
update at a time. A lost, doubled or reordered step changes the transcript.

The last test runs the same check with PTB's plain concurrent processor, which does not
keep one person's updates in order, and shows the check notices.
"""

from __future__ import annotations

import asyncio
import random
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from telegram.ext import BaseUpdateProcessor, SimpleUpdateProcessor
from telegram.request import RequestData

from bot.app import build_application
from bot.ordering import PerPersonProcessor, person_key
from bot.runner import start_application, stop_application
from bot.sandbox import EmulatorRequest, TelegramEmulator
from bot.settings import Settings
from conversations import texts
from conversations.context import FirstStepApp
from storage.crypto import KeyRing
from tests.support.harness import TEST_TOKEN, MovableClock

PEOPLE = 300
STEPS = 20
SCRIPTS = 12  # distinct scripts; person k follows script k mod SCRIPTS

# What a person may do once past the privacy notice: commands, free text the current
# step reads differently, and a postcode. Presses wait for their button (see Actor).
PRESS = "press"
POOL: tuple[str, ...] = (
    "/help",
    "/menu",
    "/about",
    "/tell",
    "/cancel",
    "/jobcentre",
    "PO1 2AB",
    "/support",
    "/mydata",
    "hello",
    "I drink most days and want to stop",
    "/menu",
)

Step = tuple[str, str]  # (kind, text): ("send", "/help") or ("press", label)
Transcript = list[tuple[str, str, tuple[str, ...]]]


def script(number: int) -> list[Step]:
    """/start, accept the notice, then 18 steps drawn from the pool (fixed per number)."""
    draw = random.Random(number)
    steps: list[Step] = [("send", "/start"), (PRESS, texts.BTN_CONTINUE)]
    steps += [("send", draw.choice(POOL)) for _ in range(STEPS - len(steps))]
    return steps


class RoundTripRequest(EmulatorRequest):
    """The emulator behind a random 0–4 ms round trip, as a network would add: while one
    call waits, other updates run, so handlers genuinely overlap."""

    __slots__ = ("_random",)

    def __init__(self, emulator: TelegramEmulator, seed: int, **kwargs: Any) -> None:
        super().__init__(emulator, **kwargs)
        self._random = random.Random(seed)

    async def do_request(
        self,
        url: str,
        method: str,
        request_data: RequestData | None = None,
        read_timeout: object = EmulatorRequest.DEFAULT_NONE,
        write_timeout: object = EmulatorRequest.DEFAULT_NONE,
        connect_timeout: object = EmulatorRequest.DEFAULT_NONE,
        pool_timeout: object = EmulatorRequest.DEFAULT_NONE,
    ) -> tuple[int, bytes]:
        if not url.endswith("/getUpdates"):
            await asyncio.sleep(self._random.uniform(0.0, 0.004))
        return await super().do_request(
            url, method, request_data, read_timeout, write_timeout, connect_timeout, pool_timeout
        )


@dataclass
class Bot:
    emu: TelegramEmulator
    app: FirstStepApp

    async def settle(self, timeout: float = 600.0) -> None:  # a budget for a loaded machine
        await self.emu.wait_for(
            lambda: not self.emu.pending_updates(), timeout, message="updates fetched"
        )
        for _ in range(3):
            await asyncio.sleep(0)
        await asyncio.wait_for(self.app.update_queue.join(), timeout)


async def running_bot(
    database_url: str, tmp_path: Path, processor: BaseUpdateProcessor, seed: int
) -> Bot:
    # Both runs share one database, which remembers handled update ids (dedupe): like
    # Telegram for one bot, the second run's ids go on from where the first run's end.
    emu = TelegramEmulator(TEST_TOKEN, first_update_id=1 + seed * 1_000_000)
    settings = Settings(
        _env_file=None,
        telegram_token=emu.token,
        database_url=database_url,
        keyring=tmp_path / "unused-keyring.json",
        rate_limit_messages=STEPS + 10,
    )
    app = build_application(
        settings,
        request=RoundTripRequest(emu, seed),
        get_updates_request=EmulatorRequest(emu, read_timeout=5.0),
        clock=MovableClock(),
        ring=KeyRing.generate(),
        rate_limit=False,
        delivery=False,
        update_processor=processor,
    )
    await start_application(app)
    return Bot(emu, app)


def transcripts(emu: TelegramEmulator, people: Sequence[int]) -> dict[int, Transcript]:
    """Every call addressed to each person's chat, in the order the bot made them: the
    method, the text and the buttons (ids differ between runs and are left out)."""
    wanted = set(people)
    found: dict[int, Transcript] = {person: [] for person in people}
    for call in emu.calls():
        chat = call.params.get("chat_id")
        if call.method == "sendChatAction" or not isinstance(chat, int) or chat not in wanted:
            continue
        markup = call.params.get("reply_markup") or {}
        labels = tuple(
            str(button.get("text")) for row in markup.get("inline_keyboard", []) for button in row
        )
        found[chat].append((call.method, str(call.params.get("text", "")), labels))
    return found


def chat_length(emu: TelegramEmulator, person: int) -> int:
    return len(emu.bot_messages(person))


async def reference_run(
    database_url: str, tmp_path: Path
) -> tuple[dict[int, Transcript], dict[int, list[int]]]:
    """Each script alone, one update at a time, settled after every step. Also notes how
    many bot messages the chat showed before and after each press (a person taps what
    they see, and reads the answer)."""
    bot = await running_bot(database_url, tmp_path, PerPersonProcessor(1), seed=1)
    seen: dict[int, list[int]] = {}
    try:
        people = list(range(1, SCRIPTS + 1))
        for number, person in enumerate(people):
            bot.emu.register_user(person, "Sam")
            seen[number] = []
            for kind, text in script(number):
                if kind == PRESS:
                    seen[number].append(chat_length(bot.emu, person))
                    bot.emu.press_button(person, text)
                    await bot.settle()
                    seen[number].append(chat_length(bot.emu, person))
                else:
                    bot.emu.user_sends(person, text)
                    await bot.settle()
        by_script = transcripts(bot.emu, people)
    finally:
        await stop_application(bot.app)
    return {number: by_script[person] for number, person in enumerate(people)}, seen


async def crowd_run(
    database_url: str,
    tmp_path: Path,
    processor: BaseUpdateProcessor,
    people: int,
    presses_after: dict[int, list[int]],
) -> dict[int, Transcript]:
    """Everyone at once: random pauses between steps, no waiting for replies, except
    around a press: it waits until the chat shows what it showed in the reference run,
    and the person reads the press's answer before typing on."""
    bot = await running_bot(database_url, tmp_path, processor, seed=2)
    crowd = [1_000_000 + k for k in range(people)]

    async def act(k: int, person: int) -> None:
        pauses = random.Random(k)
        number = k % SCRIPTS
        presses = iter(presses_after[number])
        for kind, text in script(number):
            await asyncio.sleep(pauses.uniform(0.0, 0.01))
            if kind == PRESS:
                before, after = next(presses), next(presses)
                await bot.emu.wait_for(
                    lambda shown=before: chat_length(bot.emu, person) >= shown,  # type: ignore[misc]
                    60.0,
                    message=f"the reply before a press for person {k}",
                )
                bot.emu.press_button(person, text)
                # Accepting the notice changes what the next texts mean (nothing typed
                # before it is kept): the person reads the next screen before typing on.
                await bot.emu.wait_for(
                    lambda shown=after: chat_length(bot.emu, person) >= shown,  # type: ignore[misc]
                    60.0,
                    message=f"the reply to a press for person {k}",
                )
            else:
                bot.emu.user_sends(person, text)

    try:
        for person in crowd:
            bot.emu.register_user(person, "Sam")
        await asyncio.gather(*(act(k, person) for k, person in enumerate(crowd)))
        await bot.settle()
        found = transcripts(bot.emu, crowd)
    finally:
        await stop_application(bot.app)
    return {k: found[person] for k, person in enumerate(crowd)}


def differences(crowd: dict[int, Transcript], reference: dict[int, Transcript]) -> list[str]:
    return [
        f"person {k}: {len(got)} calls, alone {len(reference[k % SCRIPTS])}"
        for k, got in crowd.items()
        if got != reference[k % SCRIPTS]
    ]


def test_an_update_is_keyed_by_its_sender() -> None:
    assert person_key(object()) is None


@pytest.mark.slow
async def test_300_people_at_once_each_get_exactly_their_one_at_a_time_transcript(
    database_url: str, tmp_path: Path
) -> None:
    reference, presses = await reference_run(database_url, tmp_path)
    assert all(len(calls) >= STEPS for calls in reference.values())  # every step answered
    assert len({tuple(calls) for calls in reference.values()}) > 1  # the scripts differ
    crowd = await crowd_run(database_url, tmp_path, PerPersonProcessor(32), PEOPLE, presses)
    assert differences(crowd, reference) == []


@pytest.mark.slow
async def test_the_check_catches_a_processor_that_does_not_keep_each_person_in_order(
    database_url: str, tmp_path: Path
) -> None:
    """PTB's SimpleUpdateProcessor runs a person's updates concurrently: some of the
    same crowd's transcripts then differ from the one-at-a-time ones."""
    reference, presses = await reference_run(database_url, tmp_path)
    crowd = await crowd_run(database_url, tmp_path, SimpleUpdateProcessor(32), 60, presses)
    assert differences(crowd, reference) != []
