"""Start-up takes what lives as long as the process out of the garbage collector's view,
and shutdown gives it back: a full collection otherwise walks every long-lived object
(a 77 ms pause every thousand or so updates, measured in bench/)."""

from __future__ import annotations

import gc
from pathlib import Path

from bot.app import preloaded
from storage.crypto import KeyRing
from storage.directory.geo import postcode_table
from tests.support.harness import Harness

SAM = 5_100_000_001


async def test_start_up_freezes_what_it_loaded_and_shutdown_thaws_it(harness: Harness) -> None:
    assert harness.app is not None
    await preloaded(harness.app)  # read in a thread once polling has started
    assert gc.get_freeze_count() > 0
    assert postcode_table.cache_info().currsize == 1, "the directory is read at start-up"
    await harness.send(SAM, "/start")
    assert harness.texts(SAM), "the bot answered"
    await harness.stop()
    assert gc.get_freeze_count() == 0


async def test_start_up_turns_the_collector_back_on_once_ready(
    database_url: str, ring: KeyRing, tmp_path: Path
) -> None:
    """`firststep run` starts with the collector off (bot.cli.run); a bot that never turned
    it back on would leak every reference cycle for the life of the process."""
    running = Harness(database_url, ring, tmp_path)
    gc.disable()
    try:
        await running.start()
        assert running.app is not None
        await preloaded(running.app)
        assert gc.isenabled()
    finally:
        gc.enable()
        await running.stop()
