"""The kept lists: 228 place names and 60 postcodes in and around the pilot areas
(frozen), and the development list of 42 other place names the gazetteer is tuned on.

Each list says its source in its header; none comes from the gazetteer's sources.
"""

from __future__ import annotations

import csv
from pathlib import Path

import pytest

from storage.directory import PlaceError, locate_text, pilot_answer

HERE = Path(__file__).parent


def _rows(name: str) -> list[dict[str, str]]:
    with (HERE / name).open(encoding="utf-8") as handle:
        return list(csv.DictReader(line for line in handle if not line.startswith("#")))


PLACES = _rows("pilot_places.csv")
DEV_PLACES = _rows("dev_places.csv")
POSTCODES = _rows("pilot_postcodes.csv")


def _landing(name: str, expected: str) -> str:
    found = locate_text(name)
    if isinstance(found, PlaceError):
        return "unknown"
    names = [a.name for a in found.authorities]
    if names == [expected]:
        return "decided"
    if expected in names:
        return "asked"  # several candidates, the right one among them: the bot asks
    if len(names) == 1:
        return "wrong"  # decided for another authority: the error that must never happen
    # Asked among others ("Upton": Wirral or Cheshire West?), or only "Did you mean":
    # a miss the person can answer "none of these" to, counted against the target.
    return "asked_without" if names else "suggested"


def test_the_lists_are_the_promised_size_and_cover_every_pilot_authority() -> None:
    assert len(PLACES) >= 150
    assert len(POSTCODES) == 60
    pilot = {r["authority"] for r in POSTCODES if r["in_pilot"] == "yes"}
    assert len(pilot) == 19
    assert sum(r["in_pilot"] == "no" for r in POSTCODES) >= 25
    assert all(r["source"] for r in PLACES)


def test_the_dev_list_is_separate_from_the_frozen_list_and_sourced() -> None:
    """dev_places.csv is what the gazetteer is tuned on; pilot_places.csv stays a check."""
    frozen = {r["name"].casefold() for r in PLACES}
    assert len(DEV_PLACES) >= 40
    assert not [r["name"] for r in DEV_PLACES if r["name"].casefold() in frozen]
    assert all(r["source"] and r["authority"] for r in DEV_PLACES)


def test_no_place_name_is_ever_decided_for_the_wrong_authority() -> None:
    wrong = [r["name"] for r in PLACES if _landing(r["name"], r["authority"]) == "wrong"]
    assert wrong == []


def test_95_percent_of_the_places_land_in_their_authority() -> None:
    """Decided, or asked about with the right authority among the choices (issue 14).

    Measured: 97.8% of 228 (164 decided, 59 asked). The 5 misses are names no open
    source used here carries as a populated place: Cambridge Heath, East Smithfield,
    Isle of Dogs, Piccadilly (a street) and Hayling Island (an island, not a
    settlement, in OS Open Names). The list is frozen: the gazetteer was tuned on
    tests/directory/dev_places.csv, never on this list (README)."""
    landed = [_landing(r["name"], r["authority"]) in ("decided", "asked") for r in PLACES]
    assert sum(landed) / len(landed) >= 0.95


@pytest.mark.parametrize("row", POSTCODES, ids=[r["postcode"] for r in POSTCODES])
def test_every_listed_postcode_is_in_or_out_of_the_pilot_as_its_authority_is(
    row: dict[str, str],
) -> None:
    found = locate_text(row["postcode"])
    assert not isinstance(found, PlaceError), row
    assert [a.name for a in found.authorities] == [row["authority"]]
    answer = pilot_answer(found)
    assert answer.in_pilot is (row["in_pilot"] == "yes")
    if answer.in_pilot:
        assert answer.offices and all(m.office.offered for m in answer.offices)
        assert all(m.office.local_authority == row["authority"] for m in answer.offices)
    else:
        assert answer.offices == ()
