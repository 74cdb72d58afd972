"""Reading ease per language: the Flesch formula textstat has for the language, with
the language's own hyphenation (pyphen) to count syllables.

A language the bot speaks must have a formula here before it ships: `scorer` fails
for one that has none, so the reading-ease tests fail rather than pass unread.
"""

from __future__ import annotations

import re
from functools import cache

from textstat.textstat import textstatistics

from conversations import i18n

MIN_READING_EASE = 60.0
MAX_LABEL_SYLLABLES_PER_WORD = 3.0
LABEL_WORDS = 4
# Languages whose Flesch variant textstat knows (its `langs`), by language code.
FORMULAS = frozenset({"en", "de", "es", "fr", "it", "nl", "ru"})
# English in any variety is scored as the bar of 60 was set: with textstat's default
# (US) hyphenation dictionary. (The British one counts more syllables in some place
# names: three rendered office and service messages then score 56 to 58.)
HYPHENATION = {"en": "en_US"}


@cache
def scorer(locale: str) -> textstatistics:
    language = locale.split("_")[0]
    if language not in FORMULAS:
        raise LookupError(f"no reading-ease formula for {locale}: add one before it ships")
    stats = textstatistics()
    stats.set_lang(HYPHENATION.get(language, locale))
    return stats


def reading_ease(text: str, locale: str) -> float:
    return float(scorer(locale).flesch_reading_ease(text))


def syllables_per_word(text: str, locale: str) -> float:
    return float(scorer(locale).syllable_count(text)) / len(text.split())


def prose(text: str) -> str:
    """What a reader reads: commands, emoji and bullets dropped, lines as sentences."""
    text = re.sub(r"/\w+", "", text)
    text = re.sub(r"[^\w\s.,!?'’;:()-]", " ", text)
    lines = [line.strip(" -–•") for line in text.splitlines()]
    return " ".join(
        line if line.endswith((".", "?", "!", ":")) else f"{line}." for line in lines if line
    )


SHIPPED = i18n.shipped()
