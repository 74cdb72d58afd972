"""The crisis check measured on the labelled corpus (tests/crisis/corpus/README.md).

The frozen test part is the measured result: nothing is tuned on it, and only its
aggregate figures are asserted here (a failure prints figures, never a message). The
figures are recorded in README ("Crisis check"); `firststep crisis eval` prints them
with every miss and false alarm.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from conversations.safety.check import assess
from conversations.safety.evaluation import TARGETS, Evaluation, evaluate, load_corpus
from conversations.safety.kinds import Kind, Tier

CORPUS = Path(__file__).parent / "corpus"


@pytest.fixture(scope="module")
def frozen() -> Evaluation:
    return evaluate(load_corpus(CORPUS / "frozen_test.jsonl"), assess)


def test_the_corpus_parts_are_as_its_readme_says() -> None:
    dev = load_corpus(CORPUS / "dev.jsonl")
    test = load_corpus(CORPUS / "frozen_test.jsonl")
    assert (len(dev), len(test)) == (4734, 941)
    assert not {e.id for e in dev} & {e.id for e in test}, "the parts never share a message"
    for part in (dev, test):
        assert {e.kind for e in part if e.needs_help} == {
            Kind.OVERDOSE,
            Kind.MIXING,
            Kind.WITHDRAWAL,
            Kind.SUICIDE_SELF_HARM,
            Kind.PHYSICAL,
            Kind.THREAT,
            Kind.CHILD,
        }
        assert {e.tier for e in part if e.needs_help} == set(Tier)


def test_frozen_figures_do_not_slip(frozen: Evaluation) -> None:
    """What the shipped check measured on the frozen part in round 4 (2026-12-07 23:47 UTC:
    93.5%, 83.2%, 1.3% and 8.3%; round 2's were 92.0%, 82.3%, 1.7% and 9.4%; README,
    "Crisis check"), as a floor a change must not go below."""
    headline = frozen.headline()
    assert headline.help_any >= 0.93
    assert headline.urgent_urgent >= 0.83
    assert headline.ordinary_urgent <= 0.015
    assert headline.ordinary_any <= 0.085


@pytest.mark.xfail(
    strict=True,
    reason="issue 11's targets are not all met yet: README, 'Crisis check', has the figures",
)
def test_frozen_meets_the_issue_targets(frozen: Evaluation) -> None:
    met = frozen.headline().meets(TARGETS)
    assert all(met.values()), {name: ok for name, ok in met.items()}


def test_an_unseen_writer_is_judged_as_the_frozen_part_is() -> None:
    """Writer G (tests/crisis/corpus/unseen_g.jsonl, 507 messages in voices no other writer
    used) was held apart while the check was tuned and run once at the end of rounds 2, 3
    and 4 (the shipped check, round 4, 2026-12-07 23:47 UTC: 91.1%, 86.3%, 2.7% and 8.9%;
    round 2's: 91.5%, 86.3%, 2.3% and 8.5%, one message apart on each of three; README,
    "Crisis check"). Like the frozen part it is never tuned on; these floors keep a change
    from quietly undoing it."""
    unseen = load_corpus(CORPUS / "unseen_g.jsonl")
    assert len(unseen) == 507
    assert {e.id[0] for e in unseen} == {"G"}
    headline = evaluate(unseen, assess).headline()
    assert headline.help_any >= 0.91
    assert headline.urgent_urgent >= 0.86
    assert headline.ordinary_urgent <= 0.03
    assert headline.ordinary_any <= 0.09
