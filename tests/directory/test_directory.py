"""storage.directory: place parsing, nearest pilot Jobcentre, services, data integrity."""

from __future__ import annotations

import csv
import gzip
import io
import re
from collections.abc import Iterable
from importlib import resources
from pathlib import Path

import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st

from storage.directory import (
    MAX_CROW_MILES,
    AreaLookup,
    Charges,
    Fallback,
    Need,
    PhoneRole,
    PilotAnswer,
    PlaceError,
    PlaceErrorReason,
    PlaceKind,
    PlaceQuery,
    Service,
    ServiceKind,
    Substance,
    Topic,
    Verification,
    all_offices,
    all_services,
    charges_for,
    crisis_contacts,
    crow_miles,
    gazetteer,
    locate,
    locate_point,
    locate_text,
    office_by_id,
    offices_by_area,
    osm_link,
    parse_place,
    pilot_answer,
    postcode_table,
    services_for,
    services_on,
)
from storage.directory.geo import haversine_miles
from storage.directory.offices import nearest_exact, parse_offices
from storage.directory.places import parse_places
from storage.directory.services import parse_services

PACKAGE = resources.files("storage.directory")


def _shared_data(name: str) -> Path:
    """shared/data/<name> sits beside the project root (or a parent of a worktree)."""
    for parent in Path(__file__).resolve().parents:
        candidate = parent / "shared" / "data" / name
        if candidate.is_file():
            return candidate
    pytest.skip(f"shared/data/{name} not found beside the project")


def _csv_text(rows: Iterable[Iterable[str]]) -> str:
    out = io.StringIO()
    csv.writer(out).writerows(rows)
    return out.getvalue()


def _lookup(text: str) -> AreaLookup:
    found = locate_text(text)
    assert isinstance(found, AreaLookup), found
    return found


def _answer(text: str) -> PilotAnswer:
    return pilot_answer(_lookup(text))


def _first_id(text: str) -> str:
    return _answer(text).offices[0].office.office_id


# --- the finder ------------------------------------------------------------------------


@pytest.mark.parametrize("text", ["PO1 2AB", "po12ab", "PO1", " po1 2ab ", "PO1 2AB please"])
def test_portsmouth_postcodes_find_portsmouth_first(text: str) -> None:
    answer = _answer(text)
    assert answer.offices[0].office.office_id == "portsmouth-arundel-street"
    assert answer.in_pilot
    assert answer.authority.name == "Portsmouth"


BOOTLE = ["L20 3", "l20 3", "L203", "L20 3PN", "bootle", "BOOTLE", "bootel"]


@pytest.mark.parametrize("text", BOOTLE)
def test_bootle_first(text: str) -> None:
    assert _first_id(text) == "bootle-stanley-road"


def test_southport_by_name() -> None:
    lookup = _lookup("Southport")
    answer = pilot_answer(lookup)
    assert answer.offices[0].office.office_id == "southport-eastbank-street"
    assert answer.authority.name == "Sefton"
    assert lookup.kind is PlaceKind.NAMED and not lookup.corrected


HULL = ["hull", "Hull", "HULL", "Kingston upon Hull", "kingston-upon-hull"]


@pytest.mark.parametrize("text", HULL)
def test_hull_by_name(text: str) -> None:
    answer = _answer(text)
    assert answer.authority.name == "Kingston upon Hull"
    # Only its own authority's offices: the next offered office is ~100 miles away.
    assert [m.office.office_id for m in answer.offices] == ["hull-britannia-house"]


def test_shared_location_in_hull_city_centre() -> None:
    answer = pilot_answer(locate_point(53.7446, -0.3352))
    assert answer.offices[0].office.office_id == "hull-britannia-house"
    assert answer.in_pilot


def test_buckingham_palace_lists_westminster_nearest_first() -> None:
    answer = _answer("SW1A 1AA")
    assert answer.authority.name == "Westminster"
    assert all(m.office.local_authority == "Westminster" for m in answer.offices)
    miles = [m.miles for m in answer.offices]
    assert None not in miles and miles == sorted(m for m in miles if m is not None)


