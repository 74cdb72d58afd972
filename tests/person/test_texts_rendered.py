"""Plain language as people see it, in every shipped language: the finder's and support's
answers rendered with real values (every offered office, every pilot authority, every
kept postcode, every place name of the kept lists as typed and misspelt, every service in
every pilot area and one outside, every topic) and About this service, each message said
through the language's catalog and scored as a whole with its Flesch formula (reading
ease at least 60, as tests/person/test_texts.py asks of the catalog's templates).
"""

from __future__ import annotations

import csv
from collections.abc import Iterator
from pathlib import Path

import pytest

from bot.settings import Settings
from conversations import i18n, texts
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

DIRECTORY_TESTS = Path(__file__).parents[1] / "directory"
POSTCODES = DIRECTORY_TESTS / "pilot_postcodes.csv"
# The place names people type (the frozen list and the dev list), as typed and with a
# one-letter slip, so questions and corrections are scored with real names.
PLACE_LISTS = (DIRECTORY_TESTS / "pilot_places.csv", DIRECTORY_TESTS / "dev_places.csv")
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


def place_names() -> list[str]:
    names: list[str] = []
    for path in PLACE_LISTS:
        with path.open(encoding="utf-8") as handle:
            rows = csv.DictReader(line for line in handle if not line.startswith("#"))
            names.extend(row["name"] for row in rows)
    return names


def place_messages() -> Iterator[tuple[str, str]]:
    """What the finder says to a typed place name: the answer (with "I took that to
    mean …" after a slip), "… is in more than one council area", or "Did you mean"."""
    for name in place_names():
        for typed in (name, name + name[-1]):
            lookup = locate_text(typed)
            if not isinstance(lookup, AreaLookup):
                continue
            if lookup.authority is not None:
                corrected = lookup.places[0] if lookup.corrected and lookup.places else None
                answer = pilot_answer(lookup)
                for reply in jobcentre.answer_replies(answer, corrected=corrected):
                    yield f"place {typed}", reply.text
            elif lookup.places:
                place = lookup.places[0].name
                yield f"place {typed}", i18n._(texts.FINDER_WHICH_PLACE).format(place=place)
            else:
                yield f"place {typed}", i18n._(texts.FINDER_DID_YOU_MEAN)


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
            *place_messages(),
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
