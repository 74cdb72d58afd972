"""The shipped limiter and the emulator's enforcement of Telegram's rates agree even when
sends are held up on the way (issue 16: the loopback bench met 429s).

The limiter counts a send when it lets it go; the emulator (as Telegram) when it arrives.
Here every send waits a 40 ms round trip, and a congested hop holds all sends for 150 ms
every 300 ms, so sends arrive bunched. Real PTB Bot, real limiter, real emulator.
"""

from __future__ import annotations

import asyncio
from typing import Any

from telegram.ext import ExtBot

from bot.delivery import TelegramLimiter, limiter
from bot.sandbox import EmulatorRequest, TelegramEmulator
from tests.support.harness import TEST_TOKEN

CHATS = [8_200_000_001 + n for n in range(60)]
ROUND_TRIP_S = 0.040
HELD_S = 0.15
OPEN_S = 0.30


class CongestedRequest(EmulatorRequest):
    """A round trip, then a hop that is sometimes shut: what waited goes through at once."""

    def __init__(self, emu: TelegramEmulator, hop: asyncio.Event) -> None:
        super().__init__(emu)
        self.hop = hop

    async def do_request(self, *args: Any, **kwargs: Any) -> tuple[int, bytes]:
        await asyncio.sleep(ROUND_TRIP_S)
        await self.hop.wait()
        return await super().do_request(*args, **kwargs)


async def congest(hop: asyncio.Event) -> None:
    while True:
        await asyncio.sleep(OPEN_S)
        hop.clear()
        await asyncio.sleep(HELD_S)
        hop.set()


async def refused_under_congestion(rate_limiter: TelegramLimiter) -> tuple[int, int]:
    emu = TelegramEmulator(TEST_TOKEN)
    for chat in CHATS:
        emu.register_user(chat, "Sam", started=True)
    emu.enforce_rate_limit(overall_per_second=30, per_chat_per_second=3)
    hop = asyncio.Event()
    hop.set()
    bot: ExtBot[int] = ExtBot(
        emu.token, request=CongestedRequest(emu, hop), rate_limiter=rate_limiter
    )
    await bot.initialize()
    congestion = asyncio.create_task(congest(hop))
    try:
        await asyncio.gather(
            *(bot.send_message(chat, f"n{n}") for n in range(2) for chat in CHATS),
            return_exceptions=True,
        )
    finally:
        congestion.cancel()
        await bot.shutdown()
    statuses = [call.status for call in emu.calls("sendMessage")]
    return statuses.count(429), statuses.count(200)


async def test_sends_held_up_on_the_way_are_not_refused() -> None:
    refused, sent = await refused_under_congestion(TelegramLimiter())
    assert (refused, sent) == (0, 2 * len(CHATS))


async def test_a_limiter_without_room_for_the_spread_is_refused(monkeypatch: Any) -> None:
    """The broken variant: the steady flow of before (no room for sends held up on the
    way) meets the emulator's 429s under the same congestion."""
    monkeypatch.setattr(limiter, "TRANSIT_SPREAD_SECONDS", 0.0)
    refused, _ = await refused_under_congestion(TelegramLimiter())
    assert refused > 0
