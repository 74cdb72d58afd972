"""The crisis check's small trained model: character and word n-grams, linear weights.

Trained offline by `firststep crisis train` (scikit-learn, the `train` extra) on the
development part of the labelled corpus, and exported to ``data/model.json``: plain
n-gram -> weight tables. This module is the whole runtime: it reads that file on first
use and scores a message with a few dictionary look-ups, so the running bot needs
nothing beyond the standard library.

Features (the same function builds them for training, so they cannot drift apart): the
normalised text (``normalise.py``) padded with a space, every character 4-gram of it
(robust to misspellings and unseen word forms: "overdosd", "od'ing"; 3- and 5-grams
added nothing in cross-validation and cost as much again each), and
every word and pair of neighbouring words. Each present n-gram counts once, and their
sum is scaled by one over the square root of their number (:func:`gram_scale`), so a
long message is not louder than a short one. Then the word classes of
``data/lexicon.toml`` (``lexicon.py``), each counting once, unscaled.
"""

from __future__ import annotations

import json
import math
from collections.abc import Mapping
from dataclasses import dataclass
from functools import cache, cached_property
from itertools import pairwise, repeat
from pathlib import Path
from typing import Any, Final

from conversations.safety.datafiles import DATA_DIR
from conversations.safety.kinds import Kind
from conversations.safety.lexicon import lexicon

__all__ = [
    "MODEL_FILE",
    "Features",
    "Linear",
    "Model",
    "Thresholds",
    "build_model",
    "features",
    "load_model",
    "model",
    "write_model",
]

MODEL_FILE: Final = DATA_DIR / "model.json"
CHAR_SIZES: Final = (4,)
#: Marks a word feature, so "die" the word and "die" inside "died" stay apart.
WORD_MARK: Final = "_"


# Slices made once: `map(text.__getitem__, slices)` is the quickest way to cut n-grams.
_SLICES: Final = {n: [slice(i, i + n) for i in range(4200)] for n in CHAR_SIZES}


@dataclass(frozen=True, slots=True)
class Features:
    """What the model sees of a message. Never kept: it is the text in pieces."""

    grams: set[str]  # every n-gram (characters and words)
    words: set[str]  # the word n-grams alone (the kinds read only these)
    classes: set[str]


def features(normalised: str) -> Features:
    """The n-grams and word classes of a normalised message (see the module docstring)."""
    split = normalised.split()
    words = set(map(WORD_MARK.__add__, split))
    words.update([f"{WORD_MARK}{a} {b}" for a, b in pairwise(split)])
    grams = char_grams(normalised)
    grams.update(words)
    return Features(grams, words, lexicon().classes(split))


def char_grams(normalised: str) -> set[str]:
    padded = f" {normalised} "
    length = len(padded)
    cut = padded.__getitem__
    grams: set[str] = set()
    for n in CHAR_SIZES:
        slices = _SLICES[n]
        if length > len(slices):  # longer than any Telegram message: make more
            slices = [slice(i, i + n) for i in range(length)]
        grams.update(map(cut, slices[: max(0, length - n + 1)]))
    return grams


def _sigmoid(score: float) -> float:
    if score >= 0:
        return 1.0 / (1.0 + math.exp(-score))
    exp = math.exp(score)
    return exp / (1.0 + exp)


#: The n-gram sum is divided by the square root of the number of n-grams, but never of
#: fewer than this: a message of two or three words has too few to be sure of anything,
#: so its score stays nearer the model's prior (the bias).
MIN_GRAMS: Final = 60


def gram_scale(count: int) -> float:
    """What each present n-gram counts for (training and scoring alike)."""
    return 1.0 / math.sqrt(max(count, MIN_GRAMS))


@dataclass(frozen=True, slots=True)
class Linear:
    """One yes/no question: bias + scaled sum of the weights of the present features."""

    bias: float
    weights: Mapping[str, float]

    def score(self, features: Features) -> float:
        get = self.weights.get
        score = self.bias + sum(map(get, features.classes, repeat(0.0)))
        grams = features.grams
        if grams:
            score += sum(map(get, grams, repeat(0.0))) * gram_scale(len(grams))
        return score

    def probability(self, features: Features) -> float:
        return _sigmoid(self.score(features))

    def score_words(self, features: Features) -> float:
        """The score when the weights are for words and classes only (the kinds)."""
        get = self.weights.get
        score = self.bias + sum(map(get, features.classes, repeat(0.0)))
        if features.words:
            score += sum(map(get, features.words, repeat(0.0))) * gram_scale(len(features.grams))
        return score


