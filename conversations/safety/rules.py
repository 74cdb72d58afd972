"""The phrase engine: which families of phrases a normalised message matches.

The phrases live in ``data/families/*.toml`` (how to edit them: README.md next to this
module). Here they are compiled on first use, each phrase on its own, and indexed by the
one or two words it can begin with (worked out from the phrase itself by
:class:`~conversations.safety.phrases.Starts`). A message is then read word by word, and
only the few phrases that can begin at a word are tried there, so a quiet message costs
a few dictionary look-ups and a handful of anchored matches instead of hundreds of
alternatives at every position.

A match that is *safely negated* (``data/negation.toml``) does not count.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from functools import cache
from itertools import accumulate, compress
from pathlib import Path
from typing import Final, NamedTuple

from conversations.safety.datafiles import (
    DATA_DIR,
    Family,
    Negation,
    NegationWords,
    load_families,
    load_negation,
    load_priority,
    load_vocabulary,
)
from conversations.safety.kinds import Kind, Tier
from conversations.safety.lexicon import Lexicon
from conversations.safety.phrases import (
    WORD_END,
    WORD_START,
    Starts,
    Unbounded,
    Vocabulary,
    dedupe_letters,
    phrase_to_regex,
)

__all__ = [
    "INDEX_FILE",
    "Engine",
    "Found",
    "Hit",
    "Phrase",
    "build_engine",
    "engine",
    "write_index",
]

_TIERS: Final = (Tier.URGENT, Tier.CHECKIN)
#: What each phrase compiles to and the words it can begin with, worked out ahead by
#: `firststep crisis train` (working it out takes longer than everything else at start).
#: A phrase missing from it, or a changed vocabulary, is simply worked out live.
INDEX_FILE: Final = DATA_DIR / "phrase_index.json"
Negated = Callable[[str, re.Match[str]], bool]
_Start = tuple[str, ...]


class Phrase:
    """One phrase of a family; its regex is compiled the first time it is tried."""

    __slots__ = ("_pattern", "family", "negated", "rank", "regex")

    def __init__(self, rank: int, family: Family, regex: str, negated: Negated | None) -> None:
        self.rank = rank  # lower wins: urgent before check-in, then by kind priority
        self.family = family
        self.regex = regex
        self.negated = negated
        self._pattern: re.Pattern[str] | None = None

    def pattern(self) -> re.Pattern[str]:
        pattern = self._pattern
        if pattern is None:
            pattern = self._pattern = re.compile(f"{WORD_START}(?:{self.regex}){WORD_END}")
        return pattern


class Found(NamedTuple):
    """A family that matched, and where (character offsets in the normalised text)."""

    family: Family
    start: int
    end: int


@dataclass(frozen=True, slots=True)
class Hit:
    """One phrase that matched (and was not negated), for :func:`Engine.explain`."""

    family: Family
    text: str
    negated: bool


_Candidates = tuple[Phrase, ...]
#: first word -> (phrases to try whatever follows, {second word: phrases})
_Index = dict[str, tuple[_Candidates, dict[str, _Candidates]]]


def _words(alternatives: Iterable[str]) -> str:
    return "|".join(dedupe_letters(w) for w in alternatives)


def _negators(words: NegationWords) -> dict[Negation, Negated]:
    denial_before = re.compile(
        rf"(?:^| )(?:{_words(words.negators)})(?: (?:{_words(words.between)})){{0,2}} $"
    )
    taken_back = re.compile(rf" (?:{_words(words.taken_back_by)})(?![a-z0-9])")
    not_after = "".join(f"(?<!{dedupe_letters(w)} )" for w in words.not_after)
    recovery_before = re.compile(
        rf"(?:^| )(?:(?:{not_after}(?:{_words(words.stopping)})|{_words(words.recovery)})"
        rf"(?: (?!(?:{_words(words.contrast)})(?![a-z0-9]))[a-z0-9]+){{0,2}}"
        rf"|{_words(words.plain)}) $"
    )

    def denied(text: str, match: re.Match[str]) -> bool:
        before = text[max(0, match.start() - 48) : match.start()]
        if not denial_before.search(before):
            return False
        return taken_back.match(text, match.end()) is None

    def in_recovery_talk(text: str, match: re.Match[str]) -> bool:
        before = text[max(0, match.start() - 64) : match.start()]
        return recovery_before.search(before) is not None

    return {Negation.DENIAL: denied, Negation.RECOVERY: in_recovery_talk}


class Engine:
    """The compiled phrases of every family, indexed by the words they begin with."""

    def __init__(
        self,
        families: list[Family],
        vocabulary: Vocabulary,
        negation: NegationWords,
        priority: tuple[Kind, ...],
    ) -> None:
        def order(family: Family) -> tuple[int, int]:
            return _TIERS.index(family.tier), priority.index(family.kind)

        self.families: tuple[Family, ...] = tuple(sorted(families, key=order))
        self.vocabulary = vocabulary
        #: Words that mark a joke (data/negation.toml, [joke]).
        self.jokes = frozenset(dedupe_letters(w) for w in negation.joke)
        #: Words that mark talk that may not be about now ([not_now]), found as the
        #: lexicon finds its classes (words and word pairs).
        self.not_now = Lexicon({"not_now": list(negation.not_now)})
        negators = _negators(negation)
        # Phrases are numbered in rank order; the index holds them as sets of numbers
        # while it is built (quick), then as rank-ordered tuples of phrases.
        by_first: dict[str, set[int]] = {}
        by_two: dict[str, dict[str, set[int]]] = {}
        everywhere: list[Phrase] = []
        ahead = _read_index(vocabulary)
        self.worked_out_live = 0
        self.phrases: list[Phrase] = []
        for rank, family in enumerate(self.families):
            negated = negators.get(family.negation)
            for source in family.phrases:
                known = ahead.get(source)
                if known is None:
                    self.worked_out_live += 1
                    known = _work_out(source, vocabulary)
                regex, starts = known
                number = len(self.phrases)
                phrase = Phrase(rank, family, regex, negated)
                self.phrases.append(phrase)
                if starts is None:
                    everywhere.append(phrase)
                    continue
                for start in starts:
                    if len(start) == 1:
                        by_first.setdefault(start[0], set()).add(number)
                    else:
                        first, second = start
                        by_two.setdefault(first, {}).setdefault(second, set()).add(number)

        phrases = self.phrases

        def ordered(numbers: set[int]) -> _Candidates:
            return tuple([phrases[n] for n in sorted(numbers)])

        index: _Index = {}
        no_seconds: dict[str, set[int]] = {}
        for first in by_first.keys() | by_two.keys():
            always = by_first.get(first, set())
            seconds = {}
            for second, numbers in by_two.get(first, no_seconds).items():
                rest = numbers - always
                if rest:
                    seconds[second] = ordered(rest)
            index[first] = (ordered(always), seconds)
        self.index = index
        self.everywhere: _Candidates = tuple(everywhere)

    def _try(self, phrase: Phrase, text: str, position: int) -> re.Match[str] | None:
        match = phrase.pattern().match(text, position)
        if match is None or (phrase.negated is not None and phrase.negated(text, match)):
            return None
        return match

    def matched(self, normalised: str) -> list[Found]:
        """Every family with a phrase in the (normalised) message, best rank first, with
        where its first match is.

        Pure and fast: only the phrases that can start with each word (and the word
        after it) are tried there, and a family is tried no further once it matched.
        """
        words = normalised.split(" ")
        entries = list(map(self.index.get, words))
        found: dict[int, Found] = {}
        if entries.count(None) != len(entries):
            count = len(words)
            offsets = list(accumulate(map(len, words), initial=0))
            for i in compress(range(count), entries):
                entry = entries[i]
                if entry is None:  # pragma: no cover - compress() skipped these
                    continue
                always, by_second = entry
                groups: tuple[_Candidates, ...] = (always,)
                if by_second:
                    more = by_second.get(words[i + 1] if i + 1 < count else "")
                    if more is not None:
                        groups = (always, more)
                position = offsets[i] + i
                for candidates in groups:
                    for phrase in candidates:
                        if phrase.rank in found:
                            continue
                        match = self._try(phrase, normalised, position)
                        if match is not None:
                            found[phrase.rank] = Found(phrase.family, match.start(), match.end())
        for phrase in self.everywhere:
            if phrase.rank in found:
                continue
            start = 0
            while (match := phrase.pattern().search(normalised, start)) is not None:
                if phrase.negated is None or not phrase.negated(normalised, match):
                    found[phrase.rank] = Found(phrase.family, match.start(), match.end())
                    break
                start = match.start() + 1
        return [found[rank] for rank in sorted(found)]

    def explain(self, normalised: str) -> list[Hit]:
        """Every phrase match, negated or not, for content designers and tests.

        Slower than :meth:`matched`; never used on the live path.
        """
        hits: list[Hit] = []
        for phrase in self.phrases:
            for match in phrase.pattern().finditer(normalised):
                negated = phrase.negated is not None and phrase.negated(normalised, match)
                hits.append(Hit(phrase.family, match.group(), negated))
        return hits


_Known = tuple[str, frozenset[_Start] | None]


#: A phrase that can begin in more two-word ways than this is indexed by its first word
#: only (it is tried a little more often; the index stays small and quick to read).
MAX_TWO_WORD_STARTS: Final = 48


def _starts(parser: Starts, source: str) -> frozenset[_Start] | None:
    """The one or two words a phrase can begin with (None: any word)."""
    try:
        starts = parser.words(source)
    except Unbounded:
        return None
    if len(starts) > MAX_TWO_WORD_STARTS:
        return frozenset((start[0],) for start in starts)
    return starts


def _work_out(source: str, vocabulary: Vocabulary) -> _Known:
    """A phrase's regex and the words it can begin with (None: any word)."""
    return phrase_to_regex(source, vocabulary), _starts(Starts(2, vocabulary), source)


