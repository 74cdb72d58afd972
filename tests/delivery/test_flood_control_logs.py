"""An expected Telegram 429 (flood control) is a warning that says how long everything
waits, never an ERROR with a traceback: not from PTB's rate limiter, not from our error
handler, whether a handler's reply or the delivery worker met it."""

from __future__ import annotations

import logging
from pathlib import Path

import pytest

from storage.crypto import KeyRing
from tests.support.delivery import open_rig
from tests.support.harness import Harness

PERSON = 7_700_610_001


def trouble(caplog: pytest.LogCaptureFixture) -> list[str]:
    """Records an operator would be paged for: ERROR and above, or any traceback."""
    return [
        f"{record.levelname} {record.name} {record.getMessage()}"
        for record in caplog.records
        if record.levelno >= logging.ERROR or record.exc_info or record.exc_text
    ]


async def test_a_429_on_a_handler_reply_is_a_warning_with_its_wait(
    database_url: str, ring: KeyRing, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO)
    harness = Harness(database_url, ring, tmp_path, rate_limit=True)
    await harness.start()
    try:
        harness.person(PERSON)
        harness.emu.inject_fault("sendMessage", status=429, retry_after=3)
        await harness.send(PERSON, "/start")
        await harness.settle()
    finally:
        await harness.stop()
    assert harness.emu.calls("sendMessage")[0].status == 429  # the fault was met
    assert trouble(caplog) == []
    warnings = [r.getMessage() for r in caplog.records if r.levelno == logging.WARNING]
    assert any("event=flood_control" in w and "retry_seconds=3.0" in w for w in warnings), warnings
    # The limiter waits out the 3 s hold for this chat and sends again: the reply arrives.
    assert harness.emu.calls("sendMessage")[-1].status == 200


async def test_a_429_met_by_the_delivery_worker_is_a_warning_with_its_wait(
    database_url: str, ring: KeyRing, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO)
    async with open_rig(database_url, ring, tmp_path, real_time=True, rate_limit=True) as rig:
        person = await rig.person(PERSON)
        mentor = await rig.mentor(PERSON + 1)
        await rig.referral(person, [mentor])
        rig.emu.inject_fault("sendMessage", status=429, retry_after=1)
        await rig.worker.run_once()
        await rig.worker.run_once()
    assert trouble(caplog) == []
    warnings = [r.getMessage() for r in caplog.records if r.levelno == logging.WARNING]
    assert any("retry_seconds=1.0" in w for w in warnings), warnings
