"""The catalogs: every text in every shipped language, fields kept, plurals by the
language's rule, and the source language's file leaving texts.py the one place for English.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from babel.messages.catalog import Catalog
from babel.messages.pofile import read_po

from conversations import i18n, texts
from conversations.catalogs import entries, placeholder_problems, template
from conversations.i18n import Plural, _, _n
from conversations.mentor.notices import describe_delay
from conversations.person.jobcentre import distance
from storage.directory import OfficeMatch, all_offices
from tests.support.languages import LOCALE, form_mark, pseudo_catalog, second_language

SHIPPED = i18n.shipped()


def read(locale: str) -> Catalog:
    with i18n.po_path(locale).open("rb") as handle:
        return read_po(handle, locale=locale, domain=i18n.DOMAIN)


def msgids(catalog: Catalog) -> set[str | tuple[str, str]]:
    return {message.id for message in catalog if message.id}


def expected() -> set[str | tuple[str, str]]:
    return {(t.one, t.other) if isinstance(t, Plural) else t for _, t in entries()}


def test_the_source_language_ships() -> None:
    assert i18n.SOURCE in SHIPPED
    assert len(expected()) > 300


@pytest.mark.parametrize("locale", SHIPPED)
def test_every_text_is_in_every_shipped_catalog(locale: str) -> None:
    catalog = read(locale)
    missing = expected() - msgids(catalog)
    stale = msgids(catalog) - expected()
    assert not missing, f"not in {locale}'s catalog (run make texts): {sorted(map(str, missing))}"
    assert not stale, f"in {locale}'s catalog, not in texts.py (run make texts): {stale}"
    if locale != i18n.SOURCE:
        untranslated = [m.id for m in catalog if m.id and (not m.string or m.fuzzy)]
        assert not untranslated, f"{locale}: to translate or check: {untranslated}"


def test_the_source_catalog_leaves_texts_py_the_one_place_for_english() -> None:
    written = [
        message.id
        for message in read(i18n.SOURCE)
        if message.id
        and any(message.string if isinstance(message.string, tuple) else [message.string])
    ]
    assert written == [], "en_GB's catalog overrides texts.py: change the text there instead"


@pytest.mark.parametrize("locale", SHIPPED)
def test_shipped_translations_keep_every_field(locale: str) -> None:
    assert placeholder_problems(read(locale)) == []


def test_a_translation_keeps_every_field() -> None:
    assert placeholder_problems(pseudo_catalog()) == []
    broken = template("pl")
    broken[texts.SUPPORT_CALL].string = "zadzwoń ({cost})"  # the phone number dropped
    broken[(texts.FINDER_MILES.one, texts.FINDER_MILES.other)].string = (
        "około {miles} mili",
        "około {mile} mil",  # a field the code does not fill
        "około {miles} mil",
    )
    problems = placeholder_problems(broken)
    assert len(problems) == 2, problems
    assert "zadzwoń" in problems[0]
    assert "{mile}" in problems[1]


def test_each_text_is_said_as_written_in_the_source_language() -> None:
    for name, text in entries():
        if isinstance(text, Plural):
            assert _n(text, 1) == text.one, name
            assert _n(text, 2) == text.other, name
        else:
            assert _(text) == text, name


# Polish: 1 is the first form; 2-4, 22-24, … the second; 5-21, 25, … the third.
POLISH_FORMS = {1: 0, 2: 1, 4: 1, 5: 2, 12: 2, 21: 2, 22: 1}


def test_counts_take_the_form_the_language_gives_them(tmp_path: Path) -> None:
    office = next(o for o in all_offices() if o.offered)
    with second_language(tmp_path), i18n.using(LOCALE):
        for count, form in POLISH_FORMS.items():
            minutes = describe_delay(count)
            assert minutes == marked(form, texts.DELAY_MINUTES).format(n=count), count
            said = distance(OfficeMatch(office, float(count)))
            assert said == marked(form, texts.FINDER_MILES).format(miles=count), count
            if count >= 2:
                hours = describe_delay(count * 60)
                assert hours == marked(form, texts.DELAY_HOURS).format(n=count), count


def marked(form: int, text: Plural) -> str:
    """The pseudo-translation of plural form `form` (from the English `one` only for
    the first)."""
    return form_mark(form, text.one if form == 0 else text.other)
