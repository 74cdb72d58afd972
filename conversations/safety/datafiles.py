"""Reading the crisis check's data files (``data/``): phrases, words, negation, model.

The files are for content designers (README.md next to this module says how to edit
them); this module checks what it reads and names the file and the entry when something
is wrong, so a typo stops the tests with a clear message instead of matching nothing.
"""

from __future__ import annotations

import tomllib
from collections.abc import Mapping
from dataclasses import dataclass
from enum import StrEnum
from pathlib import Path
from typing import Any, Final

from conversations.safety.kinds import Kind, Tier
from conversations.safety.phrases import Vocabulary

__all__ = [
    "DATA_DIR",
    "Family",
    "Negation",
    "NegationWords",
    "Words",
    "load_families",
    "load_negation",
    "load_priority",
    "load_vocabulary",
    "load_words",
]

DATA_DIR: Final = Path(__file__).parent / "data"
FAMILIES_DIR: Final = DATA_DIR / "families"


class DataError(ValueError):
    """A data file is not in the shape the crisis check expects."""


class Negation(StrEnum):
    """Which matches of a family may be cancelled by the words around them.

    Negation is only applied where missing a message is low-risk, and never to the acute
    families (not breathing, can't wake him, fitting, intent to die).
    """

    #: Never cancelled.
    NONE = "none"
    #: A *mention* directly denied: "I'm not suicidal", "I've never overdosed".
    DENIAL = "denial"
    #: Two substances in recovery talk: "I stopped taking heroin and benzos".
    RECOVERY = "recovery"


@dataclass(frozen=True, slots=True)
class Family:
    """A named group of phrases that signal one kind of crisis, at one tier."""

    kind: Kind
    tier: Tier
    name: str
    why: str
    phrases: tuple[str, ...]
    negation: Negation = Negation.NONE
    #: A mention that is often talk about the past or about others ("my mate OD'd years
    #: ago"): it counts only when the model also finds some sign of danger now.
    confirm: bool = False
    #: Never a reason to reply on its own: when the message gets a reply for other
    #: reasons, this family's kind names it ("I'm 15" makes any danger a child's).
    kind_only: bool = False
    source: str = ""


@dataclass(frozen=True, slots=True)
class Words:
    aliases: Mapping[str, str]
    typo_keywords: tuple[str, ...]
    not_typos: frozenset[str]


@dataclass(frozen=True, slots=True)
class NegationWords:
    negators: tuple[str, ...]
    between: tuple[str, ...]
    taken_back_by: tuple[str, ...]
    stopping: tuple[str, ...]
    not_after: tuple[str, ...]
    recovery: tuple[str, ...]
    contrast: tuple[str, ...]
    plain: tuple[str, ...]
    joke: tuple[str, ...]
    #: Words and word pairs that mark talk that may not be about now.
    not_now: tuple[str, ...] = ()


def _read(path: Path) -> dict[str, Any]:
    try:
        with path.open("rb") as file:
            return tomllib.load(file)
    except tomllib.TOMLDecodeError as error:
        raise DataError(f"{path.name}: {error}") from error


def _strings(value: object, where: str) -> tuple[str, ...]:
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise DataError(f"{where}: expected a list of strings")
    return tuple(value)


def _join_lines(phrase: str, where: str) -> str:
    """A phrase written over several lines: each break and the indent after it vanish.

    So a line may only be broken just before a "|" (a space there would be lost).
    """
    if "\n" not in phrase:
        return phrase
    first, *rest = phrase.split("\n")
    for line in rest:
        if not line.lstrip().startswith("|"):
            raise DataError(f"{where}: break a long phrase only just before a |: {line.strip()!r}")
    return first + "".join(line.lstrip() for line in rest)


def load_words() -> Words:
    data = _read(DATA_DIR / "words.toml")
    aliases = data.get("aliases", {})
    if not isinstance(aliases, dict) or not all(isinstance(v, str) for v in aliases.values()):
        raise DataError("words.toml: [aliases] maps words to words")
    typos = data.get("typos", {})
    return Words(
        aliases={str(k): str(v) for k, v in aliases.items()},
        typo_keywords=_strings(typos.get("keywords", []), "words.toml [typos] keywords"),
        not_typos=frozenset(_strings(typos.get("not_typos", []), "words.toml [typos] not_typos")),
    )