@pytest.mark.parametrize(
    ("text", "place"),
    [
        ("st helens", "St Helens"),
        ("St. Helens", "St Helens"),
        ("Saint Helens", "St Helens"),
        ("tower hamlet", "Tower Hamlets"),
        ("Tower Hamlets", "Tower Hamlets"),
        ("newton-le-willows", "Newton-le-Willows"),
        ("liverpol", "Liverpool"),
    ],
)
def test_place_names_with_typos_and_case(text: str, place: str) -> None:
    """The pilot place is found (a name also used elsewhere, like St Helens on the Isle
    of Wight, comes back with its other places: the person is asked which)."""
    lookup = _lookup(text)
    found = next(p for p in lookup.places if p.name == place)
    answer = pilot_answer(lookup, found.authority.code)
    assert answer.in_pilot
    assert answer.offices[0].office.local_authority == found.local_authority


def test_spelling_correction_is_flagged_for_confirmation() -> None:
    assert _lookup("tower hamlet").corrected
    assert not _lookup("Tower Hamlets").corrected


def test_cosham_goes_to_a_checked_nearby_office_never_a_cosham_address() -> None:
    for text in ("Cosham", "cosham", "PO6 3AB"):
        answer = _answer(text)
        assert answer.authority.name == "Portsmouth"
        if text != "PO6 3AB":  # a postcode names no pilot area: its authority decides
            assert answer.area_office_unverified, "Cosham results must be flagged to be checked"
        first = answer.offices[0].office
        assert first.office_id == "portsmouth-arundel-street"
        assert first.offered
        assert first.status == "likely_open"
        for match in answer.offices:
            assert match.office.office_id != "cosham-high-street"
            assert "Cosham" not in match.office.address
    assert not _answer("Portsmouth").area_office_unverified


@pytest.mark.parametrize("text", ["EX1 1AA", "EX1", "CH1 1AA", "M1 1AA", "SO14 1AA"])
def test_outside_the_pilot_lists_no_office_and_the_nearest_only_when_near(text: str) -> None:
    lookup = _lookup(text)
    answers = [pilot_answer(lookup, a.code) for a in lookup.authorities]  # EX1: two
    assert answers
    for answer in answers:
        _outside(answer)


def _outside(answer: PilotAnswer) -> None:
    assert not answer.in_pilot
    assert answer.offices == ()
    assert answer.authority.name not in {o.local_authority for o in all_offices()}
    nearest = answer.nearest_pilot_office
    if nearest is not None:
        assert nearest.office.offered
        assert nearest.miles is None or nearest.miles <= MAX_CROW_MILES


@pytest.mark.parametrize(
    ("text", "reason"),
    [
        ("XYZ", PlaceErrorReason.UNKNOWN_PLACE),
        ("Zennor", PlaceErrorReason.UNKNOWN_PLACE),  # a village far away: never guessed
        ("12345", PlaceErrorReason.NOT_RECOGNISED),
        ("!!!", PlaceErrorReason.NOT_RECOGNISED),
        ("", PlaceErrorReason.EMPTY),
        ("   \t\n ", PlaceErrorReason.EMPTY),
        ("Liverpool " * 20, PlaceErrorReason.TOO_LONG),
        ("ZZ9 9ZZ", PlaceErrorReason.UNKNOWN_POSTCODE),
        ("ZZ9", PlaceErrorReason.UNKNOWN_POSTCODE),
        ("BT1 1AA", PlaceErrorReason.UNKNOWN_POSTCODE),  # Northern Ireland: not in Code-Point
        ("London", PlaceErrorReason.TOO_BROAD),
        ("north west", PlaceErrorReason.TOO_BROAD),
    ],
)
def test_rejections_have_specific_reasons(text: str, reason: PlaceErrorReason) -> None:
    assert parse_place(text) == PlaceError(reason)
    assert locate_text(text) == PlaceError(reason)


