"""What the running bot keeps in memory per person stays bounded.

State lives in the database, so after many distinct people the process should hold
nothing for each of them: no PTB user_data or chat_data, no record of every id PTB has
seen, and rate windows only for the people who wrote within the last window. Not timed:
it counts entries, which is what the RSS check in `bench/memory.py` is about.
"""

from __future__ import annotations

from collections.abc import Callable

import pytest

from bot.guards import RATE_LIMITER_KEY, RateLimiter
from bot.sandbox import TelegramEmulator
from conversations import texts
from conversations.steps import Step
from tests.support.harness import Harness

FIRST_ID = 7_700_500_001
WAVES = 5
WAVE_SIZE = 40

Action = Callable[[TelegramEmulator, int], object]
# Onboarding and the first disclosure steps: commands, taps and a multi-select.
JOURNEY: tuple[Action, ...] = (
    lambda emu, person: emu.user_sends(person, "/start"),
    lambda emu, person: emu.press_button(person, texts.BTN_CONTINUE),
    lambda emu, person: emu.press_button(person, texts.BTN_TELL),
    lambda emu, person: emu.press_button(person, texts.OPTION_LABELS["alcohol"]),
    lambda emu, person: emu.press_button(person, texts.BTN_DONE),
)


def per_person_entries(harness: Harness) -> dict[str, int]:
    """Every in-process map that would get an entry per person if nothing bounded it."""
    app = harness.app
    assert app is not None
    limiter = app.bot_data[RATE_LIMITER_KEY]
    assert isinstance(limiter, RateLimiter)
    return {
        "user_data": len(app.user_data),
        "chat_data": len(app.chat_data),
        # PTB's record of ids for a persistence to save: only a persistence empties it.
        "ptb_user_ids": len(app._user_ids_to_be_updated_in_persistence),
        "ptb_chat_ids": len(app._chat_ids_to_be_updated_in_persistence),
        "rate_windows": len(limiter),
    }


@pytest.mark.slow
async def test_memory_kept_per_person_stays_bounded_over_many_people(harness: Harness) -> None:
    window = harness.settings.rate_limit_window_seconds
    people: list[int] = []
    for wave in range(WAVES):
        ids = [FIRST_ID + wave * WAVE_SIZE + k for k in range(WAVE_SIZE)]
        for person in ids:
            harness.person(person)
        for act in JOURNEY:
            for person in ids:
                act(harness.emu, person)
            await harness.settle(timeout=60)
        people.extend(ids)
        # The next wave writes after this wave's rate windows have ended.
        harness.clock.advance(seconds=window + 1)

    # Everyone really went through (otherwise nothing would be kept anyway).
    for person in people:
        assert texts.SOMETHING_WENT_WRONG not in harness.texts(person)
    for person in (people[0], people[len(people) // 2], people[-1]):
        assert await harness.state(person) == Step.DISCLOSE_DURATION

    entries = per_person_entries(harness)
    assert entries["user_data"] == 0
    assert entries["chat_data"] == 0
    assert entries["ptb_user_ids"] == 0
    assert entries["ptb_chat_ids"] == 0
    # Only the last wave wrote within the current window.
    assert entries["rate_windows"] <= WAVE_SIZE < len(people)


class Clock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


def test_rate_windows_of_idle_people_are_forgotten_in_start_order() -> None:
    clock = Clock()
    limiter = RateLimiter(limit=2, window_seconds=60, clock=clock)
    for key in range(1_000):
        assert limiter.check(key) == "ok"
    clock.now = 30
    assert limiter.check(5_000) == "ok"
    clock.now = 61  # key 0's first window has ended: a new one starts, newest of all
    assert [limiter.check(0), limiter.check(0), limiter.check(0)] == ["ok", "ok", "warn"]
    assert len(limiter) == 2  # keys 1..999 were idle for a whole window
    clock.now = 95  # 5_000's window ended; key 0's (started at 61) is still on
    assert limiter.check(7) == "ok"
    assert len(limiter) == 2
    assert limiter.check(0) == "drop"


def test_a_flood_of_new_senders_within_one_window_is_capped() -> None:
    limiter = RateLimiter(limit=2, window_seconds=60, clock=Clock(), max_tracked=10)
    for key in range(25):
        assert limiter.check(key) == "ok"
    assert len(limiter) <= 10
    assert limiter.check(24) == "ok"  # the newest are kept
    assert limiter.check(24) == "warn"
