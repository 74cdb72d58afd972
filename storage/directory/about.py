"""Facts for "About this service", each with its source and whether the operator must confirm it.

Why: a person deciding whether to trust the service reads every word, so the bot
says only what a source says. ``about.csv`` holds the facts; the conversation
layer words them (and turns ``operator_must_confirm`` facts into settings).
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache
from typing import Final

from storage.directory._csv import package_text, parse_rows, yes_no

ABOUT_FILE: Final = "about.csv"


@dataclass(frozen=True, slots=True)
class AboutFact:
    """One fact: ``fact_id`` (stable key), ``fact`` (plain statement), ``source``
    (where it is written), ``confidence``, and ``operator_must_confirm``."""

    fact_id: str
    fact: str
    source: str
    confidence: str
    operator_must_confirm: bool


def parse_about(text: str) -> tuple[AboutFact, ...]:
    """Validate about.csv text: unique ids, a source for every fact."""
    facts: list[AboutFact] = []
    seen: set[str] = set()
    for row in parse_rows(text):
        fid = row["fact_id"]
        if not fid or fid in seen:
            raise ValueError(f"{ABOUT_FILE}: bad or duplicate fact_id {fid!r}")
        if not row["source"]:
            raise ValueError(f"{ABOUT_FILE}: {fid} has no source")
        unsourced = row["source"].startswith("no source")
        if unsourced and row["operator_must_confirm"] != "yes":
            raise ValueError(f"{ABOUT_FILE}: {fid} has no source, so the operator must confirm it")
        seen.add(fid)
        facts.append(
            AboutFact(
                fact_id=fid,
                fact=row["fact"],
                source=row["source"],
                confidence=row["confidence"],
                operator_must_confirm=yes_no(row["operator_must_confirm"], "operator_must_confirm"),
            )
        )
    return tuple(facts)


@cache
def about_facts() -> tuple[AboutFact, ...]:
    """Every fact, in file order."""
    return parse_about(package_text(ABOUT_FILE))


def about_fact(fact_id: str) -> AboutFact:
    """One fact by its id; a missing id is a programming error, not a silent gap."""
    for fact in about_facts():
        if fact.fact_id == fact_id:
            return fact
    raise KeyError(f"{ABOUT_FILE}: no fact {fact_id!r}")


def facts_to_confirm() -> tuple[AboutFact, ...]:
    """Facts the bot may only state once the operator has confirmed them (settings)."""
    return tuple(f for f in about_facts() if f.operator_must_confirm)