@pytest.mark.parametrize(
    ("text", "kind", "key"),
    [
        ("PO1 2AB", PlaceKind.POSTCODE, "PO1 2"),
        ("po12ab", PlaceKind.POSTCODE, "PO1 2"),
        ("L20 3", PlaceKind.SECTOR, "L20 3"),
        ("L203", PlaceKind.SECTOR, "L20 3"),
        ("PO12", PlaceKind.DISTRICT, "PO12"),
        ("po1", PlaceKind.DISTRICT, "PO1"),
        ("SW1", PlaceKind.DISTRICT, "SW1"),
    ],
)
def test_postcode_shapes(text: str, kind: PlaceKind, key: str) -> None:
    query = parse_place(text)
    assert isinstance(query, PlaceQuery)
    assert (query.kind, query.key) == (kind, key)
    located = locate(query)
    assert located is not None
    lat, lon = located
    assert 49.8 < lat < 61
    assert -8.7 < lon < 2


def test_a_full_postcode_is_cut_to_its_sector_and_kept_out_of_repr() -> None:
    query = parse_place("PO1 2AB")
    assert isinstance(query, PlaceQuery)
    assert query.key == "PO1 2"
    assert "PO1" not in repr(query)
    assert "2AB" not in repr(query)
    assert "PO1 2" not in repr(_lookup("PO1 2AB"))
    assert "PO1 2" not in repr(_answer("PO1 2AB"))


def test_every_place_name_is_in_the_pilot() -> None:
    for place in gazetteer():
        answer = pilot_answer(_lookup(place.name), place.authority.code)
        assert answer.in_pilot, place.name
        assert answer.authority == place.authority


def test_every_pilot_area_and_local_authority_can_be_typed() -> None:
    names = {o.pilot_area for o in all_offices()} | {o.local_authority for o in all_offices()}
    for name in names:
        query = parse_place(name)
        assert isinstance(query, PlaceQuery), name
        assert query.kind is PlaceKind.NAMED
        assert not query.corrected, name


# --- only offered offices, everywhere ----------------------------------------------------


def test_only_offered_offices_for_every_sector_and_district() -> None:
    for key, (lat, lon) in postcode_table().items():
        matches = nearest_exact(lat, lon, 5)
        assert len(matches) == 5, key
        assert all(office.offered for office, _ in matches), key
        assert [m for _, m in matches] == sorted(m for _, m in matches), key


@settings(max_examples=300, deadline=None)
@given(lat=st.floats(49.9, 58.7), lon=st.floats(-7.5, 1.8))
@example(lat=53.6875, lon=-3.5)
def test_only_offered_offices_anywhere_in_great_britain(lat: float, lon: float) -> None:
    lookup = locate_point(lat, lon)
    assert lookup.authorities
    for candidate in lookup.authorities:
        answer = pilot_answer(lookup, candidate.code)
        assert answer.in_pilot is candidate.in_pilot
        shown = [*answer.offices, *filter(None, [answer.nearest_pilot_office])]
        assert all(m.office.offered and m.office.status == "likely_open" for m in shown)
        assert all(m.office.local_authority == candidate.name for m in answer.offices)
        # An office of the person's own authority is listed even when it is too far to give a
        # distance (a point at sea off Sefton: Bootle, no miles); the nearest pilot office
        # shown to someone outside is only ever one within MAX_CROW_MILES.
        assert all(m.miles is None or m.miles <= MAX_CROW_MILES for m in answer.offices)
        near = answer.nearest_pilot_office
        assert near is None or (near.miles is not None and near.miles <= MAX_CROW_MILES)


def test_offered_means_likely_open_with_coordinates() -> None:
    offered = [o for o in all_offices() if o.offered]
    assert len(offered) == 31
    for office in all_offices():
        expected = office.status == "likely_open" and office.lat is not None
        assert office.offered == expected, office.office_id
    # Likely open but no coordinates: kept, not offered, with a note saying why.
    for office_id in ("croydon-dingwall-road", "finsbury-park-medina-road"):
        kept = office_by_id(office_id, include_unoffered=True)
        assert kept is not None
        assert not kept.offered
        assert "no coordinates" in kept.check_note


