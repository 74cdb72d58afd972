"""The catalog files: every text of the texts modules as a msgid, and the .po per language.

Run `make texts` after changing a text: it rewrites each language's
`conversations/locales/<locale>/LC_MESSAGES/firststep.po` from texts.py with Babel,
keeping translations (a changed English text keeps its old translation, marked fuzzy,
for a translator to check). The source language's file (en-GB) has empty translations:
its text is the msgid. tests/person/test_catalogs.py fails when a file is out of date.
"""

from __future__ import annotations

import io
import string
from collections.abc import Iterator
from importlib import import_module
from types import ModuleType

from babel.messages.catalog import Catalog
from babel.messages.pofile import read_po, write_po

from conversations.i18n import DOMAIN, SOURCE, Plural, po_path, shipped

__all__ = [
    "TEXT_MODULES",
    "entries",
    "fields",
    "placeholder_problems",
    "rendered_po",
    "template",
    "write_all",
]

# Every module whose upper-case names are texts: a str, a Plural, or a dict whose values
# are (its keys are codes). A tuple holds codes, never texts.
TEXT_MODULES = ("conversations.texts", "conversations.web_texts", "conversations.poster_texts")
PROJECT = "First Step"
HEADER = (
    "# First Step's texts in one language. msgid: the British English text in\n"
    "# conversations/texts.py (the comment above each names it). Rewritten by `make texts`.\n"
    "#"
)


def _module_entries(module: ModuleType) -> Iterator[tuple[str, str | Plural]]:
    short = module.__name__.rsplit(".", 1)[-1]
    for name, value in vars(module).items():
        if not name.isupper():
            continue
        if isinstance(value, str | Plural):
            yield f"{short}.{name}", value
        elif isinstance(value, dict):
            for key, item in value.items():
                if isinstance(item, str | Plural):
                    yield f"{short}.{name}[{key}]", item


def entries() -> Iterator[tuple[str, str | Plural]]:
    """(name, text) for every text the bot can say, in the order the modules hold them."""
    for module_name in TEXT_MODULES:
        yield from _module_entries(import_module(module_name))


def template(locale: str = SOURCE) -> Catalog:
    """A catalog holding every msgid, each commented with the names that say it."""
    catalog = Catalog(
        locale=locale,
        domain=DOMAIN,
        project=PROJECT,
        version="1",
        header_comment=HEADER,
        copyright_holder=PROJECT,
        fuzzy=False,
    )
    for name, text in entries():
        msgid: str | tuple[str, str] = (text.one, text.other) if isinstance(text, Plural) else text
        catalog.add(msgid, auto_comments=[name])
    return catalog


def fields(text: str) -> set[str]:
    """The `{fields}` a text fills in."""
    return {name for _, name, _, _ in string.Formatter().parse(text) if name is not None}


def placeholder_problems(catalog: Catalog) -> list[str]:
    """Translations whose fields differ from their msgid's: a text with one missing would
    drop what it says (a phone number, a reference), one with an extra would fail. Each
    plural form keeps every field of the English plural, the count too."""
    found = []
    for message in catalog:
        english = [message.id] if isinstance(message.id, str) else list(message.id)
        said = [message.string] if isinstance(message.string, str) else [*(message.string or ())]
        if not english[0]:
            continue  # the header
        wanted = fields(english[-1])
        found += [f"{english[0]!r}: {form!r}" for form in said if form and fields(form) != wanted]
    return found


def rendered_po(locale: str) -> bytes:
    """What `make texts` writes for `locale`: its current file brought up to texts.py."""
    fresh = template(locale)
    path = po_path(locale)
    if path.is_file():
        with path.open("rb") as handle:
            catalog = read_po(handle, locale=locale, domain=DOMAIN)
        catalog.update(fresh, update_creation_date=False)
    else:
        catalog = fresh
    out = io.BytesIO()
    write_po(
        out,
        catalog,
        width=0,  # lines break only where the text does, so a sentence is found whole
        no_location=True,
        ignore_obsolete=locale == SOURCE,
        include_previous=True,
    )
    return out.getvalue()


def write_all() -> list[str]:
    """Rewrite every shipped language's .po; the ones that changed."""
    changed = []
    for locale in shipped():
        path = po_path(locale)
        text = rendered_po(locale)
        if not path.is_file() or path.read_bytes() != text:
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_bytes(text)
            changed.append(str(path))
    return changed


def main() -> int:
    """`make texts`: rewrite the catalogs, then name any translation that lost a field."""
    for written in write_all():
        print(f"wrote {written}")
    status = 0
    for locale in shipped():
        with po_path(locale).open("rb") as handle:
            catalog = read_po(handle, locale=locale, domain=DOMAIN)
        for problem in placeholder_problems(catalog):
            print(f"{locale}: fields differ from the English: {problem}")
            status = 1
    return status


if __name__ == "__main__":
    raise SystemExit(main())
