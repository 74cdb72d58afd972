"""The crisis check: does a message need urgent help, a check-in, or nothing?

Two parts, combined:

* the phrase rules (``rules.py``, phrases in ``data/families/``): precise wording that
  content designers can read and edit. Each family says its kind and tier; a match is
  taken as it is, except a family marked ``confirm = true`` (a bare mention such as
  "overdose" or "suicide", often past or about others), which counts only when the model
  sees danger in the message or in the words around the match (:data:`CONTEXT_WORDS`
  either side), or when the message is too short to hold anything else
  (:data:`TRUSTED_LENGTH` words). The same holds for every family in a message that may
  not be about now: one with a word of ``data/negation.toml`` [not_now] (the past, a film,
  the news, a course);
* the model (``model.py``, weights in ``data/model.json``): character and word n-grams,
  and word classes, for wording nobody wrote a phrase for. P(help) at or above the
  check-in threshold gives the check-in; P(urgent) at or above the urgent threshold makes
  a phrase's check-in urgent. Alone, the model sends the urgent reply only when it is very
  sure, and never for a message of a few words (:func:`tier_of`).

A phrase's tier is never lowered by the model, only by a joke ("lol", 😂: urgent becomes
the check-in). The kind (which reply, which counter) comes from the best phrase, else
from the model.

The rule that shapes everything: **when in doubt, ask**. A check-in costs a person one
tap; a missed crisis can cost a life. The thresholds are chosen by cross-validation on
the development corpus (`firststep crisis train`) to meet the targets in the README.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from conversations.safety.datafiles import Family
from conversations.safety.kinds import Kind, Tier
from conversations.safety.model import Model, Thresholds, features, model
from conversations.safety.normalise import normalise
from conversations.safety.rules import Engine, Found, engine

__all__ = [
    "CONTEXT_WORDS",
    "MODEL_MIN_WORDS",
    "TRUSTED_LENGTH",
    "Assessment",
    "Verdict",
    "assess",
    "assess_with",
    "confirmed",
    "is_crisis",
    "tier_of",
]

#: A message of at most this many words is taken at its word by a `confirm = true` family:
#: there is no room in it for the past, a film or a joke ("suicidal", "I want to die"),
#: and the model is least sure of itself on so few words.
TRUSTED_LENGTH = 6
#: How many words either side of a `confirm = true` match the model reads to confirm it.
CONTEXT_WORDS = 10
#: The model alone answers only a message of at least this many words: on "ok", "and now?"
#: it has nothing to go on but its prior.
MODEL_MIN_WORDS = 4


@dataclass(frozen=True, slots=True)
class Verdict:
    """How to answer a message that needs help (no text of the message is kept here)."""

    tier: Tier
    kind: Kind


@dataclass(frozen=True, slots=True)
class Assessment:
    """Everything the check worked out, for `firststep crisis explain` and training."""

    verdict: Verdict | None
    #: Every family that matched, best first, and for a `confirm = true` one the model's
    #: P(help) of the message or of the words around the match, whichever is higher
    #: (None for the others).
    found: tuple[tuple[Family, float | None], ...]
    #: The model's P(help); 1.0 when an urgent phrase decided and the model was not asked.
    p_help: float
    p_urgent: float | None
    #: The family that decided (None when the model did, or nothing did).
    family: Family | None
    #: The kind the model would name (only worked out when needed, or when explaining).
    model_kind: Kind | None
    #: How many words the message has (clause marks not counted).
    words: int
    #: Whether it has a joke marker ("lol", 😂).
    joking: bool
    #: Whether it may not be about now (negation.toml [not_now]): every match needs the
    #: model's confirmation, as in a `confirm = true` family.
    not_now: bool = False


def confirmed(
    family: Family,
    around: float | None,
    words: int,
    thresholds: Thresholds,
    not_now: bool = False,
) -> bool:
    """Whether a family's match counts (see the module docstring)."""
    if family.kind_only:
        return False
    if not (family.confirm or not_now) or words <= TRUSTED_LENGTH:
        return True
    return around is not None and around >= thresholds.confirm


def _around(trained: Model, normalised: str, hit: Found) -> float:
    """The model's P(help) of the words around a match: a mention's context (a film, the
    past, a joke) is usually in the same breath, and danger buried in a long, otherwise
    ordinary message is not drowned by the rest of it."""
    before = normalised[: hit.start].split()[-CONTEXT_WORDS:]
    after = normalised[hit.end :].split()[:CONTEXT_WORDS]
    window = " ".join([*before, normalised[hit.start : hit.end], *after])
    return trained.help.probability(features(window))


