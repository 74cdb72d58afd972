"""Measuring the crisis check on the labelled corpus (tests/crisis/corpus/).

`firststep crisis eval` prints, for a part of the corpus: the four headline figures
against their targets; precision, recall and false-alarm rate per kind and per tier;
the false-alarm rate per kind of ordinary talk; and every miss and every false alarm.
The test on the frozen part asserts the targets from the same figures.

Definitions (a *reply* is the urgent reply or the check-in):

* recall, help: help messages that got a reply; urgent recall: messages labelled urgent
  that got the urgent reply; check-in recall: messages labelled check-in that got a reply;
* false-alarm rate: ordinary messages that got a reply (or, per tier, that reply);
* precision of a kind or tier: of the messages that got a reply of that kind or tier, the
  share that needed help; "as labelled": the share labelled with that very kind or tier.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Final

from conversations.safety.check import Verdict
from conversations.safety.kinds import Kind, Tier

__all__ = [
    "TARGETS",
    "Evaluation",
    "Example",
    "Headline",
    "evaluate",
    "load_corpus",
]

HELP: Final = "help"
ORDINARY: Final = "ordinary"


@dataclass(frozen=True, slots=True)
class Targets:
    help_any: float = 0.97  # help messages that get the urgent reply or the check-in
    urgent_urgent: float = 0.90  # messages labelled urgent that get the urgent reply
    ordinary_urgent: float = 0.02  # ordinary messages that get the urgent reply (at most)
    ordinary_any: float = 0.06  # ordinary messages that get any crisis reply (at most)


TARGETS: Final = Targets()


@dataclass(frozen=True, slots=True)
class Example:
    """One labelled message of the corpus."""

    text: str
    label: str
    kind: Kind | None
    tier: Tier | None
    category: str | None
    author: str
    id: str
    pair: str | None

    @property
    def needs_help(self) -> bool:
        return self.label == HELP


def load_corpus(path: Path) -> list[Example]:
    """Read a JSON Lines part of the corpus, checking every line's labels."""
    examples: list[Example] = []
    with path.open(encoding="utf-8") as file:
        for number, line in enumerate(file, 1):
            if not line.strip():
                continue
            row = json.loads(line)
            label = row.get("label")
            if label not in (HELP, ORDINARY) or not isinstance(row.get("text"), str):
                raise ValueError(f"{path.name}:{number}: needs text and label help/ordinary")
            help_ = label == HELP
            examples.append(
                Example(
                    text=row["text"],
                    label=label,
                    kind=Kind(row["kind"]) if help_ else None,
                    tier=Tier(row["tier"]) if help_ else None,
                    category=None if help_ else str(row["category"]),
                    author=str(row.get("author", "")),
                    id=str(row.get("id", number)),
                    pair=row.get("pair"),
                )
            )
    return examples


def _rate(part: int, whole: int) -> float:
    return part / whole if whole else 0.0


def _pct(value: float) -> str:
    return f"{100 * value:5.1f}%"


@dataclass(frozen=True, slots=True)
class Headline:
    help_total: int
    help_any: float
    urgent_total: int
    urgent_urgent: float
    checkin_total: int
    checkin_any: float
    ordinary_total: int
    ordinary_urgent: float
    ordinary_any: float

    def meets(self, targets: Targets = TARGETS) -> dict[str, bool]:
        return {
            "help_any": self.help_any >= targets.help_any,
            "urgent_urgent": self.urgent_urgent >= targets.urgent_urgent,
            "ordinary_urgent": self.ordinary_urgent <= targets.ordinary_urgent,
            "ordinary_any": self.ordinary_any <= targets.ordinary_any,
        }