def load_vocabulary() -> Vocabulary:
    data = _read(DATA_DIR / "vocab.toml")
    helpers = data.get("helpers", {})
    lists = data.get("vocab", {})
    if not isinstance(helpers, dict) or not all(isinstance(v, str) for v in helpers.values()):
        raise DataError("vocab.toml: [helpers] maps names to patterns")
    if not isinstance(lists, dict):
        raise DataError("vocab.toml: [vocab] maps names to lists of words")
    clash = set(helpers) & set(lists)
    if clash:
        raise DataError(f"vocab.toml: {sorted(clash)} are both helpers and word lists")
    return Vocabulary(
        helpers={str(k): str(v) for k, v in helpers.items()},
        lists={str(k): _strings(v, f"vocab.toml <{k}>") for k, v in lists.items()},
    )


def load_negation() -> NegationWords:
    data = _read(DATA_DIR / "negation.toml")
    denial, recovery = data.get("denial", {}), data.get("recovery", {})
    joke = data.get("joke", {})
    not_now = data.get("not_now", {})

    def words(table: Mapping[str, Any], section: str, key: str) -> tuple[str, ...]:
        return _strings(table.get(key), f"negation.toml [{section}] {key}")

    return NegationWords(
        negators=words(denial, "denial", "negators"),
        between=words(denial, "denial", "between"),
        taken_back_by=words(denial, "denial", "taken_back_by"),
        stopping=words(recovery, "recovery", "stopping"),
        not_after=words(recovery, "recovery", "not_after"),
        recovery=words(recovery, "recovery", "words"),
        contrast=words(recovery, "recovery", "contrast"),
        plain=words(recovery, "recovery", "plain"),
        joke=words(joke, "joke", "words"),
        not_now=words(not_now, "not_now", "words"),
    )


def load_priority() -> tuple[Kind, ...]:
    """Which kind wins when one message matches several at the same tier."""
    data = _read(DATA_DIR / "priority.toml")
    names = _strings(data.get("kinds"), "priority.toml kinds")
    try:
        kinds = tuple(Kind(name) for name in names)
    except ValueError as error:
        raise DataError(f"priority.toml: {error}") from error
    if set(kinds) != set(Kind) or len(kinds) != len(Kind):
        raise DataError("priority.toml: list every kind exactly once")
    return kinds


_FAMILY_KEYS: Final = {
    "name",
    "kind",
    "tier",
    "why",
    "phrases",
    "negation",
    "confirm",
    "kind_only",
}


def _family(entry: Mapping[str, Any], source: str) -> Family:
    name = entry.get("name")
    where = f"{source} family {name!r}"
    unknown = set(entry) - _FAMILY_KEYS
    if unknown:
        raise DataError(f"{where}: unknown keys {sorted(unknown)}")
    if not isinstance(name, str) or not name:
        raise DataError(f"{source}: a family without a name")
    why = entry.get("why")
    if not isinstance(why, str) or not why.strip():
        raise DataError(f"{where}: say why the family exists (why = ...)")
    try:
        kind = Kind(str(entry.get("kind")))
        tier = Tier(str(entry.get("tier")))
        negation = Negation(entry.get("negation", "none"))
    except ValueError as error:
        raise DataError(f"{where}: {error}") from error
    confirm = entry.get("confirm", False)
    kind_only = entry.get("kind_only", False)
    if not isinstance(confirm, bool) or not isinstance(kind_only, bool):
        raise DataError(f"{where}: confirm and kind_only are true or false")
    phrases = tuple(
        _join_lines(p, where) for p in _strings(entry.get("phrases"), f"{where} phrases")
    )
    if not phrases:
        raise DataError(f"{where}: no phrases")
    return Family(
        kind, tier, name, " ".join(why.split()), phrases, negation, confirm, kind_only, source
    )


def load_families() -> list[Family]:
    """Every family of every file in ``data/families/``, in file order."""
    families: list[Family] = []
    for path in sorted(FAMILIES_DIR.glob("*.toml")):
        entries = _read(path).get("family", [])
        if not isinstance(entries, list):
            raise DataError(f"{path.name}: write each family as [[family]]")
        families.extend(_family(entry, path.name) for entry in entries)
    names = [f.name for f in families]
    duplicates = sorted({n for n in names if names.count(n) > 1})
    if duplicates:
        raise DataError(f"families: names used twice: {duplicates}")
    return families