def _fingerprint(vocabulary: Vocabulary) -> str:
    import hashlib  # only here: loading it costs start-up time

    shape = [sorted(vocabulary.helpers.items()), sorted(vocabulary.lists.items())]
    return hashlib.sha256(json.dumps(shape).encode()).hexdigest()


def _read_index(vocabulary: Vocabulary, path: Path = INDEX_FILE) -> Mapping[str, _Known]:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    if not isinstance(data, dict) or data.get("vocabulary") != _fingerprint(vocabulary):
        return {}
    known: dict[str, _Known] = {}
    for source, (regex, starts) in data.get("phrases", {}).items():
        known[source] = (regex, None if starts is None else frozenset(map(tuple, starts)))
    return known


def write_index(path: Path = INDEX_FILE) -> int:
    """Work out every shipped phrase ahead (`firststep crisis train`); returns how many."""
    vocabulary = load_vocabulary()
    phrases: dict[str, object] = {}
    starts_of = Starts(2, vocabulary)
    for family in load_families():
        for source in family.phrases:
            regex = phrase_to_regex(source, vocabulary)
            found = _starts(starts_of, source)
            phrases[source] = [regex, None if found is None else sorted(map(list, found))]
    data = {"vocabulary": _fingerprint(vocabulary), "phrases": phrases}
    path.write_text(json.dumps(data, sort_keys=True, separators=(",", ":")) + "\n")
    return len(phrases)


def build_engine(families: list[Family] | None = None) -> Engine:
    """Compile the families (the shipped ones unless given): for tests and editors."""
    return Engine(
        load_families() if families is None else families,
        load_vocabulary(),
        load_negation(),
        load_priority(),
    )


@cache
def engine() -> Engine:
    """The shipped phrases, compiled once on first use (not at import)."""
    return build_engine()