def tier_of(
    chosen: Family | None,
    p_help: float,
    p_urgent: Callable[[], float],
    words: int,
    joking: bool,
    thresholds: Thresholds,
) -> Tier | None:
    """The tier from the phrase that counts (if any) and the model's scores.

    A phrase gives its tier, and the model can make a phrase's check-in urgent. Where no
    phrase matched, the model gives the check-in (to a message of at least
    :data:`MODEL_MIN_WORDS` words), and the urgent reply only when it is very sure
    (`thresholds.urgent_alone`) of a message longer than :data:`TRUSTED_LENGTH` words: on
    a few words it is least sure of itself. A joke ("lol", 😂) turns urgent into the
    check-in.
    """
    if chosen is None:
        if words < MODEL_MIN_WORDS or p_help < thresholds.checkin:
            return None
        alone = not joking and words > TRUSTED_LENGTH and p_urgent() >= thresholds.urgent_alone
        return Tier.URGENT if alone else Tier.CHECKIN
    if joking:
        return Tier.CHECKIN
    if chosen.tier is Tier.URGENT or p_urgent() >= thresholds.urgent:
        return Tier.URGENT
    return Tier.CHECKIN


def assess_with(rules: Engine, trained: Model, text: str, *, explain: bool = False) -> Assessment:
    """The check with the given rules and model (training tries candidates this way).

    `explain` works out every score even where the answer does not need it.
    """
    normalised = normalise(text)
    hits = rules.matched(normalised)
    split = normalised.split()
    words = len(split) - normalised.count(" . ") - normalised.count(" ? ")
    joking = not rules.jokes.isdisjoint(split)
    not_now = bool(hits) and bool(rules.not_now.classes(split))
    if not explain and not joking and not not_now:
        deciding = [hit.family for hit in hits if not hit.family.kind_only]
        if deciding and deciding[0].tier is Tier.URGENT and not deciding[0].confirm:
            # Urgent whatever the model says: no need to ask it (the quickest answer
            # goes to the messages that need it most).
            child = next((h.family.kind for h in hits if h.family.kind_only), None)
            at_once = Verdict(Tier.URGENT, child or deciding[0].kind)
            every = tuple((h.family, None) for h in hits)
            return Assessment(at_once, every, 1.0, None, deciding[0], None, words, joking, False)
    seen = features(normalised)
    thresholds = trained.thresholds
    p_help = trained.help.probability(seen)
    found: list[tuple[Family, float | None]] = []
    chosen: Family | None = None
    named: Kind | None = None
    for hit in hits:  # best first: urgent before check-in, then by priority
        family = hit.family
        if family.kind_only:
            named = named or family.kind
            found.append((family, None))
            continue
        around = None
        if (family.confirm or not_now) and (explain or chosen is None):
            # The message as a whole, or the words around the match, show danger.
            around = p_help
            if words > CONTEXT_WORDS and (explain or p_help < thresholds.confirm):
                around = max(p_help, _around(trained, normalised, hit))
        found.append((family, around))
        if chosen is None and confirmed(family, around, words, thresholds, not_now):
            chosen = family
    urgent_score: list[float] = []

    def p_urgent() -> float:
        if not urgent_score:
            urgent_score.append(trained.urgent.probability(seen))
        return urgent_score[0]

    if explain:
        p_urgent()
    tier = tier_of(chosen, p_help, p_urgent, words, joking, thresholds)
    model_kind = trained.kind(seen) if explain or (tier and chosen is None) else None
    verdict = None
    if tier is not None:
        kind = named or (chosen.kind if chosen is not None else model_kind)
        assert kind is not None
        verdict = Verdict(tier, kind)
    p_urgent_seen = urgent_score[0] if urgent_score else None
    return Assessment(
        verdict, tuple(found), p_help, p_urgent_seen, chosen, model_kind, words, joking, not_now
    )


def assess(text: str | None) -> Verdict | None:
    """How to answer `text`: urgent help, a check-in, or None (nothing to do)."""
    if not text or text.isspace():
        return None
    return assess_with(engine(), model(), text).verdict


def is_crisis(text: str | None) -> bool:
    """Whether `text` gets urgent help or a check-in (and so must not be stored)."""
    return assess(text) is not None
