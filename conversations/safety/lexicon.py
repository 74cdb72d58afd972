"""Word classes for the model (``data/lexicon.toml``): what lets it generalise.

A message's classes are the classes of its words and word pairs ("mandy" -> stimulant,
"right now" -> now), and every pair of classes present together ("stimulant+body"). The
model gives each a weight, so a danger sign next to a drug it never saw in training
looks like one next to a drug it did.
"""

from __future__ import annotations

import tomllib
from functools import cache
from itertools import combinations, pairwise
from typing import Final

from conversations.safety.datafiles import DATA_DIR, DataError
from conversations.safety.normalise import normalise

__all__ = ["LEXICON_FILE", "Lexicon", "lexicon"]

LEXICON_FILE: Final = DATA_DIR / "lexicon.toml"
#: Class features start with this mark (never in normalised text: "@" becomes "a").
CLASS_MARK: Final = "@"


class Lexicon:
    """Word (and two-word) entries -> the classes they belong to."""

    def __init__(self, classes: dict[str, list[str]]) -> None:
        self.words: dict[str, tuple[str, ...]] = {}
        self.pairs: dict[str, tuple[str, ...]] = {}
        for name, entries in classes.items():
            for entry in entries:
                folded = normalise(entry)
                size = len(folded.split())
                if size not in (1, 2):
                    raise DataError(f"lexicon.toml <{name}>: {entry!r} is not one or two words")
                table = self.words if size == 1 else self.pairs
                table[folded] = (*table.get(folded, ()), name)
        self.names = tuple(sorted(classes))
        # Feature names made once ("@a", "@a+b"): formatting them per message costs more
        # than everything else the lexicon does.
        self._single = {name: CLASS_MARK + name for name in self.names}
        self._pair = {(a, b): f"{CLASS_MARK}{a}+{b}" for a, b in combinations(self.names, 2)}

    def classes(self, words: list[str]) -> set[str]:
        """The class features of a message's (normalised) words."""
        found: set[str] = set()
        for hit in map(self.words.get, words):
            if hit:
                found.update(hit)
        if self.pairs:
            for hit in map(self.pairs.get, map(" ".join, pairwise(words))):
                if hit:
                    found.update(hit)
        ordered = sorted(found)
        features = set(map(self._single.__getitem__, ordered))
        features.update(map(self._pair.__getitem__, combinations(ordered, 2)))
        return features


def load_lexicon() -> Lexicon:
    with LEXICON_FILE.open("rb") as file:
        data = tomllib.load(file)
    classes = data.get("classes")
    if not isinstance(classes, dict) or not all(
        isinstance(v, list) and all(isinstance(w, str) for w in v) for v in classes.values()
    ):
        raise DataError("lexicon.toml: [classes] maps names to lists of words")
    return Lexicon({str(k): list(v) for k, v in classes.items()})


@cache
def lexicon() -> Lexicon:
    """The shipped word classes, read once on first use."""
    return load_lexicon()