def test_loader_refuses_an_offered_closed_office() -> None:
    text = PACKAGE.joinpath("jobcentres.csv").read_text("utf-8")
    rows = list(csv.reader(text.splitlines()))
    header = rows[0]
    status, offered = header.index("status_2023"), header.index("offered")
    closed = next(r for r in rows[1:] if r[status] == "closed")
    closed[offered] = "yes"
    with pytest.raises(ValueError, match="offered needs"):
        parse_offices(_csv_text(rows))


def test_office_by_id_and_areas() -> None:
    office = office_by_id("portsmouth-arundel-street")
    assert office is not None
    assert office.postcode == "PO1 1NB"
    assert office_by_id("cosham-high-street") is None
    assert office_by_id("cosham-high-street", include_unoffered=True) is not None
    assert office_by_id("nowhere") is None
    areas = offices_by_area()
    assert len(areas) == 20 and "Cosham" not in areas  # its office is not offered
    assert sum(len(v) for v in areas.values()) == 31
    assert all(o.offered and o.pilot_area == area for area, v in areas.items() for o in v)


def test_distances_are_whole_great_circle_miles_from_a_location() -> None:
    for lat, lon in [(53.7446, -0.3352), (51.5051, -0.1391), (50.80, -1.09), (53.40, -2.98)]:
        lookup = locate_point(lat, lon)
        for match in pilot_answer(lookup, lookup.authorities[0].code).offices:
            office = match.office
            assert office.lat is not None
            assert office.lon is not None
            assert match.miles == crow_miles(haversine_miles(lat, lon, office.lat, office.lon))


def test_map_links_are_plain_strings() -> None:
    assert osm_link(50.800187, -1.088948) == (
        "https://www.openstreetmap.org/?mlat=50.80019&mlon=-1.08895#map=17/50.80019/-1.08895"
    )
    match = _answer("PO1").offices[0]
    assert match.map_url == osm_link(50.800187, -1.088948)


# --- services ----------------------------------------------------------------------------


def _ids(services: Iterable[Service]) -> list[str]:
    return [s.service_id for s in services]


def test_safety_net_always() -> None:
    for substances in (set(), {"alcohol"}, {"opioids", "cannabis"}):
        support = services_for(substances, set(), None)
        assert _ids(support.safety_net) == [
            "frank",
            "samaritans",
            "nhs-111",
            "emergency-999",
            "shout",
        ]


def test_alcohol_gets_aa_and_drinkline_not_na_or_ca() -> None:
    national = _ids(services_for({Substance.ALCOHOL}, {Need.PEER_MENTOR}, None).national)
    assert "alcoholics-anonymous" in national
    assert "drinkline" in national
    assert "narcotics-anonymous" not in national
    assert "cocaine-anonymous" not in national
    assert national[0] == "alcoholics-anonymous"  # peer support for alcohol comes first


def test_opioids_get_na_not_aa() -> None:
    national = _ids(services_for({"opioids"}, set(), None).national)
    assert national[0] == "narcotics-anonymous"
    assert "alcoholics-anonymous" not in national
    assert "drinkline" not in national


def test_crack_cocaine_gets_ca_before_na() -> None:
    national = _ids(services_for({"crack_cocaine"}, set(), None).national)
    assert national.index("cocaine-anonymous") < national.index("narcotics-anonymous")


def test_ips_only_for_people_in_treatment_who_want_work() -> None:
    assert _ids(services_for(set(), {"work"}, None, in_treatment=True).national)[0] == "dwp-ips"
    assert "dwp-ips" not in _ids(services_for(set(), {"work"}, None).national)
    treatment_only = services_for(set(), {"treatment"}, None, in_treatment=True)
    assert "dwp-ips" not in _ids(treatment_only.national)


def test_need_orders_national_services() -> None:
    national = services_for(set(), {"treatment"}, None).national
    treating = [s for s in national if Need.TREATMENT in s.needs]
    assert list(national[: len(treating)]) == treating


