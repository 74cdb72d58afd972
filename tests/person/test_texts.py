"""Plain language: every text in every shipped language's catalog reads easily.

Each text of conversations/texts.py is said through the catalog of each shipped language
(its fields filled with sample values, each form of a plural), then scored with that
language's Flesch formula (tests/support/reading.py). Messages (five words or more) need
a reading ease of at least 60. The formula means nothing for a one-to-four-word button
label ("Continue" scores -48), so labels instead must average no more than three
syllables a word.
"""

from __future__ import annotations

import string
from collections.abc import Iterator

import pytest

from conversations import i18n
from conversations.catalogs import entries
from conversations.i18n import Plural, _, _n
from tests.support.reading import (
    LABEL_WORDS,
    MAX_LABEL_SYLLABLES_PER_WORD,
    MIN_READING_EASE,
    SHIPPED,
    prose,
    reading_ease,
    syllables_per_word,
)

SAMPLE_VALUES = {
    "work_coach_policy": "Nothing you tell us goes to your work coach.",
    "safeguarding_policy": "A mentor tells someone only if your life is at risk.",
    "inactive_days": "30",
    "after_close_days": "90",
    "backup_days": "7",
    "main_backup_days": "30",
    "length": "1200",
    "limit": "1000",
    "office": "Portsmouth Jobcentre",
    "summary": "• How long: 1 to 5 years",
    "question": "How long",
    "answer": "1 to 5 years",
}
# Counts that reach every plural form of the languages CLDR knows (0, 1, 2, few, many, other).
COUNTS = (0, 1, 2, 3, 5, 11, 21, 100, 101, 102)


def said(text: str | Plural) -> Iterator[str]:
    """Every way the current language says `text`: one, or one per plural form."""
    if isinstance(text, Plural):
        yield from dict.fromkeys(_n(text, n).replace("{n}", str(n)) for n in COUNTS)
    else:
        yield _(text)


def filled(text: str) -> str:
    fields = {f for _, f, _, _ in string.Formatter().parse(text) if f}
    values = {f: SAMPLE_VALUES.get(f, "the place") for f in fields}
    return text.format(**values)


def rendered(locale: str) -> list[tuple[str, str]]:
    with i18n.using(locale):
        return [(name, filled(form)) for name, text in entries() for form in said(text)]


ENTRIES = [(locale, name, text) for locale in SHIPPED for name, text in rendered(locale)]


def test_catalog_is_not_empty() -> None:
    assert len(ENTRIES) > 40 * len(SHIPPED)


@pytest.mark.parametrize(
    ("locale", "name", "text"), ENTRIES, ids=[f"{loc}-{name}" for loc, name, _ in ENTRIES]
)
def test_reading_ease(locale: str, name: str, text: str) -> None:
    readable = prose(text)
    if not readable.strip(" ."):
        pytest.skip("only symbols")
    words = readable.split()
    if len(words) <= LABEL_WORDS:
        per_word = syllables_per_word(readable, locale)
        assert per_word <= MAX_LABEL_SYLLABLES_PER_WORD, f"{name}: {readable!r}"
        return
    score = reading_ease(readable, locale)
    assert score >= MIN_READING_EASE, f"{locale} {name} scores {score}: {readable!r}"
