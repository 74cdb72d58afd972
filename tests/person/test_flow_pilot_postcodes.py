"""The 60 kept postcodes (tests/directory/pilot_postcodes.csv, with its source) typed into
the real flow: each is told it is in the pilot, with its own authority's pilot Jobcentres
and a mentor at each, or plainly that it is not, with no mentor. Neighbours of every
pilot area are on the list, and both sides of sectors that straddle a pilot boundary.
"""

from __future__ import annotations

import csv
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from conversations import texts
from conversations.steps import Step
from storage.crypto import KeyRing
from storage.directory import all_offices
from tests.support.harness import Harness
from tests.support.journeys import reach

ALEX = 7_700_000_501
LIST = Path(__file__).parents[1] / "directory" / "pilot_postcodes.csv"


def postcodes() -> list[dict[str, str]]:
    with LIST.open(encoding="utf-8") as handle:
        return list(csv.DictReader(line for line in handle if not line.startswith("#")))


@pytest.fixture
async def harness(database_url: str, ring: KeyRing, tmp_path: Path) -> AsyncIterator[Harness]:
    """The bot, with room for 60 searches in a row (the per-person rate limit is real)."""
    running = Harness(database_url, ring, tmp_path, rate_limit_messages=1_000)
    await running.start()
    yield running
    await running.stop()


async def test_every_kept_postcode_gets_the_right_answer_through_the_flow(
    harness: Harness,
) -> None:
    rows = postcodes()
    assert len(rows) == 60
    await reach(harness, ALEX, Step.FINDER_PLACE)
    wrong: list[str] = []
    for row in rows:
        before = len(harness.texts(ALEX))
        await harness.send(ALEX, row["postcode"])
        said = "\n".join(harness.texts(ALEX)[before:])
        mentors = {b for b in harness.emu.button_texts(ALEX) if b.startswith("🤝")}
        authority = row["authority"]
        if row["in_pilot"] == "yes":
            own = {
                texts.BTN_MENTOR_AT.format(name=o.name)
                for o in all_offices()
                if o.offered and o.local_authority == authority
            }
            right = texts.FINDER_IN_PILOT.format(authority=authority) in said and mentors == own
        else:
            outside = texts.FINDER_OUTSIDE.format(authority=authority)
            right = said.startswith(outside) and not mentors and "✅" not in said
        if not right:
            wrong.append(f"{row['postcode']} ({authority}): {said[:80]!r}")
        await harness.send(ALEX, "/jobcentre")
        await harness.press(ALEX, texts.BTN_DONT_KNOW)
    assert wrong == []