@pytest.mark.parametrize(
    ("authority", "service_id"),
    [
        ("Sefton", "local-sefton"),
        ("kingston upon hull", "local-hull"),
        ("Gosport", "local-hampshire"),
    ],
)
def test_local_service_flagged_and_without_numbers(authority: str, service_id: str) -> None:
    (local,) = services_for(set(), set(), authority).local
    assert local.service_id == service_id
    assert local.verification is Verification.UNVERIFIED
    assert local.check_before_use
    assert local.phone is None
    assert local.dial is None
    assert local.sms_number is None


def test_local_service_from_a_finder_result() -> None:
    answer = _answer("L20 3")
    assert _ids(services_for(set(), set(), answer.authority.name).local) == ["local-sefton"]
    assert services_for(set(), set(), None).local == ()


def test_every_pilot_local_authority_has_a_local_row() -> None:
    covered = {a for s in all_services() for a in s.local_authorities}
    assert {o.local_authority for o in all_offices()} <= covered


def test_loader_refuses_a_phone_on_an_unverified_local_row() -> None:
    text = PACKAGE.joinpath("services.csv").read_text("utf-8")
    rows = list(csv.DictReader(text.splitlines()))
    local = next(r for r in rows if r["kind"] == "local")
    local["phone"] = "0300 000 0000"
    with pytest.raises(ValueError, match="must not carry phone"):
        parse_services(_csv_text([list(rows[0]), *(list(r.values()) for r in rows)]))


def test_unknown_vocabulary_is_a_programming_error() -> None:
    with pytest.raises(ValueError, match="heroin"):
        services_for({"heroin"}, set(), None)
    with pytest.raises(ValueError, match="housing"):
        services_for(set(), {"housing"}, None)


def test_crisis_numbers() -> None:
    contacts = [(s.service_id, s.dial, s.sms_keyword, s.sms_number) for s in crisis_contacts()]
    assert contacts == [
        ("emergency-999", "999", None, None),
        ("samaritans", "116 123", None, None),
        ("shout", None, "SHOUT", "85258"),
        ("nhs-111", "111", None, None),
    ]
    assert all(s.verification is Verification.VERIFIED for s in crisis_contacts())


def _services_csv_with(service_id: str, **changes: str) -> str:
    """services.csv with one row changed, for the loader's refusals."""
    rows = _rows(PACKAGE.joinpath("services.csv").read_text("utf-8"))
    for row in rows:
        if row["service_id"] == service_id:
            row.update(changes)
    return _csv_text([list(rows[0]), *(list(r.values()) for r in rows)])


def test_03_numbers_are_standard_rate_and_0800_numbers_free() -> None:
    """Issue 14 item 10: "all of these are free" is wrong for 0300 and 0330 numbers."""
    by_id = {s.service_id: s for s in all_services()}
    for sid in ("frank", "narcotics-anonymous", "drinkline", "smart-recovery", "local-croydon"):
        assert by_id[sid].charges is Charges.STANDARD_RATE, sid
    for sid in ("samaritans", "nhs-111", "emergency-999", "alcoholics-anonymous"):
        assert by_id[sid].charges is Charges.FREE, sid
    assert by_id["shout"].charges is Charges.NO_PHONE
    for service in all_services():
        assert service.charges is charges_for(service.dial), service.service_id


def test_loader_refuses_charges_that_do_not_match_the_number() -> None:
    with pytest.raises(ValueError, match="charges"):
        parse_services(_services_csv_with("frank", charges="free"))
    with pytest.raises(ValueError, match="charge band"):
        charges_for("0871 000 0000")


def test_smart_is_an_office_line_not_a_helpline() -> None:
    smart = next(s for s in all_services() if s.service_id == "smart-recovery")
    assert smart.phone_role is PhoneRole.OFFICE
    assert smart.dial == "0330 053 6022"
    assert "secondary" in smart.opening_hours
    helplines = [s for s in all_services() if s.phone_role is PhoneRole.HELPLINE]
    assert all(s.dial for s in helplines)
    with pytest.raises(ValueError, match="phone_role"):
        parse_services(_services_csv_with("smart-recovery", phone_role="none"))


