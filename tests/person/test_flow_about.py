"""About this service (issue 14 item 4): from the menu, /about and /help.

Every sentence it says is a fact of storage/directory/about.csv (no number, date or name
that its source does not give) or a text the operator set; nothing the operator must
confirm is said from the catalog; `firststep run` will not start without the texts only
the operator can confirm.
"""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from bot.sandbox.serve import SANDBOX_SAMPLE_TEXTS, sandbox_settings
from bot.settings import ENV_PREFIX, REQUIRED_OPERATOR_TEXTS, Settings
from conversations import texts
from conversations.person.about import OPERATOR_TEXTS, about_text
from storage.crypto import KeyRing
from storage.directory import about_fact, about_facts, facts_to_confirm
from tests.support.harness import Harness
from tests.support.ops import OperatorTexts

ALEX = 7_700_000_401
OPERATOR: OperatorTexts = {
    "voluntary_policy": "Talking to a mentor is your choice. It does not change your claim.",
    "mentor_employer": "Mentors are employed by the pilot's providers.",
    "pilot_end": "The pilot ends in March 2026.",
    "operator_line": "First Step is run by Example Trust for the pilot's providers.",
}
# Words that start a sentence are not names; everything else capitalised must be in the source.
_SENTENCE_START = re.compile(r"(?:^|[.:!?]\s+)([A-Z][\w']*)")


def claims(sentence: str) -> set[str]:
    """Numbers and names in a sentence: what must come from the source."""
    starts = {m.group(1) for m in _SENTENCE_START.finditer(sentence)}
    words = set(re.findall(r"[A-Z][A-Za-z]+|\d[\d,.]*\d|\d", sentence))
    return {w.rstrip(".,").removesuffix("'s") for w in words - starts}


@pytest.mark.parametrize("fact_id", list(texts.ABOUT_FACTS))
def test_every_sentence_says_a_sourced_fact_and_adds_nothing(fact_id: str) -> None:
    fact = about_fact(fact_id)  # KeyError: not a fact of about.csv
    assert not fact.operator_must_confirm, "a fact to confirm is a setting, not catalog text"
    said = texts.ABOUT_FACTS[fact_id]
    missing = {word for word in claims(said) if word not in fact.fact}
    assert missing == set(), f"{fact_id} says {missing} that its source does not"


def test_the_sourcing_check_catches_an_invented_fact() -> None:
    """The check above fails for a sentence that adds a date or a name."""
    source = about_fact("started").fact
    invented = "The pilot opened in June 2022, in 40 Jobcentres in Scotland."
    assert {w for w in claims(invented) if w not in source} == {"June", "2022", "Scotland"}


def test_what_the_operator_must_confirm_is_a_setting() -> None:
    to_confirm = {fact.fact_id for fact in facts_to_confirm()}
    assert to_confirm.isdisjoint(texts.ABOUT_FACTS)
    # Each confirmable fact the About text speaks of has its setting.
    speaks_of = {"voluntary": "voluntary_policy", "mentor_employer": "mentor_employer"}
    speaks_of |= {"end_date": "pilot_end", "who_runs_this_bot": "operator_line"}
    assert set(speaks_of) <= to_confirm
    assert set(speaks_of.values()) == set(OPERATOR_TEXTS)
    assert set(REQUIRED_OPERATOR_TEXTS) >= {"voluntary_policy", "mentor_employer"}
    every_part = {part for parts in texts.ABOUT_PARAGRAPHS for part in parts}
    assert every_part == set(texts.ABOUT_FACTS) | set(OPERATOR_TEXTS)
    assert {f.fact_id for f in about_facts()} >= set(texts.ABOUT_FACTS)


def test_the_required_texts_are_refused_empty_and_named_in_one_line(tmp_path: Path) -> None:
    base = {"_env_file": None, "telegram_token": "123456:" + "A" * 30}
    for field in REQUIRED_OPERATOR_TEXTS:
        values = {**OPERATOR, "safeguarding_policy": "S.", field: "  "}
        problem = Settings(**base, **values).unconfirmed_text()  # type: ignore[arg-type]
        assert problem is not None and "\n" not in problem
        assert f"{ENV_PREFIX}{field.upper()} is empty" in problem
    confirmed = {**OPERATOR, "safeguarding_policy": "S."}
    assert Settings(**base, **confirmed).unconfirmed_text() is None  # type: ignore[arg-type]
    # The sandbox says a marked sample instead.
    sandbox = sandbox_settings(Settings(_env_file=None), tmp_path, "http://127.0.0.1:1/bot")
    assert sandbox.unconfirmed_text() is None
    assert sandbox.voluntary_policy == SANDBOX_SAMPLE_TEXTS["voluntary_policy"]
    assert all(sample.startswith("Sandbox sample:") for sample in SANDBOX_SAMPLE_TEXTS.values())


@pytest.fixture
async def told(database_url: str, ring: KeyRing, tmp_path: Path) -> AsyncIterator[Harness]:
    """The bot, with the operator's texts set."""
    harness = Harness(database_url, ring, tmp_path, **OPERATOR)
    await harness.start()
    yield harness
    await harness.stop()


async def test_about_from_the_menu_says_who_what_and_that_it_is_voluntary(told: Harness) -> None:
    await told.onboard(ALEX)
    await told.press(ALEX, texts.BTN_ABOUT)
    about = told.last_text(ALEX)
    assert about.startswith(texts.ABOUT_HEADING)
    operator = (
        OPERATOR["voluntary_policy"],
        OPERATOR["mentor_employer"],
        OPERATOR["pilot_end"],
        OPERATOR["operator_line"],
    )
    for sentence in (*texts.ABOUT_FACTS.values(), *operator):
        assert sentence in about
    assert "Department for Work and Pensions" in about  # who runs the pilot
    assert "employed by the pilot's providers" in about
    assert "does not change your claim" in about  # voluntary, no effect on a claim
    assert "May 2023" in about and "February 2025" in about  # when it ran
    assert texts.BTN_MENU in told.emu.button_texts(ALEX)


async def test_about_from_help_and_before_the_notice(told: Harness) -> None:
    await told.send(ALEX, "/about")  # someone deciding whether to trust us
    assert told.last_text(ALEX).startswith(texts.ABOUT_HEADING)
    assert await told.record(ALEX) is None, "reading it keeps nothing"
    await told.onboard(ALEX)
    await told.send(ALEX, "/help")
    assert "/about" in told.last_text(ALEX)
    await told.press(ALEX, texts.BTN_ABOUT)
    assert told.last_text(ALEX).startswith(texts.ABOUT_HEADING)


def test_an_empty_optional_text_is_left_out() -> None:
    settings = Settings(_env_file=None, voluntary_policy="V.", mentor_employer="M.")
    shown = about_text(settings)
    assert "\n\n\n" not in shown and not shown.endswith(" ")
    assert "V. " + texts.ABOUT_FACTS["referral_route"] in shown
