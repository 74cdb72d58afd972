"""Keyboards built once and shared: each must still be exactly what building it afresh
gives for its arguments, and nobody can change a shared one."""

from __future__ import annotations

import inspect

import pytest
from telegram import InlineKeyboardMarkup

from conversations import texts
from conversations.keyboards import main_menu
from conversations.person.disclosure import QUESTIONS, Question, question_keyboard


def labels(markup: InlineKeyboardMarkup) -> list[str]:
    return [button.text for row in markup.inline_keyboard for button in row]


def test_the_kept_menu_is_the_menu_and_cannot_be_changed() -> None:
    assert main_menu() is main_menu()
    assert main_menu() == inspect.unwrap(main_menu)()  # built afresh
    with pytest.raises(AttributeError):
        main_menu().inline_keyboard = ()
    with pytest.raises(AttributeError):
        main_menu().inline_keyboard[0][0].text = "changed"


@pytest.mark.parametrize("question", QUESTIONS, ids=lambda q: q.key)
def test_each_tick_gets_its_own_keyboard(question: Question) -> None:
    untouched = question_keyboard(question, frozenset())
    assert not any(label.startswith("✓ ") for label in labels(untouched))
    for code in question.options:
        ticked = frozenset({code})
        markup = question_keyboard(question, ticked)
        assert markup == inspect.unwrap(question_keyboard)(question, ticked)
        shown = [label for label in labels(markup) if label.startswith("✓ ")]
        assert shown == [f"✓ {texts.OPTION_LABELS[code]}"]
    assert question_keyboard(question, frozenset()) is untouched