def test_every_service_can_be_acted_on_or_says_what_to_do_instead() -> None:
    """Never "see the website" where there is none: no number and no website means
    a fallback ("ask your GP or call FRANK", or the work coach)."""
    for service in all_services():
        reachable = bool(service.dial or service.sms_number or service.url)
        assert (service.fallback is Fallback.NONE) is reachable, service.service_id
    local = [s for s in all_services() if s.kind is ServiceKind.LOCAL]
    assert {s.fallback for s in local} <= {Fallback.NONE, Fallback.GP_OR_FRANK}
    assert all(s.source_date for s in local)
    with pytest.raises(ValueError, match="fallback"):
        parse_services(_services_csv_with("local-hull", fallback="none"))
    with pytest.raises(ValueError, match="fallback"):
        parse_services(_services_csv_with("frank", fallback="gp_or_frank"))
    with pytest.raises(ValueError, match="date of its source"):
        parse_services(_services_csv_with("local-hull", source_date=""))


@pytest.mark.parametrize(
    ("topic", "expected"),
    [
        (Topic.BENEFITS, ["citizens-advice"]),
        (Topic.LEGAL, ["release"]),
        (Topic.FAMILIES, ["adfam", "al-anon"]),
        (Topic.NALOXONE, ["naloxone"]),
        (Topic.GAMBLING, ["national-gambling-helpline"]),
        (Topic.DOMESTIC_ABUSE, ["national-domestic-abuse-helpline"]),
    ],
)
def test_what_this_group_needs_is_there_on_request(topic: Topic, expected: list[str]) -> None:
    """Issue 14 item 10: benefits and sanctions advice, legal advice, families,
    naloxone, gambling and domestic abuse; offered on request, not in the main list."""
    assert _ids(services_on(topic)) == expected
    everyone = services_for(set(), {"information", "treatment", "work", "peer_mentor"}, None)
    assert not set(expected) & set(_ids(everyone.national))


def test_new_helplines_carry_their_checks() -> None:
    by_id = {s.service_id: s for s in all_services()}
    abuse = by_id["national-domestic-abuse-helpline"]
    assert (abuse.dial, abuse.charges, abuse.verification) == (
        "0808 2000 247",
        Charges.FREE,
        Verification.VERIFIED,
    )
    for sid in ("national-gambling-helpline", "release", "citizens-advice", "al-anon"):
        assert by_id[sid].verification is Verification.SECONDARY, sid
        assert by_id[sid].check_before_use, sid
    assert by_id["adfam"].dial is None
    assert by_id["adfam"].url == "https://adfam.org.uk"
    naloxone = by_id["naloxone"]
    assert naloxone.dial is None and naloxone.url is None
    assert naloxone.fallback is Fallback.GP_OR_FRANK
    assert "without a prescription" in naloxone.what_it_offers


def test_croydon_has_a_number_from_its_council_and_the_rest_say_ask_your_gp() -> None:
    (croydon,) = services_for(set(), set(), "Croydon").local
    assert croydon.dial == "0300 123 9288"
    assert croydon.verification is Verification.VERIFIED
    assert not croydon.check_before_use
    (hackney,) = services_for(set(), set(), "Hackney").local
    assert hackney.dial is None and hackney.url is None
    assert hackney.fallback is Fallback.GP_OR_FRANK
    assert "E8 3SG" in hackney.what_it_offers


# --- data integrity ------------------------------------------------------------------------


def _rows(text: str) -> list[dict[str, str]]:
    return list(csv.DictReader(text.splitlines()))


def _ledger() -> dict[str, set[str]]:
    """contact_sources.csv: service_id -> the numbers and websites sourced there."""
    ledger: dict[str, set[str]] = {}
    for row in _rows(PACKAGE.joinpath("contact_sources.csv").read_text("utf-8")):
        assert row["source"] and row["source_date"] and row["source_kind"], row
        ledger.setdefault(row["service_id"], set()).add(row["contact"])
    return ledger


