"""Which language a text is said in, chosen when it is said (gettext catalogs, read by Babel).

`conversations/texts.py` holds every sentence in British English, the source language:
each English text is its own msgid. Code says a text through `_()` (or `_n()` for a
count) at the moment it is sent, so the same call gives each person their language:

    Reply(_(texts.MENU))                           # a text
    _(texts.NOTICE).format(work_coach_policy=…)    # translate first, then fill the fields
    _n(texts.DELAY_MINUTES, n).format(n=n)         # a count: the catalog's plural rule

The language is a context variable, set once per update from Telegram's `language_code`
(`set_language`, group -3 in bot/handlers.py); anything said outside an update (the
delivery worker, start-up) is in the source language. Catalogs are `.po` files in
`conversations/locales/<locale>/LC_MESSAGES/firststep.po`, read with Babel at first use
(nothing to compile). `make texts` rewrites them after texts.py changes.
"""

from __future__ import annotations

import io
from collections.abc import Callable, Hashable, Iterator, Sequence
from contextlib import contextmanager
from contextvars import ContextVar
from functools import cache, lru_cache, wraps
from pathlib import Path
from typing import NamedTuple, ParamSpec, TypeVar, cast

from babel.core import Locale, UnknownLocaleError
from babel.lists import format_list
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po
from babel.support import Translations

__all__ = [
    "DOMAIN",
    "LOCALES_DIR",
    "SOURCE",
    "Plural",
    "_",
    "_n",
    "add_catalog",
    "by_language",
    "current",
    "join_labels",
    "language_for",
    "languages",
    "po_path",
    "remove_catalog",
    "set_language",
    "shipped",
    "using",
]

DOMAIN = "firststep"
SOURCE = "en_GB"
LOCALES_DIR = Path(__file__).parent / "locales"


class Plural(NamedTuple):
    """A text with a count: English singular and plural, each with the count's field."""

    one: str
    other: str


_language: ContextVar[str] = ContextVar("firststep_language", default=SOURCE)
# Catalogs besides the shipped ones (a test's second language), by locale.
_added: dict[str, Path] = {}


def po_path(locale: str, directory: Path = LOCALES_DIR) -> Path:
    return directory / locale / "LC_MESSAGES" / f"{DOMAIN}.po"


def shipped() -> tuple[str, ...]:
    """The languages with a catalog in conversations/locales (the source one always)."""
    found = {p.name for p in LOCALES_DIR.iterdir() if po_path(p.name).is_file()}
    return tuple(sorted(found | {SOURCE}))


def languages() -> tuple[str, ...]:
    """Every language the bot can speak now: the shipped catalogs and any added one."""
    return (*shipped(), *sorted(set(_added) - set(shipped())))


@cache
def _translations(locale: str) -> Translations:
    """The catalog for `locale`, read from its .po (compiled in memory, once)."""
    path = _added.get(locale) or po_path(locale)
    with path.open("rb") as handle:
        catalog = read_po(handle, locale=locale, domain=DOMAIN)
    compiled = io.BytesIO()
    write_mo(compiled, catalog)
    compiled.seek(0)
    return Translations(compiled, domain=DOMAIN)


def add_catalog(locale: str, path: Path) -> None:
    """Speak `locale` from the .po at `path` too (a second language before it ships)."""
    _added[locale] = path
    _translations.cache_clear()
    _choose.cache_clear()


def remove_catalog(locale: str) -> None:
    _added.pop(locale, None)
    _translations.cache_clear()
    _choose.cache_clear()


def current() -> str:
    return _language.get()


def language_for(code: str | None) -> str:
    """The language to answer in for Telegram's `language_code` ("en", "pt-br", …):
    the same locale if there is a catalog for it, else one for the same language, else
    the source language."""
    if not code:
        return SOURCE
    return _choose(code)


# Every update asks (set_language): the answer per code is kept, as the catalogs are,
# until a catalog is added or removed. Telegram sends a few dozen distinct codes at most.
@lru_cache(maxsize=256)
def _choose(code: str) -> str:
    try:
        wanted = Locale.parse(code.replace("-", "_"))
    except (ValueError, UnknownLocaleError):
        return SOURCE
    available = languages()
    if str(wanted) in available:
        return str(wanted)
    same_language = [name for name in available if name.split("_")[0] == wanted.language]
    if SOURCE in same_language:
        return SOURCE
    return same_language[0] if same_language else SOURCE


def set_language(code: str | None) -> None:
    """Answer this update (this task) in the language Telegram says the person uses."""
    _language.set(language_for(code))


@contextmanager
def using(locale: str) -> Iterator[None]:
    """Say texts in `locale` inside the block."""
    token = _language.set(locale)
    try:
        yield
    finally:
        _language.reset(token)


def _(text: str) -> str:
    """`text` (an English msgid from texts.py) in the current language."""
    return _translations(_language.get()).gettext(text)


def _n(text: Plural, count: int) -> str:
    """The form of `text` for `count` by the current language's plural rule (ngettext);
    fill its fields afterwards, count included."""
    return _translations(_language.get()).ngettext(text.one, text.other, count)


def join_labels(labels: Sequence[str]) -> str:
    """Labels in a list, as the current language writes one ("Alcohol, Cannabis")."""
    return format_list(list(labels), style="unit", locale=_language.get())


P = ParamSpec("P")
R = TypeVar("R")


def by_language(maxsize: int | None = None) -> Callable[[Callable[P, R]], Callable[P, R]]:
    """Keep what `build` returns for each language and arguments (cached keyboards):
    a keyboard built for one language is never shown in another. Positional arguments
    only, each hashable."""

    def decorate(build: Callable[P, R]) -> Callable[P, R]:
        call = cast(Callable[..., R], build)

        @lru_cache(maxsize=maxsize)
        def kept(language: str, *args: Hashable) -> R:
            return call(*args)

        @wraps(build)
        def per_language(*args: P.args, **kwargs: P.kwargs) -> R:
            if kwargs:
                raise TypeError(f"{build.__name__} is kept per language: pass by position")
            return kept(_language.get(), *args)

        return per_language

    return decorate
