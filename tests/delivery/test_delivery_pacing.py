"""Pacing pieces on their own: the FloodGate holds everyone, the Pacer spaces sends."""

from __future__ import annotations

import asyncio
import time

from bot.delivery import FloodGate, Pacer


async def test_pacer_spaces_sends_evenly() -> None:
    pacer = Pacer(per_second=50)
    stamps = []
    for _ in range(11):
        await pacer.take()
        stamps.append(time.monotonic())
    assert stamps[-1] - stamps[0] >= 10 / 50 - 0.005
    # Concurrent takers share the same pace.
    pacer = Pacer(per_second=50)
    started = time.monotonic()
    await asyncio.gather(*(pacer.take() for _ in range(11)))
    assert time.monotonic() - started >= 10 / 50 - 0.005


async def test_flood_gate_holds_every_waiter_and_the_longest_hold_wins() -> None:
    gate = FloodGate()
    gate.hold(0.3)
    gate.hold(0.1)  # a shorter, later hold does not shorten the pause
    started = time.monotonic()
    waited = await asyncio.gather(*(timed(gate) for _ in range(3)))
    assert all(w >= 0.29 for w in waited)
    assert time.monotonic() - started < 2
    assert gate.remaining == 0


async def timed(gate: FloodGate) -> float:
    started = time.monotonic()
    await gate.wait()
    return time.monotonic() - started