def test_seeded_jobcentre_columns_match_the_shared_sources() -> None:
    """No postcode or coordinate was invented: every source column is unchanged."""
    shared = _rows(_shared_data("jobcentres.csv").read_text("utf-8"))
    ours = _rows(PACKAGE.joinpath("jobcentres.csv").read_text("utf-8"))
    assert len(ours) == len(shared)
    for mine, theirs in zip(ours, shared, strict=True):
        assert {k: mine[k] for k in theirs} == theirs


def test_seeded_services_keep_their_numbers_unless_a_new_source_says_otherwise() -> None:
    """Every shared row is still here, in order, with the same contacts; a changed
    contact is only allowed when contact_sources.csv names its source."""
    shared = _rows(_shared_data("services.csv").read_text("utf-8"))
    ours = _rows(PACKAGE.joinpath("services.csv").read_text("utf-8"))
    ledger = _ledger()
    for kind in ("national", "local"):
        theirs = [r for r in shared if r["kind"] == kind]
        mine = [r for r in ours if r["kind"] == kind][: len(theirs)]
        for new, old in zip(mine, theirs, strict=True):
            assert new["covers_areas"] == old["covers_areas"]
            sourced = ledger.get(new["service_id"], set())
            if new["phone"] != old["phone"]:
                assert new["dial"] in sourced, new["service_id"]
            assert new["text_sms"] == old["text_sms"], new["service_id"]


def test_every_number_and_website_has_a_source() -> None:
    """A number or website not in shared/data must be in contact_sources.csv for that
    service; a local number needs a primary source (the commissioner or provider)."""
    shared = _shared_data("services.csv").read_text("utf-8")
    shared_digits = re.sub(r"(?<=\d) (?=\d)", "", shared)
    sources = _rows(PACKAGE.joinpath("contact_sources.csv").read_text("utf-8"))
    numbers = 0
    for service in all_services():
        sourced = {r["contact"]: r for r in sources if r["service_id"] == service.service_id}
        for number in filter(None, (service.dial, service.sms_number)):
            numbers += 1
            if number.replace(" ", "") not in shared_digits:
                assert number in sourced, (service.service_id, number)
            if service.kind is ServiceKind.LOCAL:
                assert sourced[number]["source_kind"] == "primary", service.service_id
        if service.url and service.url not in shared:
            assert service.url in sourced, (service.service_id, service.url)
    assert numbers > 15


def test_place_anchors_must_be_office_rows() -> None:
    with pytest.raises(ValueError, match="anchor office"):
        parse_places("name,aliases,anchor_office_id\nCarlisle,,carlisle-made-up\n")


def test_sector_file_decodes_and_covers_every_office_postcode() -> None:
    raw = PACKAGE.joinpath("postcode_sectors.csv.gz").read_bytes()
    assert len(raw) < 1_000_000
    text = gzip.decompress(raw).decode("ascii")
    assert "Code-Point Open" in text.split("key,lat,lon")[0]
    assert "Open Government Licence v3.0" in text.split("key,lat,lon")[0]
    table = postcode_table()
    assert len(table) > 13_000
    for lat, lon in table.values():
        assert 49.8 < lat < 61
        assert -8.7 < lon < 2
    for office in all_offices():
        if office.postcode:
            assert office.postcode[:-2] in table, office.office_id
            assert office.postcode.split()[0] in table, office.office_id
    for office in all_offices():  # the centroid of an office's sector is close to the office
        if office.lat is not None and office.lon is not None:
            lat, lon = table[office.postcode[:-2]]
            assert abs(lat - office.lat) < 0.03
            assert abs(lon - office.lon) < 0.05


def test_directory_readme_carries_the_attribution() -> None:
    readme = PACKAGE.joinpath("README.md").read_text("utf-8")
    assert "Contains OS data © Crown copyright and database right" in readme
    assert "Open Government Licence" in readme


def test_directory_code_never_logs_or_prints() -> None:
    for path in Path(str(PACKAGE)).glob("*.py"):
        source = path.read_text("utf-8")
        assert "import logging" not in source, path.name
        assert "print(" not in source, path.name
        assert "telegram" not in source, path.name