@dataclass(frozen=True, slots=True)
class Evaluation:
    """Every example with the verdict it got."""

    scored: tuple[tuple[Example, Verdict | None], ...]

    def _help(self) -> list[tuple[Example, Verdict | None]]:
        return [(e, v) for e, v in self.scored if e.needs_help]

    def _ordinary(self) -> list[tuple[Example, Verdict | None]]:
        return [(e, v) for e, v in self.scored if not e.needs_help]

    def headline(self) -> Headline:
        helped, ordinary = self._help(), self._ordinary()
        urgent = [(e, v) for e, v in helped if e.tier is Tier.URGENT]
        checkin = [(e, v) for e, v in helped if e.tier is Tier.CHECKIN]
        return Headline(
            help_total=len(helped),
            help_any=_rate(sum(v is not None for _, v in helped), len(helped)),
            urgent_total=len(urgent),
            urgent_urgent=_rate(
                sum(v is not None and v.tier is Tier.URGENT for _, v in urgent), len(urgent)
            ),
            checkin_total=len(checkin),
            checkin_any=_rate(sum(v is not None for _, v in checkin), len(checkin)),
            ordinary_total=len(ordinary),
            ordinary_urgent=_rate(
                sum(v is not None and v.tier is Tier.URGENT for _, v in ordinary), len(ordinary)
            ),
            ordinary_any=_rate(sum(v is not None for _, v in ordinary), len(ordinary)),
        )

    def misses(self) -> list[tuple[Example, Verdict | None]]:
        """Help messages with no reply, and urgent ones that only got the check-in."""
        return [
            (e, v)
            for e, v in self._help()
            if v is None or (e.tier is Tier.URGENT and v.tier is not Tier.URGENT)
        ]

    def false_alarms(self) -> list[tuple[Example, Verdict]]:
        return [(e, v) for e, v in self._ordinary() if v is not None]

    # -- tables ---------------------------------------------------------------------------

    def by_kind(self) -> list[str]:
        ordinary = self._ordinary()
        lines = [
            "kind                   help  recall  urgent recall  precision  as labelled  "
            "false alarms"
        ]
        for kind in Kind:
            labelled = [(e, v) for e, v in self._help() if e.kind is kind]
            urgent = [(e, v) for e, v in labelled if e.tier is Tier.URGENT]
            predicted = [(e, v) for e, v in self.scored if v is not None and v.kind is kind]
            if not labelled and not predicted:
                continue
            alarms = sum(v is not None and v.kind is kind for _, v in ordinary)
            lines.append(
                f"{kind.value:<20} {len(labelled):>6}  "
                f"{_pct(_rate(sum(v is not None for _, v in labelled), len(labelled)))}  "
                f"{_pct(_rate(sum(v is not None and v.tier is Tier.URGENT for _, v in urgent), len(urgent))):>13}  "  # noqa: E501
                f"{_pct(_rate(sum(e.needs_help for e, _ in predicted), len(predicted))):>9}  "
                f"{_pct(_rate(sum(e.kind is kind for e, _ in predicted), len(predicted))):>11}  "
                f"{_pct(_rate(alarms, len(ordinary))):>12}"
            )
        return lines

    def by_tier(self) -> list[str]:
        ordinary = self._ordinary()
        lines = ["tier        labelled  recall  replied  precision  as labelled  false alarms"]
        for tier in Tier:
            labelled = [(e, v) for e, v in self._help() if e.tier is tier]
            if tier is Tier.URGENT:
                recalled = sum(v is not None and v.tier is Tier.URGENT for _, v in labelled)
            else:
                recalled = sum(v is not None for _, v in labelled)
            predicted = [(e, v) for e, v in self.scored if v is not None and v.tier is tier]
            alarms = sum(v is not None and v.tier is tier for _, v in ordinary)
            lines.append(
                f"{tier.value:<10} {len(labelled):>9}  {_pct(_rate(recalled, len(labelled)))}  "
                f"{len(predicted):>7}  "
                f"{_pct(_rate(sum(e.needs_help for e, _ in predicted), len(predicted))):>9}  "
                f"{_pct(_rate(sum(e.tier is tier for e, _ in predicted), len(predicted))):>11}  "
                f"{_pct(_rate(alarms, len(ordinary))):>12}"
            )
        return lines

    def by_category(self) -> list[str]:
        ordinary = self._ordinary()
        categories = sorted({e.category or "" for e, _ in ordinary})
        lines = ["ordinary category      messages  any reply  urgent reply"]
        for category in categories:
            part = [(e, v) for e, v in ordinary if e.category == category]
            replied = sum(v is not None for _, v in part)
            urgent = sum(v is not None and v.tier is Tier.URGENT for _, v in part)
            lines.append(
                f"{category:<22} {len(part):>8}  {_pct(_rate(replied, len(part))):>9}  "
                f"{_pct(_rate(urgent, len(part))):>12}"
            )
        return lines

    def summary(self, targets: Targets = TARGETS) -> list[str]:
        h = self.headline()
        met = h.meets(targets)

        def mark(key: str) -> str:
            return "met" if met[key] else "NOT MET"

        return [
            f"help messages get a reply:          {_pct(h.help_any)} of {h.help_total}"
            f"   (target ≥ {targets.help_any:.0%}: {mark('help_any')})",
            f"urgent-labelled get urgent:         {_pct(h.urgent_urgent)} of {h.urgent_total}"
            f"   (target ≥ {targets.urgent_urgent:.0%}: {mark('urgent_urgent')})",
            f"check-in-labelled get a reply:      {_pct(h.checkin_any)} of {h.checkin_total}",
            f"ordinary get the urgent reply:      {_pct(h.ordinary_urgent)} of "
            f"{h.ordinary_total}   (target ≤ {targets.ordinary_urgent:.0%}: "
            f"{mark('ordinary_urgent')})",
            f"ordinary get any crisis reply:      {_pct(h.ordinary_any)} of "
            f"{h.ordinary_total}   (target ≤ {targets.ordinary_any:.0%}: {mark('ordinary_any')})",
        ]

    def report(self, *, with_messages: bool) -> str:
        """The tables, and (when asked) every miss and false alarm with its text."""
        lines = [
            *self.summary(),
            "",
            *self.by_tier(),
            "",
            *self.by_kind(),
            "",
            *self.by_category(),
        ]
        if with_messages:
            lines += ["", f"Misses ({len(self.misses())}):"]
            for example, verdict in self.misses():
                got = f"{verdict.tier.value}/{verdict.kind.value}" if verdict else "nothing"
                lines.append(
                    f"  [{example.tier}/{example.kind}] got {got}: {_one_line(example.text)}"
                )
            lines += ["", f"False alarms ({len(self.false_alarms())}):"]
            for example, verdict in self.false_alarms():
                lines.append(
                    f"  [{example.category}] got {verdict.tier.value}/{verdict.kind.value}: "
                    f"{_one_line(example.text)}"
                )
        return "\n".join(lines)


def _one_line(text: str) -> str:
    return " ".join(text.split())


def evaluate(examples: Iterable[Example], classify: Callable[[str], Verdict | None]) -> Evaluation:
    return Evaluation(tuple((e, classify(e.text)) for e in examples))