@dataclass(frozen=True, slots=True)
class Thresholds:
    """Probability cut-offs, chosen by cross-validation on the development corpus."""

    #: P(help) at or above which a message gets the check-in.
    checkin: float
    #: P(urgent) at or above which a phrase's check-in becomes the urgent reply.
    urgent: float
    #: P(help) a `confirm = true` phrase family needs before it counts.
    confirm: float
    #: P(urgent) at or above which the model alone sends the urgent reply.
    urgent_alone: float = 1.0


class Model:
    """The three parts of the model. Only P(help) is needed for every message, so the
    other two are unpacked from the file the first time a message needs them."""

    def __init__(self, data: Mapping[str, Any]) -> None:
        self._data = data
        self._names: list[str] = data["features"]
        self._scale = float(data["scale"])
        thresholds = data["thresholds"]
        self.thresholds = Thresholds(
            checkin=float(thresholds["checkin"]),
            urgent=float(thresholds["urgent"]),
            confirm=float(thresholds["confirm"]),
            urgent_alone=float(thresholds["urgent_alone"]),
        )
        self.about: Mapping[str, Any] = data.get("about", {})
        self.help = self._linear(data["help"])

    @property
    def data(self) -> Mapping[str, Any]:
        """What the model file holds."""
        return self._data

    def _linear(self, part: Mapping[str, Any]) -> Linear:
        scale = self._scale
        weights = {n: w / scale for n, w in zip(self._names, part["weights"], strict=True) if w}
        return Linear(float(part["bias"]), weights)

    @cached_property
    def urgent(self) -> Linear:
        return self._linear(self._data["urgent"])

    @cached_property
    def kinds(self) -> Mapping[Kind, Linear]:
        """One linear score per kind (the highest wins), for messages no phrase explained."""
        return {Kind(name): self._linear(part) for name, part in self._data["kinds"].items()}

    def kind(self, features: Features) -> Kind:
        return max(self.kinds.items(), key=lambda item: item[1].score_words(features))[0]


def load_model(path: Path = MODEL_FILE) -> Model:
    return Model(json.loads(path.read_text(encoding="utf-8")))


#: Weights are stored as whole numbers of this many parts (compact, quick to read).
SCALE: Final = 10_000


def build_model(
    *,
    help_model: Linear,
    urgent_model: Linear,
    kind_models: Mapping[Kind, Linear],
    thresholds: Thresholds,
    about: Mapping[str, Any],
) -> Model:
    """A model from its parts, exactly as it will read back from its file (training):
    one feature list, each part's weights in the same order as whole numbers (0 where a
    part does not use a feature)."""
    parts = [help_model, urgent_model, *kind_models.values()]
    names = sorted({n for part in parts for n, w in part.weights.items() if round(w * SCALE)})

    def part(linear: Linear) -> dict[str, Any]:
        get = linear.weights.get
        return {
            "bias": round(linear.bias, 6),
            "weights": [round(get(n, 0.0) * SCALE) for n in names],
        }

    data = {
        "about": dict(about),
        "thresholds": {
            "checkin": thresholds.checkin,
            "urgent": thresholds.urgent,
            "confirm": thresholds.confirm,
            "urgent_alone": thresholds.urgent_alone,
        },
        "scale": SCALE,
        "features": names,
        "help": part(help_model),
        "urgent": part(urgent_model),
        "kinds": {kind.value: part(linear) for kind, linear in kind_models.items()},
    }
    return Model(data)


def write_model(model: Model, path: Path = MODEL_FILE) -> None:
    path.write_text(json.dumps(model.data, ensure_ascii=True, separators=(",", ":")) + "\n")


@cache
def model() -> Model:
    """The shipped model, read once on first use (not at import)."""
    return load_model()
