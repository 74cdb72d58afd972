"""The pilot-membership API: by authority, never by distance; honest distances."""

from __future__ import annotations

import pytest

from storage.directory import (
    MAX_CROW_MILES,
    Place,
    PlaceError,
    PlaceKind,
    PlaceQuery,
    answer_for_office,
    crow_miles,
    locate_point,
    locate_text,
    lookup_name,
    pilot_answer,
    search_offices,
)
from storage.directory.authorities import authorities_of, parse_authorities
from storage.directory.places import add_shared_names


def _lookup(text: str):  # type: ignore[no-untyped-def]
    found = locate_text(text)
    assert not isinstance(found, PlaceError), text
    return found


@pytest.mark.parametrize(
    ("text", "authority"),
    [
        ("Walton Vale", "Liverpool"),
        ("Bootle", "Sefton"),
        ("Southsea", "Portsmouth"),
        ("Huyton", "Knowsley"),
        ("Stepney Green", "Tower Hamlets"),
        ("Mayfair", "Westminster"),
        ("Bow Common", "Tower Hamlets"),  # OS Open Names (suburban area)
        ("Stamshaw", "Portsmouth"),  # OS Open Names
        ("New Ferry", "Wirral"),  # OS Open Names
        ("Hunt's Cross", "Liverpool"),
        ("Newtonlewillows", "St Helens"),  # spaces ignored when nothing else matches
        ("Kingston-on-Hull", "Kingston upon Hull"),
    ],
)
def test_neighbourhoods_land_in_their_authority(text: str, authority: str) -> None:
    assert [a.name for a in _lookup(text).authorities] == [authority]


@pytest.mark.parametrize(
    ("text", "authorities"),
    [
        ("Stepney", {"Tower Hamlets", "Kingston upon Hull"}),  # a suburb of Hull too
        ("Buckland", {"Portsmouth", "Dover"}),  # a suburb elsewhere shares the name
        ("Somerstown", {"Portsmouth", "Camden"}),  # "Somers Town" in both
        ("Covent Garden", {"Westminster", "Camden"}),  # shared_names.csv
    ],
)
def test_a_place_name_also_found_outside_the_pilot_is_asked_pilot_first(
    text: str, authorities: set[str]
) -> None:
    found = _lookup(text)
    assert authorities <= {a.name for a in found.authorities}
    assert found.needs_choice and found.authority is None
    pilot = [p.authority.in_pilot for p in found.places]
    assert pilot == sorted(pilot, reverse=True)  # the pilot authorities' buttons first


def test_a_town_outside_the_pilot_areas_is_known_and_not_in_the_pilot() -> None:
    found = _lookup("Carlisle")
    assert [a.name for a in found.authorities] == ["Cumberland"]
    answer = pilot_answer(found)
    assert not answer.in_pilot and answer.offices == ()


def test_a_name_in_two_authorities_returns_both_and_decides_nothing() -> None:
    found = _lookup("Kensington")
    names = {a.name for a in found.authorities}
    assert {"Liverpool", "Kensington and Chelsea"} <= names
    assert found.needs_choice and found.authority is None
    with pytest.raises(ValueError, match="decided lookup"):
        pilot_answer(found)
    chosen = next(a for a in found.authorities if a.name == "Kensington and Chelsea")
    assert not pilot_answer(found, chosen.code).in_pilot


@pytest.mark.parametrize("text", ["Whalton", "Kenington", "Stepny"])
def test_a_fuzzy_match_across_authorities_is_only_a_suggestion(text: str) -> None:
    found = _lookup(text)
    assert found.authorities == () and found.places == ()
    assert found.suggestions


def test_a_one_letter_slip_within_one_authority_is_decided_and_flagged() -> None:
    found = _lookup("bootel")
    assert [a.name for a in found.authorities] == ["Sefton"]
    assert found.corrected


def test_walton_is_never_halton() -> None:
    names = [a.name for a in _lookup("Walton").authorities]
    assert "Liverpool" in names and "Halton" not in names


