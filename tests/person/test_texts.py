"""Plain English: every text in the catalog reads easily.

Messages (five words or more) need a Flesch reading ease of at least 60. The formula
means nothing for a one-to-four-word button label ("Continue" scores -48), so labels
instead must average no more than three syllables a word.
"""

from __future__ import annotations

import re
import string
from collections.abc import Iterator

import pytest
import textstat

from conversations import texts

MIN_READING_EASE = 60.0
MAX_LABEL_SYLLABLES_PER_WORD = 3.0
LABEL_WORDS = 4
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


def catalog() -> Iterator[tuple[str, str]]:
    for name, value in vars(texts).items():
        if name.startswith("_") or name == "COMMANDS":
            continue
        if isinstance(value, str):
            yield name, value
        elif isinstance(value, dict):
            for key, item in value.items():
                if isinstance(item, str):
                    yield f"{name}[{key}]", item
    for command, description in texts.COMMANDS:
        yield f"COMMANDS[{command}]", description


def filled(text: str) -> str:
    fields = {f for _, f, _, _ in string.Formatter().parse(text) if f}
    values = {f: SAMPLE_VALUES.get(f, "the place") for f in fields}
    return text.format(**values)


def prose(text: str) -> str:
    """What a reader reads: commands, emoji and bullets dropped, lines as sentences."""
    text = re.sub(r"/\w+", "", text)
    text = re.sub(r"[^\w\s.,!?'’;:()-]", " ", text)
    lines = [line.strip(" -–•") for line in text.splitlines()]
    return " ".join(
        line if line.endswith((".", "?", "!", ":")) else f"{line}." for line in lines if line
    )


ENTRIES = list(catalog())


def test_catalog_is_not_empty() -> None:
    assert len(ENTRIES) > 40


@pytest.mark.parametrize(("name", "text"), ENTRIES, ids=[name for name, _ in ENTRIES])
def test_reading_ease(name: str, text: str) -> None:
    readable = prose(filled(text))
    if not readable.strip(" ."):
        pytest.skip("only symbols")
    words = readable.split()
    if len(words) <= LABEL_WORDS:
        per_word = textstat.syllable_count(readable) / len(words)
        assert per_word <= MAX_LABEL_SYLLABLES_PER_WORD, f"{name}: {readable!r}"
        return
    score = textstat.flesch_reading_ease(readable)
    assert score >= MIN_READING_EASE, f"{name} scores {score}: {readable!r}"
