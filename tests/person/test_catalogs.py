"""The catalogs: every text in every shipped language, fields kept, plurals by the
language's rule, and the source language's file leaving texts.py the one place for English.
"""

from __future__ import annotations

import ast
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


def msgids(catalog: Catalog) -> set[str | tuple[str, ...]]:
    return {m.id if isinstance(m.id, str) else tuple(m.id) for m in catalog if m.id}


def expected() -> set[str | tuple[str, ...]]:
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


@pytest.mark.parametrize(
    ("telegram", "answered_in"),
    [
        ("en", "en_GB"),
        ("en-US", "en_GB"),
        ("pl", "pl"),
        ("pl-PL", "pl"),
        ("PL", "pl"),
        ("de", "en_GB"),  # no catalog: the source language
        ("pt-br", "en_GB"),
        ("not a language", "en_GB"),
        ("", "en_GB"),
        (None, "en_GB"),
    ],
)
def test_telegrams_language_picks_a_catalog_or_the_source(
    tmp_path: Path, telegram: str | None, answered_in: str
) -> None:
    with second_language(tmp_path):
        assert i18n.language_for(telegram) == answered_in
    assert i18n.language_for(telegram) == i18n.SOURCE, "once the catalog is gone"


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


# ---------------------------------------------------------------------------------------
# Every text is said through the catalog, when it is said (a static read of the code, so
# the mentor side and every rare path are covered, not only the journeys tests take).
# ---------------------------------------------------------------------------------------
CODE = Path(__file__).resolve().parents[2]
SAYING = {"_", "_n"}


def code_files() -> list[Path]:
    return sorted(
        path
        for folder in ("bot", "conversations")
        for path in (CODE / folder).rglob("*.py")
        if "sandbox" not in path.parts and path.name != "texts.py"
    )


class _Reader(ast.NodeVisitor):
    """Finds texts used as they are (not through `_()`/`_n()`) inside functions, and
    `_()`/`_n()` called at import time."""

    def __init__(self, where: str) -> None:
        self.where = where
        self.in_function = 0
        self.saying = 0
        self.untranslated: list[str] = []
        self.at_import: list[str] = []

    def _function(self, node: ast.FunctionDef | ast.AsyncFunctionDef | ast.Lambda) -> None:
        if not isinstance(node, ast.Lambda):
            for outer in [*node.decorator_list, *node.args.defaults]:
                self.visit(outer)
        self.in_function += 1
        for inner in node.body if isinstance(node.body, list) else [node.body]:
            self.visit(inner)
        self.in_function -= 1

    visit_FunctionDef = visit_AsyncFunctionDef = visit_Lambda = _function

    def visit_Call(self, node: ast.Call) -> None:
        says = isinstance(node.func, ast.Name) and node.func.id in SAYING
        if says and not self.in_function:
            self.at_import.append(f"{self.where}:{node.lineno}")
        self.saying += says
        self.generic_visit(node)
        self.saying -= says

    def visit_Attribute(self, node: ast.Attribute) -> None:
        if isinstance(node.value, ast.Name) and node.value.id == "texts":
            value = getattr(texts, node.attr, None)
            said_as_is = isinstance(value, str | Plural)
            if self.in_function and not self.saying and said_as_is:
                self.untranslated.append(f"{self.where}:{node.lineno} texts.{node.attr}")
        self.generic_visit(node)

    def visit_Subscript(self, node: ast.Subscript) -> None:
        # texts.TABLE[key] is one text: said through _() like any other.
        table = node.value
        if (
            isinstance(table, ast.Attribute)
            and isinstance(table.value, ast.Name)
            and table.value.id == "texts"
            and self.in_function
            and not self.saying
        ):
            self.untranslated.append(f"{self.where}:{node.lineno} texts.{table.attr}[…]")
        self.generic_visit(node)


def read_code() -> list[_Reader]:
    readers = []
    for path in code_files():
        reader = _Reader(str(path.relative_to(CODE)))
        reader.visit(ast.parse(path.read_text(encoding="utf-8")))
        readers.append(reader)
    return readers


def test_code_says_every_text_through_the_catalog() -> None:
    untranslated = [found for reader in read_code() for found in reader.untranslated]
    assert untranslated == [], "say these with _(texts.X) or _n(texts.X, n):\n" + "\n".join(
        untranslated
    )


def test_no_text_is_said_at_import_time() -> None:
    """A text said when a module is imported would stay in that one language: keep the
    msgid in the table and say it where it is used."""
    at_import = [found for reader in read_code() for found in reader.at_import]
    assert at_import == []


def test_the_code_reader_finds_what_skips_the_catalog() -> None:
    reader = _Reader("example")
    reader.visit(
        ast.parse(
            "PROMPT = _(texts.MENU)\n"
            "def reply():\n"
            "    return texts.MENU, _(texts.HELP), texts.OPTION_LABELS['gp'], texts.FINDER_MILES\n"
        )
    )
    assert reader.at_import == ["example:1"]
    assert reader.untranslated == [
        "example:3 texts.MENU",
        "example:3 texts.OPTION_LABELS[…]",
        "example:3 texts.FINDER_MILES",
    ]
