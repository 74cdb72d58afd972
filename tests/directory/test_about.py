"""About this service (issue 14 item 4): a source per fact; unsourced facts are the operator's."""

from __future__ import annotations

import pytest

from storage.directory import about_fact, about_facts, facts_to_confirm
from storage.directory.about import parse_about

HEADER = "fact_id,fact,source,confidence,operator_must_confirm\n"


def test_the_facts_the_about_text_needs_are_there_with_sources() -> None:
    ids = {f.fact_id for f in about_facts()}
    needed = {"runs_pilot", "providers", "mentor_employer", "mentor_helps_with", "started"}
    assert needed | {"referral_route", "end_date", "voluntary"} <= ids
    assert all(f.source for f in about_facts())
    assert "Department for Work and Pensions" in about_fact("runs_pilot").fact
    for provider in ("Change Grow Live", "The Growth Company", "Inclusion", "The Wallich"):
        assert provider in about_fact("providers").fact
    assert "May 2023" in about_fact("started").fact
    assert "work coach" in about_fact("referral_route").fact


def test_what_no_source_says_is_left_to_the_operator() -> None:
    confirm = {f.fact_id for f in facts_to_confirm()}
    assert {"end_date", "voluntary", "mentor_employer", "who_runs_this_bot"} <= confirm
    for fact in about_facts():
        if fact.source.startswith("no source"):
            assert fact.operator_must_confirm, fact.fact_id
    assert not about_fact("runs_pilot").operator_must_confirm


def test_loader_refuses_facts_without_a_source_or_confirmation() -> None:
    with pytest.raises(ValueError, match="has no source"):
        parse_about(HEADER + "x,A fact.,,high,no\n")
    with pytest.raises(ValueError, match="operator must confirm"):
        parse_about(HEADER + "x,A fact.,no source found,none,no\n")
    with pytest.raises(ValueError, match="duplicate"):
        parse_about(HEADER + "x,A.,s,high,no\nx,B.,s,high,no\n")
    with pytest.raises(ValueError, match="yes or no"):
        parse_about(HEADER + "x,A.,s,high,maybe\n")
    with pytest.raises(KeyError):
        about_fact("nothing")
