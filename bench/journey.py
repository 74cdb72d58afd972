"""The scripted person: start → notice → disclosure → finder → a mentor request, driven
through the emulator.

Callback updates must name messages the bot really sent (the emulator refuses a button
that is not on screen), so updates are made step by step: every person due a step taps
or types through the emulator's driver, the raw JSON is fetched as getUpdates would
carry it, and only then the timed loop feeds it to the bot. People are staggered, so one
timed batch mixes commands, button taps and free text, as real traffic does.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

from bot.sandbox import TelegramEmulator
from conversations import texts
from storage.directory import AreaLookup, Office, locate_text, pilot_answer

Action = Callable[[TelegramEmulator, int], object]

OWN_WORDS = "I drink most days and want to stop"
POSTCODE = "PO1 2AB"


def nearest_office(postcode: str = POSTCODE) -> Office:
    """The office the finder offers first for the scripted postcode (mentors join there)."""
    found = locate_text(postcode)
    if not isinstance(found, AreaLookup) or found.authority is None:
        raise AssertionError(f"the finder has no office for {postcode}")
    return pilot_answer(found).offices[0].office


def _send(text: str) -> Action:
    return lambda emu, user_id: emu.user_sends(user_id, text)


def _press(label: str) -> Action:
    return lambda emu, user_id: emu.press_button(user_id, label)


@dataclass(frozen=True, slots=True)
class Step:
    name: str
    act: Action


JOURNEY: tuple[Step, ...] = (
    Step("start", _send("/start")),
    Step("notice continue", _press(texts.BTN_CONTINUE)),
    Step("menu: tell", _press(texts.BTN_TELL)),
    Step("tick alcohol", _press(texts.OPTION_LABELS["alcohol"])),
    Step("done", _press(texts.BTN_DONE)),
    Step("duration", _press(texts.OPTION_LABELS["1_to_5y"])),
    Step("prefer not to say", _press(texts.BTN_PREFER_NOT)),
    Step("skip", _press(texts.BTN_SKIP)),
    Step("own words", _send(OWN_WORDS)),
    Step("menu", _press(texts.BTN_MENU)),
    Step("menu: jobcentre", _press(texts.BTN_JOBCENTRE)),
    Step("postcode", _send(POSTCODE)),
    Step("mentor at the nearest", _press(texts.BTN_MENTOR_AT.format(name=nearest_office().name))),
    Step("share my answers", _press(texts.BTN_SHARE_ANSWERS)),
    Step("talk here", _press(texts.BTN_CONTACT_BOT)),
    Step("any time", _press(texts.MENTOR_TIME_LABELS["any"])),
    Step("send it", _press(texts.BTN_SEND_REQUEST)),
)
# How the last message of a finished journey begins: the request went to the mentors.
FINAL_TEXT = "✅ Sent. Your reference is R-"


class JourneyBroken(AssertionError):
    """A scripted person did not end where the script ends: the numbers would be a lie."""


def schedule(people: Sequence[int], steps: int = len(JOURNEY)) -> list[list[tuple[int, int]]]:
    """Ticks of (person, step index): person k starts at tick k mod steps."""
    ticks: list[list[tuple[int, int]]] = [[] for _ in range(steps * 2 - 1)]
    for k, person in enumerate(people):
        offset = k % steps
        for index in range(steps):
            ticks[offset + index].append((person, index))
    return [tick for tick in ticks if tick]


def register(emu: TelegramEmulator, people: Sequence[int]) -> None:
    for person in people:
        emu.register_user(person, "Sam")


def check_finished(emu: TelegramEmulator, people: Sequence[int]) -> None:
    """Every person's request went to the mentors, and nobody saw an error."""
    for person in people:
        shown = emu.bot_texts(person)
        if not shown or not shown[-1].startswith(FINAL_TEXT):
            raise JourneyBroken(f"person {person} ended on {shown[-1:]!r}, not a sent request")
        if texts.SOMETHING_WENT_WRONG in shown:
            raise JourneyBroken(f"person {person} was told something went wrong")


def echo_texts(count: int) -> list[str]:
    """What the echo bot's people type: the journey's own free text, round robin."""
    pool = ("/start", OWN_WORDS, POSTCODE, "hello", "thank you")
    return [pool[i % len(pool)] for i in range(count)]