def test_a_straddling_sector_lists_every_authority_and_a_full_postcode_decides() -> None:
    sector = _lookup("HU12 8")
    assert {a.name for a in sector.authorities} == {
        "Kingston upon Hull",
        "East Riding of Yorkshire",
    }
    assert [a.name for a in _lookup("HU12 8YJ").authorities] == ["Kingston upon Hull"]
    assert [a.name for a in _lookup("HU12 8AA").authorities] == ["East Riding of Yorkshire"]
    assert "8YJ" not in repr(_lookup("HU12 8YJ")) and "HU12" not in repr(_lookup("HU12 8YJ"))
    assert authorities_of("ZZ9 9") == ()


def test_towns_get_no_distance_and_postcodes_get_whole_crow_miles() -> None:
    town = pilot_answer(_lookup("Bootle"))
    assert town.in_pilot and all(m.miles is None for m in town.offices)
    postcode = pilot_answer(_lookup("L20 3PN"))
    assert postcode.offices[0].office.office_id == "bootle-stanley-road"
    assert all(
        m.miles is not None and m.miles >= 1 and m.miles == int(m.miles) for m in postcode.offices
    )
    district = pilot_answer(_lookup("PO1"))
    assert all(m.miles is None for m in district.offices)


def test_outside_the_nearest_office_is_information_and_never_far() -> None:
    near = pilot_answer(_lookup("SE1 0AA"))  # Southwark (pilot_postcodes.csv)
    assert not near.in_pilot and near.offices == ()
    assert near.nearest_pilot_office is not None
    far = pilot_answer(_lookup("G1 1AA"))  # Glasgow
    assert not far.in_pilot and far.nearest_pilot_office is None
    assert crow_miles(MAX_CROW_MILES + 1) is None and crow_miles(0.2) == 1.0


def test_a_shared_location_near_a_boundary_is_asked_about() -> None:
    inside = locate_point(53.7446, -0.3352)  # Hull city centre
    assert inside.kind is PlaceKind.LOCATION
    assert [a.name for a in inside.authorities] == ["Kingston upon Hull"]
    assert "53.74" not in repr(inside)


def test_jobcentre_search_by_name_and_the_unverified_cosham_office() -> None:
    assert [o.office_id for o in search_offices("Kentish Town").offices] == ["kentish-town-road"]
    assert "bootle-stanley-road" in {
        o.office_id for o in search_offices("bootle jobcentre").offices
    }
    cosham = search_offices("Cosham")
    assert cosham.area_office_unverified
    assert cosham.offices and all(
        o.offered and o.local_authority == "Portsmouth" for o in cosham.offices
    )
    assert search_offices("Kentsh Town").offices == ()
    assert search_offices("Kentsh Town").suggestions
    answer = answer_for_office("kentish-town-road")
    assert answer is not None and answer.in_pilot
    assert answer_for_office("cosham-high-street") is None


def test_the_authority_loader_refuses_bad_rows() -> None:
    header = "code,name,ons_name,region,pilot,gazetteer\n"
    with pytest.raises(ValueError, match="bad or duplicate"):
        parse_authorities(header + "E1,X,X,R,yes,yes\n")
    with pytest.raises(ValueError, match="yes or no"):
        parse_authorities(header + "E08000012,X,X,R,maybe,yes\n")


def test_a_name_across_a_boundary_is_asked_about_and_apostrophes_do_not_matter() -> None:
    """King's Cross lies in Camden and Islington (shared_names.csv); typed without
    its apostrophe it is the same place."""
    for text in ("King's Cross", "Kings Cross", "kings cross"):
        found = locate_text(text)
        assert not isinstance(found, PlaceError), text
        assert {a.name for a in found.authorities} == {"Camden", "Islington"}, text
        assert found.needs_choice


def test_shared_names_need_a_source_and_a_known_name() -> None:
    names = {"kings cross": [next(iter(_kings_cross()))]}
    with pytest.raises(ValueError, match="bad row"):
        add_shared_names(names, "name,also_in,source\nKing's Cross,E09000019,\n")
    with pytest.raises(ValueError, match="bad row"):
        add_shared_names(names, "name,also_in,source\nNowhere,E09000019,a source\n")
    add_shared_names(names, "name,also_in,source\nKing's Cross,E09000019,a source\n")
    assert [p.authority.name for p in names["kings cross"]] == ["Camden", "Islington"]


def _kings_cross() -> tuple[Place, ...]:
    query = lookup_name("King's Cross")
    assert isinstance(query, PlaceQuery)
    return tuple(p for p in query.places if p.authority.name == "Camden")
