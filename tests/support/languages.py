"""A second language for tests: Polish's plural rule with a pseudo-translation.

No second language ships yet, so tests make one: every text of the catalog template,
"translated" by marking it (`⟦pl⟧ ` before it; plural forms `⟦pl:0⟧ `, `⟦pl:1⟧ `,
`⟦pl:2⟧ `) and swapping the case of its words (never of its `{fields}`), written as a
real .po file and added with `i18n.add_catalog`. A reply or button in this language
shows its marks, and an English sentence in it shows as one that skipped the catalog;
Polish has three plural forms (1; 2-4, 22-24…; 5-21…), so a count chosen in code by
`n == 1` shows too.
"""

from __future__ import annotations

import string
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from babel.messages.catalog import Catalog
from babel.messages.pofile import write_po

from conversations import i18n
from conversations.catalogs import template

LOCALE = "pl"
MARK = "⟦pl"


def swapped(text: str) -> str:
    """`text` with the case of its words swapped, its `{fields}` as they are."""
    out = []
    for literal, field, spec, conversion in string.Formatter().parse(text):
        out.append(literal.replace("{", "{{").replace("}", "}}").swapcase())
        if field is not None:
            out.append("{" + field + (f"!{conversion}" if conversion else ""))
            out.append((f":{spec}" if spec else "") + "}")
    return "".join(out)


def mark(text: str) -> str:
    """What the second language says for the English `text` (a template: fill it after)."""
    return f"⟦pl⟧ {swapped(text)}"


def form_mark(index: int, text: str) -> str:
    return f"⟦pl:{index}⟧ {swapped(text)}"


def pseudo_catalog() -> Catalog:
    catalog = template(LOCALE)
    for message in catalog:
        if isinstance(message.id, str):
            message.string = mark(message.id) if message.id else message.string
        else:
            one, other = message.id
            message.string = tuple(
                form_mark(i, one if i == 0 else other) for i in range(catalog.num_plurals)
            )
    return catalog


def write_pseudo_po(directory: Path) -> Path:
    path = i18n.po_path(LOCALE, directory)
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("wb") as handle:
        write_po(handle, pseudo_catalog(), width=0)
    return path


@contextmanager
def second_language(directory: Path) -> Iterator[str]:
    """The pseudo-Polish catalog, spoken while the block runs."""
    i18n.add_catalog(LOCALE, write_pseudo_po(directory))
    try:
        yield LOCALE
    finally:
        i18n.remove_catalog(LOCALE)
