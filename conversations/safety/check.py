"""The crisis check: does a message need urgent help, a check-in, or nothing?

Two parts, combined:

* the phrase rules (``rules.py``, phrases in ``data/families/``): precise wording that
  content designers can read and edit. Each family says its kind and tier; a match is
  taken as it is, except a family marked ``confirm = true`` (a bare mention such as
  "overdose" or "suicide", often past or about others), which counts only when the model
  sees at least a little danger too;
* the model (``model.py``, weights in ``data/model.json``): character and word n-grams,
  for wording nobody wrote a phrase for. P(help) at or above the check-in threshold gives
  the check-in; P(urgent) at or above the urgent threshold makes it urgent.

The stronger of the two wins: a phrase's tier is never lowered by the model. The kind
(which reply, which counter) comes from the best phrase, else from the model.

The rule that shapes everything: **when in doubt, ask**. A check-in costs a person one
tap; a missed crisis can cost a life. The thresholds are chosen by cross-validation on
the development corpus (`firststep crisis train`) to meet the targets in the README.
"""

from __future__ import annotations

from dataclasses import dataclass

from conversations.safety.datafiles import Family
from conversations.safety.kinds import Kind, Tier
from conversations.safety.model import Model, features, model
from conversations.safety.normalise import normalise
from conversations.safety.rules import Engine, engine

__all__ = ["Assessment", "Verdict", "assess", "assess_with", "is_crisis"]


@dataclass(frozen=True, slots=True)
class Verdict:
    """How to answer a message that needs help (no text of the message is kept here)."""

    tier: Tier
    kind: Kind


@dataclass(frozen=True, slots=True)
class Assessment:
    """Everything the check worked out, for `firststep crisis explain` and the eval."""

    verdict: Verdict | None
    families: tuple[Family, ...]
    p_help: float
    p_urgent: float | None
    #: The family that decided (None when the model did, or nothing did).
    family: Family | None
    #: The kind the model would name (only worked out when needed, or when explaining).
    model_kind: Kind | None = None


def assess_with(rules: Engine, trained: Model, text: str, *, explain: bool = False) -> Assessment:
    """The check with the given rules and model (training tries candidates this way).

    `explain` works out every score even where the answer does not need it.
    """
    normalised = normalise(text)
    families = tuple(rules.matched(normalised))
    seen = features(normalised)
    thresholds = trained.thresholds
    p_help = trained.help.probability(seen)
    chosen: Family | None = None
    for family in families:  # best first: urgent before check-in, then by priority
        if not family.confirm or p_help >= thresholds.confirm:
            chosen = family
            break
    tier = chosen.tier if chosen is not None else None
    p_urgent = trained.urgent.probability(seen) if explain else None
    if tier is not Tier.URGENT and (tier is Tier.CHECKIN or p_help >= thresholds.checkin):
        if p_urgent is None:
            p_urgent = trained.urgent.probability(seen)
        tier = Tier.URGENT if p_urgent >= thresholds.urgent else Tier.CHECKIN
    model_kind = trained.kind(seen) if explain or (tier and chosen is None) else None
    if tier is None:
        return Assessment(None, families, p_help, p_urgent, None, model_kind)
    kind = chosen.kind if chosen is not None else model_kind
    assert kind is not None
    return Assessment(Verdict(tier, kind), families, p_help, p_urgent, chosen, model_kind)


def assess(text: str | None) -> Verdict | None:
    """How to answer `text`: urgent help, a check-in, or None (nothing to do)."""
    if not text or text.isspace():
        return None
    return assess_with(engine(), model(), text).verdict


def is_crisis(text: str | None) -> bool:
    """Whether `text` gets urgent help or a check-in (and so must not be stored)."""
    return assess(text) is not None
