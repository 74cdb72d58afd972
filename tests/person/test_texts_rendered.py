"""Plain language as people see it, in every shipped language: the finder's and support's
answers rendered with real values (every offered office, every pilot authority, every
kept postcode, every service in every pilot area and one outside, every topic) and About
this service, each message said through the language's catalog and scored as a whole
with its Flesch formula (reading ease at least 60, as tests/person/test_texts.py asks of
the catalog's templates).
"""

from __future__ import annotations

import csv
from collections.abc import Iterator
from pathlib import Path

import pytest

from bot.settings import Settings
from conversations import i18n
from conversations.person import about, jobcentre, support
from storage.directory import (
    AreaLookup,
    all_offices,
    all_services,
    answer_for_authority,
    answer_for_office,
    locate_text,
    pilot_answer,
    pilot_authorities,
)
from tests.support.ops import OperatorTexts
from tests.support.reading import MIN_READING_EASE, SHIPPED, prose, reading_ease

POSTCODES = Path(__file__).parents[1] / "directory" / "pilot_postcodes.csv"
# Answers to the disclosure questions that bring the most services into the list.
EVERYTHING = {
    "substances": "alcohol,opioids,crack_cocaine,cannabis,prescription,other",
    "needs": "peer_mentor,treatment,work,information",
    "support": "treatment_service,gp,mutual_aid",
}
OPERATOR: OperatorTexts = {
    "voluntary_policy": "Talking to a mentor is your choice. It does not change your claim.",
    "mentor_employer": "Mentors are employed by the pilot's providers.",
    "pilot_end": "The pilot ends in March 2026.",
    "operator_line": "First Step is run by a small team for the pilot's providers.",
}


def postcodes() -> list[str]:
    with POSTCODES.open(encoding="utf-8") as handle:
        rows = csv.DictReader(line for line in handle if not line.startswith("#"))
        return [row["postcode"] for row in rows]


def finder_messages() -> Iterator[tuple[str, str]]:
    for office in all_offices():
        answer = answer_for_office(office.office_id)
        if office.offered and answer is not None:
            for reply in jobcentre.office_replies(office, answer):
                yield f"office {office.office_id}", reply.text
    for found in pilot_authorities():
        by_authority = answer_for_authority(found.code)
        assert by_authority is not None
        for reply in jobcentre.answer_replies(by_authority):
            yield f"authority {found.name}", reply.text
    for postcode in [*postcodes(), "G1 1AA"]:
        lookup = locate_text(postcode)
        assert isinstance(lookup, AreaLookup), postcode
        for reply in jobcentre.answer_replies(pilot_answer(lookup)):
            yield f"postcode {postcode}", reply.text


def support_messages() -> Iterator[tuple[str, str]]:
    areas: list[str | None] = [a.name for a in pilot_authorities()]
    for area in [*areas, "Southwark", None]:
        for answers in ({}, EVERYTHING):
            for reply in support.support_replies(answers, area):
                yield f"support {area} {bool(answers)}", reply.text
    for topic in support.TOPICS:
        for reply in support.topic_replies(topic):
            yield f"topic {topic.value}", reply.text


def messages(locale: str) -> list[tuple[str, str]]:
    """Every distinct message in `locale`, with where it came from."""
    settings = Settings(_env_file=None, **OPERATOR)
    found: dict[str, str] = {}
    with i18n.using(locale):
        for name, text in [
            *finder_messages(),
            *support_messages(),
            ("about", about.about_text(settings)),
        ]:
            found.setdefault(text, name)
    return [(name, text) for text, name in found.items()]


BY_LANGUAGE = {locale: messages(locale) for locale in SHIPPED}
MESSAGES = [(locale, name, text) for locale in SHIPPED for name, text in BY_LANGUAGE[locale]]


@pytest.mark.parametrize("locale", SHIPPED)
def test_every_service_and_office_is_in_what_was_scored(locale: str) -> None:
    said = "\n".join(text for _, text in BY_LANGUAGE[locale])
    for service in all_services():
        if support.listed(service):
            assert service.name in said, service.service_id
    for office in all_offices():
        if office.offered:
            assert office.address in said, office.office_id
    assert len(BY_LANGUAGE[locale]) > 150


@pytest.mark.parametrize(
    ("locale", "name", "text"), MESSAGES, ids=[f"{loc}-{name}" for loc, name, _ in MESSAGES]
)
def test_rendered_messages_read_easily(locale: str, name: str, text: str) -> None:
    readable = prose(text)
    if len(readable.split()) <= 4:
        pytest.skip("a label, scored by syllables in test_texts.py")
    score = reading_ease(readable, locale)
    assert score >= MIN_READING_EASE, f"{locale} {name} scores {score}: {text!r}"
