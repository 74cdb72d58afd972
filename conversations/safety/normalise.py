"""Text folding for the crisis check: the message as the phrases and the model see it.

Unicode compatibility forms, accents and case are folded; curly quotes straightened;
"OD'd" / "o.d." / "ODing" become the word ``overdose`` and "d.t.s" becomes ``dts``;
apostrophes are dropped ("can't" -> "cant"); sentence punctuation becomes a clause
break " . " (a question mark " ? "; an ellipsis is just a pause); everything else that
is not a letter or digit (emoji, hyphens, commas) becomes a space; runs of a repeated
letter collapse to one ("sooo" -> "so", "kill" -> "kil": the phrases are collapsed the
same way, so whoever edits them never sees it; only "ff" and "dd" are kept, so that
"off" and "of", "odd" and "od" stay apart); digits inside a word become letters
("k1ll", "h3r0in"); finally each word goes through the aliases and the typo table of
``data/words.toml`` ("wanna" -> "want to", "sucidal" -> "suicidal") and gets back the g
UK texting drops from the -ing words the data files use ("cuttin" -> "cutting").

The word table is built on first use, not at import (start-up stays quick).
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable, Mapping
from functools import cache
from typing import Final

from conversations.safety.datafiles import DATA_DIR, load_words
from conversations.safety.phrases import dedupe_letters

__all__ = ["build_word_map", "edits1", "normalise"]

# fmt: off
_CHAR_MAP: Final = str.maketrans(
    {
        "\u2019": "'", "\u2018": "'", "\u201b": "'", "\u02bc": "'", "\u00b4": "'",
        "`": "'", "\u2032": "'", "\uff07": "'",
        "&": " and ", "+": " plus ", "\u0131": "i",
        # Joiners and soft hyphens vanish instead of splitting a word; a
        # zero-width space is a space.
        "\u200b": " ", "\u200c": None, "\u200d": None, "\u2060": None, "\ufeff": None,
        "\u00ad": None, "\u180e": None,
        # Cyrillic and Greek look-alikes sometimes typed on a phone keyboard.
        "\u0430": "a", "\u0435": "e", "\u043e": "o", "\u0440": "p", "\u0441": "c",
        "\u0443": "y", "\u0445": "x", "\u0456": "i", "\u0458": "j", "\u043a": "k",
        "\u043c": "m", "\u0442": "t", "\u0455": "s", "\u03bf": "o", "\u03b1": "a",
        # Laughing emoji read as a word: a joke marker (data/negation.toml, [joke]).
        "\U0001f602": " lol ", "\U0001f923": " lol ", "\U0001f606": " lol ",
        "\U0001f639": " lol ",
        # Emoji that stand for a word: pills, a syringe, a knife. (Not the skull: "I'm
        # dead 💀" is laughter.)
        "\U0001f48a": " pills ", "\U0001f489": " needle ", "\U0001f52a": " knife ",
        "\U0001f5e1": " knife ",
    }
)
# fmt: on
_LEET_MAP: Final = str.maketrans({"0": "o", "1": "i", "3": "e", "4": "a", "5": "s", "7": "t"})
_COMBINING: Final = re.compile(
    r"[\u0300-\u036f\u1ab0-\u1aff\u1dc0-\u1dff\u20d0-\u20ff\ufe20-\ufe2f]"
)
_NON_ASCII: Final = re.compile(r"[^\x00-\x7f]+")
# "OD", "o.d.", "OD'd", "OD'ed", "ODing", "od's", "0D" -> overdose. The
# apostrophe is required before a bare "d" so the word "odd" stays itself.
_OD: Final = re.compile(r"[o0](?<![a-z0-9'][o0])\.?d\.?(?:'d|'ed|ed|'?ing|'in|'s|s)?(?![a-z0-9'])")
_DTS: Final = re.compile(r"d(?<![a-z0-9]d)\. ?t\.?'?s(?![a-z0-9])")
_ELLIPSIS: Final = re.compile(r"\.{2,}")
_LETTERS: Final = "abcdefghijklmnopqrstuvwxyz"


def _byte_table() -> bytes:
    """Letters and digits stay; sentence marks become "." or "?"; all else a space."""
    table = bytearray(b" " * 256)
    for char in b"abcdefghijklmnopqrstuvwxyz0123456789":
        table[char] = char
    table[ord("@")] = ord("a")  # "k@ll", "$uicide"
    table[ord("$")] = ord("s")
    for char in b".!;\n\r":
        table[char] = ord(".")
    table[ord("?")] = ord("?")
    return bytes(table)


_BYTE_TABLE: Final = _byte_table()


def edits1(word: str) -> set[str]:
    """Every string one edit away: a letter missing, extra or changed, or two swapped."""
    splits = [(word[:i], word[i:]) for i in range(len(word) + 1)]
    deletes = {a + b[1:] for a, b in splits if b}
    swaps = {a + b[1] + b[0] + b[2:] for a, b in splits if len(b) > 1}
    changes = {a + c + b[1:] for a, b in splits if b for c in _LETTERS}
    inserts = {a + c + b for a, b in splits for c in _LETTERS}
    return deletes | swaps | changes | inserts


def build_word_map(
    aliases: Mapping[str, str], keywords: Iterable[str], not_typos: Iterable[str]
) -> dict[str, str]:
    """Word -> replacement: aliases, and every typo of a keyword except real words."""
    mapping: dict[str, str] = {}
    keyword_list = list(keywords)
    deduped = {dedupe_letters(k) for k in keyword_list}
    protected = {dedupe_letters(w) for w in not_typos} | deduped
    for keyword in keyword_list:
        target = dedupe_letters(keyword)
        # Variants with a doubled letter never meet the (de-duplicated) text,
        # so they need no de-duplicating here.
        for variant in edits1(target):
            if len(variant) >= 5 and variant not in protected:
                mapping.setdefault(variant, target)
    for word, replacement in aliases.items():
        mapping[dedupe_letters(word)] = dedupe_letters(replacement)
    for mark in ".!;\n\r":
        mapping[mark] = "."
    return {k: v for k, v in mapping.items() if k != v}


_ING: Final = re.compile(r"[a-z]{3,}ing(?![a-z])")


def dropped_gs(texts: Iterable[str], keep: Iterable[str]) -> dict[str, str]:
    """ "hurtin" -> "hurting" for every -ing word the data files use (UK texting drops the
    g: "cuttin meself", "gettin worse"), except where the short form is in `keep`."""
    kept = set(keep)
    found = {dedupe_letters(w) for text in texts for w in _ING.findall(text)}
    return {w[:-1]: w for w in found if w[:-1] not in kept and w[:-1] not in found}


@cache
def word_map() -> dict[str, str]:
    """The word table from ``data/words.toml``, built once on first use; the dropped g's
    of the -ing words in every data file too."""
    words = load_words()
    texts = [path.read_text(encoding="utf-8") for path in sorted(DATA_DIR.rglob("*.toml"))]
    keep = {dedupe_letters(w) for w in (*words.not_typos, *words.aliases)}
    aliases = {**dropped_gs(texts, keep), **words.aliases}
    return build_word_map(aliases, words.typo_keywords, words.not_typos)


def normalise(text: str) -> str:
    """The text as the phrases and the model see it (see the module docstring)."""
    if text.isascii():
        s = text.lower()
        if "`" in s or "&" in s or "+" in s:
            s = s.translate(_CHAR_MAP)
    else:
        s = unicodedata.normalize("NFKD", text).casefold()
        s = _COMBINING.sub("", unicodedata.normalize("NFKD", s)).translate(_CHAR_MAP)
        s = _NON_ASCII.sub(" ", s)
    if "od'" in s or "o.d" in s or "0d'" in s or "0.d" in s:
        s = _OD.sub(" overdose ", s)  # the plain forms ("od", "oding") are aliases
    if "d." in s:
        s = _DTS.sub(" dts ", s)
    if ".." in s:
        s = _ELLIPSIS.sub(" ", s)  # "I... want... to... die" is one sentence
    data = s.encode("ascii").translate(_BYTE_TABLE, b"'")
    if b"." in data:
        data = data.replace(b".", b" . ")
    if b"?" in data:
        data = data.replace(b"?", b" ? ")
    has_digit = len(data.translate(None, b"0123456789")) != len(data)
    folded = dedupe_letters(data.decode("ascii"))
    tokens = folded.split()
    if has_digit:
        # Digits standing for letters inside a word: "k1ll", "h3r0in", "t0".
        tokens = [
            dedupe_letters(t.translate(_LEET_MAP)) if not (t.isalpha() or t.isdigit()) else t
            for t in tokens
        ]
    table = word_map()
    return " ".join(map(table.get, tokens, tokens))
