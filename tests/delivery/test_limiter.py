"""TelegramLimiter (issue 16, item 3): Telegram's rates, replies before bulk sends, and a
429 that holds only its own chat. Real PTB Bot calls through the emulator, real time."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator

import pytest
from telegram.error import RetryAfter
from telegram.ext import ExtBot

from bot.delivery import BULK, TelegramLimiter
from bot.sandbox import EmulatorRequest, TelegramEmulator
from tests.support.harness import TEST_TOKEN

CHATS = [8_100_000_001 + n for n in range(12)]


@pytest.fixture
def emu() -> TelegramEmulator:
    emulator = TelegramEmulator(TEST_TOKEN)
    for chat in CHATS:
        emulator.register_user(chat, "Sam", started=True)
    return emulator


async def bot_with(emu: TelegramEmulator, limiter: TelegramLimiter) -> ExtBot[int]:
    bot: ExtBot[int] = ExtBot(emu.token, request=EmulatorRequest(emu), rate_limiter=limiter)
    await bot.initialize()
    return bot


@pytest.fixture
async def stop_bots() -> AsyncIterator[list[ExtBot[int]]]:
    bots: list[ExtBot[int]] = []
    yield bots
    for bot in bots:
        await bot.shutdown()


async def test_replies_go_before_bulk_sends_waiting_for_the_same_capacity(
    emu: TelegramEmulator, stop_bots: list[ExtBot[int]]
) -> None:
    bot = await bot_with(emu, TelegramLimiter(overall_per_second=4))
    stop_bots.append(bot)
    bulk = [
        asyncio.create_task(bot.send_message(chat, "card", rate_limit_args=BULK))
        for chat in CHATS[:8]
    ]
    await asyncio.sleep(0.05)  # the first cards took the burst; the rest wait
    replies = [asyncio.create_task(bot.send_message(chat, "reply")) for chat in CHATS[8:10]]
    await asyncio.gather(*bulk, *replies)
    order = [call.params["text"] for call in emu.calls("sendMessage")]
    assert order.index("reply") < len(order) - 2, order
    last_reply = max(i for i, text in enumerate(order) if text == "reply")
    # Every card that was still waiting when the replies came went after them.
    assert order[: last_reply + 1].count("card") <= 3 + 1, order


async def test_a_429_for_one_chat_holds_that_chat_only_and_the_reply_goes_after_it(
    emu: TelegramEmulator, stop_bots: list[ExtBot[int]]
) -> None:
    limiter = TelegramLimiter()
    bot = await bot_with(emu, limiter)
    stop_bots.append(bot)
    emu.inject_fault("sendMessage", status=429, retry_after=2, chat_id=CHATS[0])
    started = time.monotonic()
    held = asyncio.create_task(bot.send_message(CHATS[0], "first"))
    await emu.wait_for(lambda: limiter.held_for(CHATS[0]) > 1.0, 5.0)
    await asyncio.gather(*(bot.send_message(chat, "others") for chat in CHATS[1:6]))
    assert time.monotonic() - started < 1.0  # other people are not held
    await held  # the reply waited out its chat's 429, then went
    assert time.monotonic() - started >= 1.9
    to_held = [c.status for c in emu.calls("sendMessage") if c.params["chat_id"] == CHATS[0]]
    assert to_held == [429, 200]


async def test_a_bulk_send_that_meets_a_429_is_handed_back_to_the_outbox(
    emu: TelegramEmulator, stop_bots: list[ExtBot[int]]
) -> None:
    bot = await bot_with(emu, TelegramLimiter())
    stop_bots.append(bot)
    emu.inject_fault("sendMessage", status=429, retry_after=2, chat_id=CHATS[0])
    with pytest.raises(RetryAfter):
        await bot.send_message(CHATS[0], "card", rate_limit_args=BULK)


async def test_under_the_emulators_enforcement_of_the_same_rates_nothing_is_refused(
    emu: TelegramEmulator, stop_bots: list[ExtBot[int]]
) -> None:
    """A burst to a few chats and a flood across many: 0 refused by an emulator holding
    the bot to 30 in any second overall and 3 in any second per chat."""
    emu.enforce_rate_limit(overall_per_second=30, per_chat_per_second=3)
    bot = await bot_with(emu, TelegramLimiter())
    stop_bots.append(bot)
    started = time.monotonic()
    sends = [bot.send_message(chat, f"n{n}") for n in range(5) for chat in CHATS]
    await asyncio.gather(*sends)
    took = time.monotonic() - started
    statuses = [call.status for call in emu.calls("sendMessage")]
    assert statuses.count(429) == 0
    assert len(statuses) == 60
    # 12 chats × 5: per chat a burst of 2, then one a second: about 3 s.
    assert 2.5 <= took < 5.0, took
