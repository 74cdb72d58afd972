"""The phrase syntax of the crisis check: from a phrase to a regular expression.

Phrases are written by content designers in the data files (see README.md next to this
module). This module turns one into a regex over normalised text, and works out the
first one or two words it can begin with, so that a message is read word by word and
only the few phrases that can begin at a word are tried there. That needs a small
parser of the regex subset the syntax produces: :class:`Starts`.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Final

__all__ = [
    "WORD_END",
    "WORD_START",
    "Starts",
    "Unbounded",
    "Vocabulary",
    "dedupe_letters",
    "phrase_to_regex",
]


@dataclass(frozen=True, slots=True)
class Vocabulary:
    """What a <name> in a phrase may stand for: a regex helper or a shared word list."""

    helpers: Mapping[str, str]
    lists: Mapping[str, tuple[str, ...]]


_PLACEHOLDER: Final = re.compile(r"<([a-z0-9_]+)>")
_BARE_GROUP: Final = re.compile(r"\((?!\?)")
WORD_START: Final = "(?<![a-z0-9])"
WORD_END: Final = "(?![a-z0-9])"
# Doubled letters, except "ff" and "dd": "off" and "of", "odd" and "od" (the
# short form of overdose) must stay apart.
_DOUBLES: Final[tuple[tuple[str, str], ...]] = tuple((c + c, c) for c in "abceghijklmnopqrstuvwxyz")


def dedupe_letters(text: str) -> str:
    """Collapse runs of a repeated letter to one ("fff..." and "ddd..." to two)."""
    for double, single in _DOUBLES:
        if double in text:
            text = text.replace(double, single)
            while double in text:
                text = text.replace(double, single)
    for triple, double in (("fff", "ff"), ("ddd", "dd")):
        while triple in text:
            text = text.replace(triple, double)
    return text


def _expand(source: str, vocabulary: Vocabulary, depth: int = 0) -> str:
    """Replace every <name> in a phrase with its helper or vocabulary list."""
    if depth > 8:
        raise ValueError(f"crisis phrases: <name> nesting too deep in {source!r}")

    def replace(match: re.Match[str]) -> str:
        name = match.group(1)
        if name in vocabulary.helpers:
            return vocabulary.helpers[name]
        if name in vocabulary.lists:
            alternatives = vocabulary.lists[name]
            return "(" + "|".join(_expand(alt, vocabulary, depth + 1) for alt in alternatives) + ")"
        raise KeyError(f"crisis phrases: unknown <{name}> in {source!r}")

    return _PLACEHOLDER.sub(replace, source)


def _bound_lookaheads(source: str) -> str:
    """Make every "(?! x| y)" mean whole words: "(?! a)" must not rule out " again"."""
    out: list[str] = []
    stack: list[bool] = []
    i = 0
    while i < len(source):
        char = source[i]
        if char == "(":
            is_negative_lookahead = source.startswith("(?!", i)
            stack.append(is_negative_lookahead)
            if is_negative_lookahead:
                out.append("(?!(?:")
                i += 3
                continue
        elif char == ")":
            if not stack:
                raise ValueError(f"crisis phrases: unbalanced ')' in {source!r}")
            if stack.pop():
                out.append(")(?![a-z0-9]))")
                i += 1
                continue
        out.append(char)
        i += 1
    if stack:
        raise ValueError(f"crisis phrases: unbalanced '(' in {source!r}")
    return "".join(out)


def phrase_to_regex(phrase: str, vocabulary: Vocabulary) -> str:
    """The regex for one phrase (whole words are added by the caller)."""
    if phrase != phrase.lower() or "\\" in phrase:
        raise ValueError(f"crisis phrases are lowercase and use no backslashes: {phrase!r}")
    expanded = _BARE_GROUP.sub("(?:", _expand(phrase, vocabulary))
    return dedupe_letters(_bound_lookaheads(expanded))


class Unbounded(Exception):
    """A phrase can start with any word, so it cannot be indexed by its start."""


# The regex subset that phrases compile to, as a small syntax tree.
@dataclass(frozen=True, slots=True)
class _Chars:  # one character out of a set (a literal is a set of one)
    chars: frozenset[str]


@dataclass(frozen=True, slots=True)
class _Empty:  # look-arounds, "^", "$": they match no characters
    pass


@dataclass(frozen=True, slots=True)
class _AnyChar:
    pass


@dataclass(frozen=True, slots=True)
class _Seq:
    items: tuple[_Node, ...]


@dataclass(frozen=True, slots=True)
class _Alt:
    branches: tuple[_Node, ...]


@dataclass(frozen=True, slots=True)
class _Repeat:
    inner: _Node
    low: int
    high: int | None


_Node = _Chars | _Empty | _AnyChar | _Seq | _Alt | _Repeat
_MAX_STARTS: Final = 20_000
#: Stands for "the rest of this word can be anything" in the strings below.
_ANY_REST: Final = "\x00"


def _cut_after(text: str, spaces: int) -> str:
    """`text` up to and including its `spaces`-th space."""
    parts = text.split(" ", spaces)
    return " ".join(parts[:spaces]) + " " if len(parts) > spaces else text


class Starts:
    """The ways a phrase can begin: its first one or two words.

    Parses the regex subset that the phrase syntax produces (literals, groups,
    alternation, ``? * + {m,n}``, character classes, look-arounds, <names>)
    and lists the strings each part can match, cut after the `count`-th
    space. Look-arounds count as matching nothing, so the list is a superset:
    a phrase is never left untried where it could match. Shared <names> are
    parsed and listed once for all phrases.
    """

    def __init__(self, count: int, vocabulary: Vocabulary) -> None:
        self.count = count
        self.vocabulary = vocabulary
        self.regex = ""
        self.memo: dict[int, set[str]] = {}
        self.shared: dict[str, _Node] = {}
        self.parsed: list[_Node] = []  # keeps nodes alive: the memo is keyed by id

    def words(self, phrase: str) -> frozenset[tuple[str, ...]]:
        """Every way `phrase` can begin, as a tuple of up to `count` words.

        A shorter tuple means the phrase can end sooner, or that the next word
        could be any word. Raises Unbounded when the first word could be any.
        """
        node = self._parse(dedupe_letters(phrase))
        starts: set[tuple[str, ...]] = set()
        for text in self._strings(node):
            words = text.split(" ")[: self.count]
            if words and not words[-1]:
                words.pop()  # the phrase ended after a space
            for i, word in enumerate(words):
                if _ANY_REST in word:
                    words = words[:i]
                    break
            if not words or not words[0]:
                raise Unbounded(phrase)
            starts.add(tuple(words))
        return frozenset(starts)

    def _parse(self, source: str) -> _Node:
        outer, self.regex = self.regex, source
        try:
            node, end = self._alternation(0)
            if end != len(source):
                raise ValueError(f"crisis phrases: cannot read {source!r} at {end}")
        finally:
            self.regex = outer
        self.parsed.append(node)
        return node

    def _placeholder(self, deduped_name: str) -> _Node:
        # The phrase was de-duplicated with its <names> in it ("<pilish>").
        helpers, lists = self.vocabulary.helpers, self.vocabulary.lists
        names = {dedupe_letters(n): n for n in (*helpers, *lists)}
        name = names.get(deduped_name, deduped_name)
        node = self.shared.get(name)
        if node is None:
            if name in helpers:
                source = helpers[name]
            elif name in lists:
                source = "(" + "|".join(lists[name]) + ")"
            else:
                raise KeyError(f"crisis phrases: unknown <{name}>")
            node = self.shared[name] = self._parse(dedupe_letters(source))
        return node

    # -- parsing ------------------------------------------------------------

    def _alternation(self, i: int) -> tuple[_Node, int]:
        node, i = self._sequence(i)
        branches = [node]
        while i < len(self.regex) and self.regex[i] == "|":
            node, i = self._sequence(i + 1)
            branches.append(node)
        return _Alt(tuple(branches)), i

    def _sequence(self, i: int) -> tuple[_Node, int]:
        items = []
        while i < len(self.regex) and self.regex[i] not in "|)":
            atom, i = self._atom(i)
            atom, i = self._quantifier(atom, i)
            items.append(atom)
        return _Seq(tuple(items)), i

    def _close(self, i: int) -> int:
        if i >= len(self.regex) or self.regex[i] != ")":
            raise ValueError(f"crisis phrases: missing ')' in {self.regex!r}")
        return i + 1

    def _atom(self, i: int) -> tuple[_Node, int]:
        regex = self.regex
        char = regex[i]
        if char == "(":
            for opener in ("(?<!", "(?<=", "(?!", "(?="):
                if regex.startswith(opener, i):
                    _, end = self._alternation(i + len(opener))
                    return _Empty(), self._close(end)
            if regex.startswith("(?", i) and not regex.startswith("(?:", i):
                raise ValueError(f"crisis phrases: unsupported group in {regex!r}")
            node, end = self._alternation(i + 3 if regex.startswith("(?:", i) else i + 1)
            return node, self._close(end)
        if char == "[":
            end = regex.index("]", i + 1)
            return _Chars(self._class(regex[i + 1 : end])), end + 1
        if char == "<":
            end = regex.index(">", i)
            return self._placeholder(regex[i + 1 : end]), end + 1
        if char in "$^":
            return _Empty(), i + 1
        if char == ".":
            return _AnyChar(), i + 1
        if char in "*+?{}\\":
            raise ValueError(f"crisis phrases: unexpected {char!r} in {regex!r}")
        return _Chars(frozenset(char)), i + 1

    def _class(self, body: str) -> frozenset[str]:
        if body.startswith("^"):
            return frozenset(_ANY_REST)
        chars: set[str] = set()
        i = 0
        while i < len(body):
            if i + 2 < len(body) and body[i + 1] == "-":
                chars.update(chr(c) for c in range(ord(body[i]), ord(body[i + 2]) + 1))
                i += 3
            else:
                chars.add(body[i])
                i += 1
        return frozenset(chars)

    def _quantifier(self, atom: _Node, i: int) -> tuple[_Node, int]:
        regex = self.regex
        if i >= len(regex):
            return atom, i
        char = regex[i]
        if char == "?":
            return _Repeat(atom, 0, 1), i + 1
        if char == "*":
            return _Repeat(atom, 0, None), i + 1
        if char == "+":
            return _Repeat(atom, 1, None), i + 1
        if char == "{":
            end = regex.index("}", i)
            low, comma, high = regex[i + 1 : end].partition(",")
            top = (int(high) if high else None) if comma else int(low)
            return _Repeat(atom, int(low or 0), top), end + 1
        return atom, i

    # -- the strings each part can match, cut after the count-th space -------

    def _then(self, heads: set[str], tails: set[str]) -> set[str]:
        """Every head followed by every tail, cut after the `count`-th space."""
        out: set[str] = set()
        cut_tails: dict[int, set[str]] = {}
        for head in heads:
            room = self.count - head.count(" ")
            if room <= 0 or _ANY_REST in head:
                out.add(head)
                continue
            cut = cut_tails.get(room)
            if cut is None:
                cut = cut_tails[room] = {_cut_after(tail, room) for tail in tails}
            out.update([head + tail for tail in cut])
            if len(out) > _MAX_STARTS:
                raise Unbounded("too many ways to begin")
        return out

    def _strings(self, node: _Node) -> set[str]:
        known = self.memo.get(id(node))
        if known is None:
            known = self.memo[id(node)] = self._compute(node)
        return known

    def _compute(self, node: _Node) -> set[str]:
        match node:
            case _Chars(chars):
                return set(chars)
            case _Empty():
                return {""}
            case _AnyChar():
                return {_ANY_REST}
            case _Alt(branches):
                return set().union(*(self._strings(b) for b in branches))
            case _Seq(items):
                out = {""}
                for item in items:
                    if all(s.count(" ") >= self.count or _ANY_REST in s for s in out):
                        break
                    out = self._then(out, self._strings(item))
                return out
            case _Repeat(inner, low, high):
                base = self._strings(inner)
                if high is None and any(s and " " not in s for s in base):
                    # A word of any length: whatever follows is unknown too.
                    return {"", _ANY_REST} if low == 0 else {_ANY_REST}
                return self._repeat(base, low, high)
        raise AssertionError(node)  # pragma: no cover

    def _repeat(self, base: set[str], low: int, high: int | None) -> set[str]:
        current = {""}
        result: set[str] = set()
        times = 0
        while True:
            if times >= low:
                before = len(result)
                result |= current
                if high is None and times > low and len(result) == before:
                    return result
            if high is not None and times >= high:
                return result
            current = self._then(current, base)
            times += 1
