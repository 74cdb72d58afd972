"""A second language through the real Application: the person's Telegram language picks
the catalog each reply and each kept keyboard is said from.

The second language is a test-only pseudo-translation (tests/support/languages.py): every
text it says is marked `⟦pl`, so an English text that skipped the catalog shows.
"""

from __future__ import annotations

import string
from collections.abc import Iterator
from pathlib import Path

import pytest
from telegram import InlineKeyboardMarkup

from conversations import i18n, texts
from conversations.catalogs import entries
from conversations.i18n import Plural
from conversations.keyboards import main_menu
from conversations.person.disclosure import QUESTIONS, question_keyboard
from storage.directory import offices_by_area, pilot_authorities
from tests.support.harness import Harness
from tests.support.languages import LOCALE, MARK, mark, second_language

ALEX = 7_700_900_001  # Telegram in Polish
BEA = 7_700_900_002  # Telegram in English
CRISIS_WORDS = "I took too many pills and I want to die"


@pytest.fixture
def polish(tmp_path: Path) -> Iterator[str]:
    with second_language(tmp_path / "locales") as locale:
        yield locale


def labels(markup: InlineKeyboardMarkup) -> list[str]:
    return [button.text for row in markup.inline_keyboard for button in row]


def place_names() -> set[str]:
    """Buttons that are a place's name alone: data, said as the place is named."""
    return {*offices_by_area(), *(authority.name for authority in pilot_authorities())}


def english_pieces() -> set[str]:
    """The longer stretches of English between the fields of every text: one of these in
    a reply in the second language is a text that skipped the catalog."""
    pieces = set()
    for _, text in entries():
        for form in (text.one, text.other) if isinstance(text, Plural) else (text,):
            for literal, *_ in string.Formatter().parse(form):
                pieces |= {line for line in literal.split("\n") if len(line.strip()) >= 12}
    return pieces


def unmarked(harness: Harness, chat_id: int) -> list[str]:
    """The bot's messages and buttons in this chat not said in the second language."""
    found = []
    places = place_names()
    english = english_pieces()
    for message in harness.emu.bot_messages(chat_id):
        if message.text is not None and MARK not in message.text:
            found.append(f"text: {message.text!r}")
        if message.text is not None:
            found += [f"in text: {piece!r}" for piece in english if piece in message.text]
        found += [
            f"button: {label!r}"
            for label in message.button_texts
            if MARK not in label and label not in places
        ]
    return found


async def test_the_persons_language_picks_replies_and_kept_keyboards(
    harness: Harness, polish: str
) -> None:
    harness.person(ALEX, language_code="pl")
    harness.person(BEA, "Bea", language_code="en-GB")

    await harness.send(ALEX, "/start")
    assert mark(texts.NOTICE.split("{")[0]) in harness.last_text(ALEX)
    assert harness.last_text(ALEX).startswith(mark(texts.WELCOME))
    await harness.press(ALEX, mark(texts.BTN_CONTINUE))
    assert harness.last_text(ALEX).endswith(mark(texts.MENU))
    polish_menu = harness.emu.button_texts(ALEX)
    assert polish_menu[0] == mark(texts.BTN_TELL)

    # The same kept menu, at the same moment, for someone whose Telegram is in English.
    await harness.onboard(BEA)
    assert harness.last_text(BEA).endswith(f"\n\n{texts.MENU}")
    assert [mark(label) for label in harness.emu.button_texts(BEA)] == polish_menu
    await harness.send(ALEX, "/menu")
    assert harness.emu.button_texts(ALEX) == polish_menu

    # A question's kept keyboard too, ticks and all.
    await harness.press(ALEX, mark(texts.BTN_TELL))
    await harness.press(ALEX, mark(texts.OPTION_LABELS["alcohol"]))
    ticked = mark(texts.OPTION_TICKED).format(label=mark(texts.OPTION_LABELS["alcohol"]))
    assert ticked in harness.emu.button_texts(ALEX)
    await harness.press(BEA, texts.BTN_TELL)
    await harness.press(BEA, texts.OPTION_LABELS["alcohol"])
    assert "✓ " + texts.OPTION_LABELS["alcohol"] in harness.emu.button_texts(BEA)
    assert unmarked(harness, ALEX) == [], "\n".join(unmarked(harness, ALEX))


def test_kept_keyboards_are_kept_per_language(polish: str) -> None:
    english = main_menu()
    question = QUESTIONS[0]
    english_question = question_keyboard(question, frozenset())
    with i18n.using(LOCALE):
        assert main_menu() is main_menu(), "kept in the second language too"
        assert main_menu() is not english
        assert labels(main_menu()) == [mark(label) for label in labels(english)]
        assert question_keyboard(question, frozenset()) is not english_question
    assert main_menu() is english
    assert question_keyboard(question, frozenset()) is english_question


async def test_every_message_and_button_of_a_journey_is_in_the_persons_language(
    harness: Harness, polish: str
) -> None:
    harness.person(ALEX, language_code="pl-PL")
    await harness.send(ALEX, "/start")
    await harness.press(ALEX, mark(texts.BTN_MORE))
    await harness.press(ALEX, mark(texts.BTN_CONTINUE))
    for command in ("/help", "/about", "/nonsense", "/menu"):
        await harness.send(ALEX, command)
    await harness.send(ALEX, "hello there")
    harness.emu.user_sends_media(ALEX, "sticker")
    await harness.settle()
    await harness.send(ALEX, CRISIS_WORDS)

    await harness.send(ALEX, "/tell")
    await harness.press(ALEX, mark(texts.OPTION_LABELS["alcohol"]))
    await harness.press(ALEX, mark(texts.BTN_DONE))
    await harness.send(ALEX, "words instead of a button")
    await harness.press(ALEX, mark(texts.OPTION_LABELS["1_to_5y"]))
    await harness.press(ALEX, mark(texts.BTN_PREFER_NOT))
    await harness.press(ALEX, mark(texts.BTN_SKIP))
    await harness.send(ALEX, "I want to stop drinking")
    await harness.press(ALEX, mark(texts.BTN_SUPPORT))

    await harness.send(ALEX, "/jobcentre")
    await harness.press(ALEX, mark(texts.BTN_DONT_KNOW))
    await harness.send(ALEX, "PO1 2AB")
    await harness.send(ALEX, "/mentor")
    await harness.send(ALEX, "/mydata")
    await harness.send(ALEX, "/forget")
    await harness.press(ALEX, mark(texts.BTN_FORGET_NO))

    assert len(harness.emu.bot_messages(ALEX)) > 25
    assert unmarked(harness, ALEX) == [], "\n".join(unmarked(harness, ALEX))
