"""The crisis check's small trained model: character and word n-grams, linear weights.

Trained offline by `firststep crisis train` (scikit-learn, the `train` extra) on the
development part of the labelled corpus, and exported to ``data/model.json``: plain
n-gram -> weight tables. This module is the whole runtime: it reads that file on first
use and scores a message with a few dictionary look-ups, so the running bot needs
nothing beyond the standard library.

Features (the same function builds them for training, so they cannot drift apart): the
normalised text (``normalise.py``) padded with a space, every character 3-, 4- and
5-gram of it (robust to misspellings and unseen word forms: "overdosd", "od'ing"), and
every word and pair of neighbouring words. Each present feature counts once, and the
sum is scaled by one over the square root of the number of features, so a long message
is not louder than a short one.
"""

from __future__ import annotations

import json
import math
from collections.abc import Mapping
from dataclasses import dataclass
from functools import cache
from itertools import pairwise, repeat
from pathlib import Path
from typing import Any, Final

from conversations.safety.datafiles import DATA_DIR
from conversations.safety.kinds import Kind

__all__ = ["MODEL_FILE", "Linear", "Model", "Thresholds", "features", "load_model", "model"]

MODEL_FILE: Final = DATA_DIR / "model.json"
CHAR_SIZES: Final = (3, 4, 5)
#: Marks a word feature, so "die" the word and "die" inside "died" stay apart.
WORD_MARK: Final = "_"


# Slices made once: `map(text.__getitem__, slices)` is the quickest way to cut n-grams.
_SLICES: Final = {n: [slice(i, i + n) for i in range(4200)] for n in CHAR_SIZES}


def features(normalised: str) -> set[str]:
    """The n-grams of a normalised message (see the module docstring)."""
    padded = f" {normalised} "
    length = len(padded)
    cut = padded.__getitem__
    grams: set[str] = set()
    for n in CHAR_SIZES:
        slices = _SLICES[n]
        if length > len(slices):  # longer than any Telegram message: make more
            slices = [slice(i, i + n) for i in range(length)]
        grams.update(map(cut, slices[: max(0, length - n + 1)]))
    words = normalised.split()
    grams.update([WORD_MARK + w for w in words])
    grams.update([f"{WORD_MARK}{a} {b}" for a, b in pairwise(words)])
    return grams


def _sigmoid(score: float) -> float:
    if score >= 0:
        return 1.0 / (1.0 + math.exp(-score))
    exp = math.exp(score)
    return exp / (1.0 + exp)


@dataclass(frozen=True, slots=True)
class Linear:
    """One yes/no question: bias + scaled sum of the weights of the present features."""

    bias: float
    weights: Mapping[str, float]

    def score(self, grams: set[str]) -> float:
        if not grams:
            return self.bias
        total = sum(map(self.weights.get, grams, repeat(0.0)))
        return self.bias + total / math.sqrt(len(grams))

    def probability(self, grams: set[str]) -> float:
        return _sigmoid(self.score(grams))


@dataclass(frozen=True, slots=True)
class Thresholds:
    """Probability cut-offs, chosen by cross-validation on the development corpus."""

    #: P(help) at or above which a message gets the check-in.
    checkin: float
    #: P(urgent) at or above which it gets the urgent reply (if it already has P(help)).
    urgent: float
    #: P(help) a `confirm = true` phrase family needs before it counts.
    confirm: float


@dataclass(frozen=True, slots=True)
class Model:
    help: Linear
    urgent: Linear
    #: One linear score per kind (the highest wins), for messages no phrase explained.
    kinds: Mapping[Kind, Linear]
    thresholds: Thresholds
    about: Mapping[str, Any]

    def kind(self, grams: set[str]) -> Kind:
        return max(self.kinds.items(), key=lambda item: item[1].score(grams))[0]


def _linear(data: Mapping[str, Any]) -> Linear:
    return Linear(float(data["bias"]), {str(k): float(v) for k, v in data["weights"].items()})


def load_model(path: Path = MODEL_FILE) -> Model:
    data = json.loads(path.read_text(encoding="utf-8"))
    thresholds = data["thresholds"]
    return Model(
        help=_linear(data["help"]),
        urgent=_linear(data["urgent"]),
        kinds={Kind(name): _linear(part) for name, part in data["kinds"].items()},
        thresholds=Thresholds(
            checkin=float(thresholds["checkin"]),
            urgent=float(thresholds["urgent"]),
            confirm=float(thresholds["confirm"]),
        ),
        about=data.get("about", {}),
    )


def export(
    path: Path,
    *,
    help_model: Linear,
    urgent_model: Linear,
    kind_models: Mapping[Kind, Linear],
    thresholds: Thresholds,
    about: Mapping[str, Any],
) -> None:
    """Write a model file (used by training); weights rounded, sorted for small diffs."""

    def part(linear: Linear) -> dict[str, Any]:
        weights = {k: round(v, 4) for k, v in sorted(linear.weights.items()) if round(v, 4)}
        return {"bias": round(linear.bias, 6), "weights": weights}

    data = {
        "about": dict(about),
        "thresholds": {
            "checkin": thresholds.checkin,
            "urgent": thresholds.urgent,
            "confirm": thresholds.confirm,
        },
        "help": part(help_model),
        "urgent": part(urgent_model),
        "kinds": {kind.value: part(linear) for kind, linear in kind_models.items()},
    }
    text = json.dumps(data, ensure_ascii=True, indent=0, sort_keys=False)
    path.write_text(text + "\n", encoding="utf-8")


@cache
def model() -> Model:
    """The shipped model, read once on first use (not at import)."""
    return load_model()
