"""Entries by an office's link are counted by source, and never tied to anyone (issue 17,
item 7): the poster's Telegram code, its web chat code, and any other link to the office
each add to their own per-office counter, which the pilot report publishes.

The links are taken from what `firststep poster` prints (bot/poster.py), so the codes on
the wall are the ones counted. The web chat door turns its page address into the same
/start (conversations/person/entry.py `web_start_payload`); here the emulator's person
sends that /start, as the web door's person would.
"""

from __future__ import annotations

from urllib.parse import parse_qs, urlsplit

from bot.poster import telegram_link, web_link
from conversations import texts
from conversations.person.entry import (
    Source,
    entry_from_payload,
    start_payload,
    web_start_payload,
)
from storage.directory import office_by_id
from storage.operations.report import build_report
from tests.support.dbscan import all_rows, cells_containing
from tests.support.harness import Harness

OFFICE = "portsmouth-arundel-street"
OTHER = "hull-britannia-house"
FIRST_ID = 7_710_000_001


def telegram_payload() -> str:
    (payload,) = parse_qs(urlsplit(telegram_link("FirstStepPilotBot", OFFICE)).query)["start"]
    return payload


def web_payload() -> str:
    link = urlsplit(web_link("https://chat.example", OFFICE))
    query = {name: value for name, (value,) in parse_qs(link.query).items()}
    payload = web_start_payload(query)
    assert payload is not None
    return payload


def counts(rows: dict[str, list[dict[str, object]]]) -> dict[tuple[object, object], object]:
    return {(row["event"], row["office_id"]): row["count"] for row in rows["event_counts"]}


async def test_each_entry_is_counted_by_its_source_and_nobody_is_kept(harness: Harness) -> None:
    office = office_by_id(OFFICE)
    assert office is not None
    plan = [
        *([telegram_payload()] * 5),
        *([web_payload()] * 6),
        *([f"jc_{OFFICE}"] * 5),
        start_payload(OTHER, Source.POSTER_TELEGRAM),
        f"jc_{OFFICE}_x",  # an unknown source marker: an ordinary /start, not counted
        f"jc_{OFFICE}_pp",
    ]
    people = []
    for index, payload in enumerate(plan):
        user = harness.person(FIRST_ID + index)
        harness.emu.user_starts(user, payload)
        people.append(user)
    await harness.settle()
    for user in people:
        assert any(t.startswith(texts.WELCOME) for t in harness.texts(user)), "each was welcomed"

    rows = await all_rows(harness.services.database)
    assert counts(rows) == {
        ("poster_telegram", OFFICE): 5,
        ("poster_web", OFFICE): 6,
        ("deep_link", OFFICE): 5,
        ("poster_telegram", OTHER): 1,
    }
    # Nothing ties a count to a person: no one accepted the notice, so no one is kept,
    # and no Telegram id, name or chat appears anywhere in the database.
    assert rows["people"] == []
    for user in people:
        assert cells_containing(rows, user) == []
        assert cells_containing(rows, str(user)) == []
    assert cells_containing(rows, "Alex") == []
    assert set(rows["event_counts"][0]) == {"day", "event", "office_id", "count"}

    # A person who comes back by the poster's code counts again, and gets the office.
    returning = people[0]
    await harness.press(returning, texts.BTN_CONTINUE)
    harness.emu.user_starts(returning, telegram_payload())
    await harness.settle()
    assert texts.OFFICE_PRESELECTED.format(office=office.name) in harness.texts(returning)
    assert counts(await all_rows(harness.services.database))[("poster_telegram", OFFICE)] == 6

    # The pilot report shows each office's starts by source (5 or more: shown as counted).
    report = await build_report(harness.services.database, harness.clock())
    table = report.poster_starts
    assert table.col_labels == (
        "Poster: Telegram code",
        "Poster: web chat code",
        "Other link to the office",
    )
    row = table.row_labels.index(office.name)
    assert table.published.cells[row] == ("6", "6", "5")
    assert table.published.row_totals is not None
    assert table.published.row_totals[row] == "17"
    other = table.row_labels.index("Hull Britannia House Jobcentre")
    assert table.published.cells[other] == ("<5", "<5", "<5")


def test_payloads_name_an_offered_office_and_a_known_source() -> None:
    assert entry_from_payload(f"jc_{OFFICE}_p") is not None
    assert entry_from_payload(f"jc_{OFFICE}_w") is not None
    found = entry_from_payload(f"jc_{OFFICE}")
    assert found is not None and (found.office_id, found.event) == (OFFICE, "deep_link")
    for payload in (f"jc_{OFFICE}_z", "jc_nowhere_p", "jc_hull-market-place_p", f"{OFFICE}_p"):
        assert entry_from_payload(payload) is None, payload
    # The web chat's address: the poster's code, a plain office link, or no office.
    assert web_start_payload({"office": OFFICE, "src": "poster"}) == f"jc_{OFFICE}_w"
    assert web_start_payload({"office": OFFICE}) == f"jc_{OFFICE}"
    assert web_start_payload({"office": OFFICE, "src": "leaflet"}) == f"jc_{OFFICE}"
    assert web_start_payload({"office": "nowhere", "src": "poster"}) is None
    assert web_start_payload({}) is None
    # A Telegram /start payload is at most 64 characters of A-Z a-z 0-9 _ -.
    for source in Source:
        longest = start_payload("everton-breckfield-road-north", source)
        assert len(longest) <= 64 and entry_from_payload(longest) is not None
