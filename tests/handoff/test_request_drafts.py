"""An unfinished mentor request does not keep a phone number for long.

The person shares their number, then simply stops answering (no Menu, no /cancel, so
`drop_if_abandoned` never runs). After `request_draft_max_hours` (24) of silence the
retention purge takes the number out of their sealed draft; when they come back they are
told so kindly and asked again how to be reached. The clock is moved, not waited for.
Every test runs on SQLite and, when FIRSTSTEP_TEST_DATABASE_URL is set, on PostgreSQL.
"""

from __future__ import annotations

import asyncio
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select

from bot.housekeeping import PURGE_JOB, schedule_purge
from conversations import texts
from conversations.person.ask_mentor import REQUEST_STEPS
from conversations.steps import Step
from storage.crypto import KeyRing
from storage.db import Database
from storage.operations.retention import CLASSES, RetentionPolicy, purge
from storage.repositories import request_drafts
from storage.repositories.people import open_draft, person_transaction
from storage.repositories.person_draft import REQUEST_KEY, Draft
from storage.repositories.request_drafts import LAPSED_STATE, REQUEST_STATES
from storage.repositories.subjects import open_subject_key
from tests.support.dbscan import all_rows, cells_containing, files_containing, sqlite_files
from tests.support.handoff import drain, join_as_mentor
from tests.support.harness import Harness
from tests.support.ops import (
    T0,
    cli_env,
    count,
    firststep,
)
from tests.support.tables import DISCLOSURES, OUTBOX, PEOPLE

PHONE = "+447700900555"
OFFICE = "portsmouth-arundel-street"
POLICY = RetentionPolicy()  # request_draft_hours=24
SAM = 8_800_970_001
ALEX, BEA, CAL = 7_700_970_001, 7_700_970_002, 7_700_970_003


# ------------------------------------------------------------------- reading, no touch


async def sealed_state(database: Database, ring: KeyRing, person_id: str) -> tuple[str, Any]:
    """(state, decrypted draft) read straight from the row: unlike a person transaction,
    this does not count as hearing from the person (it moves no clock)."""
    async with database.engine.connect() as connection:
        row = (
            await connection.execute(
                select(PEOPLE.c.state, PEOPLE.c.draft_ct).where(PEOPLE.c.id == person_id)
            )
        ).one()
        cipher = await open_subject_key(connection, ring, person_id)
    assert cipher is not None
    return row.state, open_draft(cipher, person_id, row.draft_ct)


async def every_readable_value(database: Database, ring: KeyRing) -> list[str]:
    """Every sealed value of every person, decrypted with their own key: what anyone with
    the key ring and a copy of the database could read."""
    values: list[str] = []
    async with database.engine.connect() as connection:
        people = (await connection.execute(PEOPLE.select())).all()
        for person in people:
            cipher = await open_subject_key(connection, ring, person.id)
            assert cipher is not None
            if person.draft_ct is not None:
                values.append(repr(open_draft(cipher, person.id, person.draft_ct)))
            if person.chat_ref_ct is not None:
                values.append(
                    cipher.open_text("people", "chat_ref_ct", person.id, person.chat_ref_ct)
                )
            answers = DISCLOSURES.select().where(DISCLOSURES.c.person_id == person.id)
            for row in (await connection.execute(answers)).all():
                values.append(
                    cipher.open_text(
                        DISCLOSURES.name, f"value_ct:{row.field}", row.id, row.value_ct
                    )
                )
    return values


async def person_id_of(harness: Harness, user_id: int) -> str:
    person = await harness.record(user_id)
    assert person is not None
    return person.id


# --------------------------------------------------------------------- clock: storage


async def make_request(
    database: Database,
    ring: KeyRing,
    telegram_id: int,
    now: datetime,
    step: Step = Step.MENTOR_TIME,
    **request: Any,
) -> str:
    """A person part way through a request, as the flow leaves them (sealed draft)."""
    async with person_transaction(database, ring, telegram_id, now) as tx:
        person = await tx.register(state=Step.MENU, chat_id=telegram_id)
        await tx.move(step, draft=Draft.from_stored({"office": OFFICE, REQUEST_KEY: request}))
        return person.id


async def lapsed(database: Database, now: datetime, ring: KeyRing | None) -> int:
    counts = await purge(database, now, POLICY, ring=ring)
    assert set(counts) == set(CLASSES)
    return counts["request_drafts"]


async def test_a_shared_number_goes_24_hours_after_the_last_message(
    database: Database, ring: KeyRing
) -> None:
    last = T0 + timedelta(hours=5)
    person = await make_request(
        database, ring, 901, T0, share="none", contact="phone", phone=PHONE, time="any"
    )
    async with person_transaction(database, ring, 901, last) as tx:  # writes at hour 5
        assert tx.person is not None

    assert await lapsed(database, last + timedelta(hours=23), ring) == 0
    assert await lapsed(database, last + timedelta(hours=24, minutes=-1), ring) == 0
    state, draft = await sealed_state(database, ring, person)
    assert state == Step.MENTOR_TIME and draft[REQUEST_KEY]["phone"] == PHONE

    assert await lapsed(database, last + timedelta(hours=24), ring) == 1
    state, draft = await sealed_state(database, ring, person)
    assert state == Step.MENTOR_LAPSED
    # Only how to reach them went: the office and their other choices stay.
    assert draft == {"office": OFFICE, REQUEST_KEY: {"share": "none", "time": "any"}}
    assert not [value for value in await every_readable_value(database, ring) if PHONE in value]
    # The person is otherwise untouched, and a second run finds nothing left to do.
    assert await count(database, PEOPLE, id=person) == 1
    assert await lapsed(database, last + timedelta(days=3), ring) == 0


async def test_requests_without_a_number_and_other_steps_are_left_alone(
    database: Database, ring: KeyRing
) -> None:
    talk_here = await make_request(database, ring, 902, T0, contact="bot", time="any")
    confirm = await make_request(
        database, ring, 903, T0, Step.MENTOR_CONFIRM, contact="phone", phone=PHONE, time="am"
    )
    async with person_transaction(database, ring, 904, T0) as tx:  # not in a request
        menu = (await tx.register(state=Step.MENU, chat_id=904)).id
        stored = {"office": OFFICE, REQUEST_KEY: {"phone": PHONE}}
        await tx.move(Step.MENU, draft=Draft.from_stored(stored))

    assert await lapsed(database, T0 + timedelta(hours=30), ring) == 1
    assert (await sealed_state(database, ring, talk_here))[0] == Step.MENTOR_TIME
    assert (await sealed_state(database, ring, confirm))[0] == Step.MENTOR_LAPSED
    assert (await sealed_state(database, ring, menu))[0] == Step.MENU


async def test_without_the_key_ring_the_whole_unfinished_request_goes(
    database: Database, ring: KeyRing
) -> None:
    """The purge cannot see inside a draft without the key ring: it drops every unfinished
    request past its time (office and all), never keeps one it cannot read."""
    with_number = await make_request(database, ring, 905, T0, contact="phone", phone=PHONE)
    talk_here = await make_request(database, ring, 906, T0, contact="bot")
    assert await lapsed(database, T0 + timedelta(hours=23), None) == 0
    assert await lapsed(database, T0 + timedelta(hours=24), None) == 2
    for person in (with_number, talk_here):
        assert await sealed_state(database, ring, person) == (Step.MENTOR_LAPSED, {})


async def test_dry_run_counts_and_keeps_the_number(database: Database, ring: KeyRing) -> None:
    person = await make_request(database, ring, 907, T0, contact="phone", phone=PHONE)
    later = T0 + timedelta(hours=24)
    dry = await purge(database, later, POLICY, ring=ring, dry_run=True)
    assert dry["request_drafts"] == 1
    assert (await sealed_state(database, ring, person))[1][REQUEST_KEY]["phone"] == PHONE
    assert (await purge(database, later, POLICY, ring=ring))["request_drafts"] == 1


async def test_the_clock_test_catches_a_late_or_missing_purge(
    database: Database, ring: KeyRing, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Deliberately broken variants: one hour late, and the class doing nothing (as
    before this change): the clock test must reject both."""
    original = request_drafts.lapse_request_drafts

    async def one_hour_late(connection: Any, now: datetime, hours: int, ring: Any) -> int:
        return await original(connection, now, hours + 1, ring)

    async def nothing(connection: Any, now: datetime, hours: int, ring: Any) -> int:
        return 0

    from storage.operations import retention

    for broken in (one_hour_late, nothing):
        monkeypatch.setattr(retention, "lapse_request_drafts", broken)
        with pytest.raises(AssertionError):
            await test_a_shared_number_goes_24_hours_after_the_last_message(database, ring)
        async with database.transaction() as connection:  # start the next one afresh
            await connection.execute(PEOPLE.delete())


def test_the_storage_names_match_the_conversation_steps() -> None:
    assert Step(LAPSED_STATE) is Step.MENTOR_LAPSED
    assert set(REQUEST_STATES) == {str(step) for step in REQUEST_STEPS - {Step.MENTOR_LAPSED}}


# ------------------------------------------------------------- the person, through the bot


async def share_phone(harness: Harness, user_id: int) -> None:
    """From the poster's office: share the number, then stop answering at the time step."""
    await harness.send(user_id, f"/start jc_{OFFICE}")
    await harness.press(user_id, texts.BTN_CONTINUE)
    await harness.press(user_id, texts.BTN_MENTOR)
    await harness.press(user_id, texts.BTN_THIS_OFFICE)
    await harness.press(user_id, texts.BTN_CONTACT_PHONE)
    harness.emu.tap_reply_button(user_id, texts.BTN_SEND_PHONE, phone_number=PHONE)
    await harness.settle()
    assert texts.MENTOR_PHONE_THANKS.format(delay="24 hours") in harness.texts(user_id)
    assert harness.last_text(user_id) == texts.MENTOR_ASK_TIME


async def daily_purge(harness: Harness) -> None:
    """The JobQueue job `firststep run` schedules, run at the harness clock."""
    assert harness.app is not None
    jobs = await schedule_purge(harness.app, harness.settings)
    try:
        (daily,) = [job for job in jobs if job.name == PURGE_JOB]
        await daily.run(harness.app)
    finally:
        for job in jobs:
            job.schedule_removal()


async def sealed_draft(database: Database, person_id: str) -> bytes:
    async with database.engine.connect() as connection:
        query = select(PEOPLE.c.draft_ct).where(PEOPLE.c.id == person_id)
        sealed = (await connection.execute(query)).scalar_one()
    assert isinstance(sealed, bytes)
    return sealed


async def stop_answering_for_a_day(harness: Harness, user_id: int) -> tuple[str, bytes]:
    """Share the number, fall silent; the bot's daily job runs at 23:59 and at 24:00.
    Returns the person's id and their sealed draft as it was with the number in it."""
    await share_phone(harness, user_id)
    person = await person_id_of(harness, user_id)  # the last time we hear from them
    database, ring = harness.services.database, harness.ring
    with_number = await sealed_draft(database, person)
    harness.clock.advance(hours=23, minutes=59)
    await daily_purge(harness)
    assert (await sealed_state(database, ring, person))[1][REQUEST_KEY]["phone"] == PHONE
    harness.clock.advance(minutes=1)
    await daily_purge(harness)
    state, draft = await sealed_state(database, ring, person)
    assert state == Step.MENTOR_LAPSED
    assert "phone" not in draft[REQUEST_KEY] and draft["office"] == OFFICE
    return person, with_number


async def test_no_phone_number_remains_anywhere_after_a_day_of_silence(
    harness: Harness, database_url: str
) -> None:
    _, with_number = await stop_answering_for_a_day(harness, ALEX)
    database = harness.services.database
    readable = await every_readable_value(database, harness.ring)
    assert readable and not [value for value in readable if PHONE in value]
    assert cells_containing(await all_rows(database), PHONE) == []
    assert cells_containing(await all_rows(database), with_number) == []
    assert files_containing(sqlite_files(database_url), PHONE) == []
    # The old sealed draft would still open with the person's (live) key: no copy of it
    # may stay in the SQLite files or their write-ahead logs (the purge scrubs them).
    stale_copies = [
        path.name for path in sqlite_files(database_url) if with_number[-32:] in path.read_bytes()
    ]
    assert stale_copies == []
    assert await count(database, OUTBOX) == 0  # the request was never sent: no card


async def by_text(harness: Harness, user_id: int) -> None:
    await harness.send(user_id, "sorry, I was busy")


async def by_an_old_button(harness: Harness, user_id: int) -> None:
    await harness.press(user_id, texts.MENTOR_TIME_LABELS["any"])  # the time question


async def by_mentor_command(harness: Harness, user_id: int) -> None:
    await harness.send(user_id, "/mentor")


@pytest.mark.parametrize(
    "come_back", [by_text, by_an_old_button, by_mentor_command], ids=lambda f: f.__name__
)
async def test_coming_back_is_told_kindly_and_asked_again_how_to_be_reached(
    harness: Harness, come_back: Any
) -> None:
    await join_as_mentor(harness, SAM, "Sam", office_id=OFFICE)
    await stop_answering_for_a_day(harness, BEA)
    before = len(harness.texts(BEA))

    await come_back(harness, BEA)
    said = harness.texts(BEA)[before:]
    assert said == [texts.MENTOR_LAPSED.format(delay="24 hours"), texts.MENTOR_ASK_CONTACT]
    assert await harness.state(BEA) == Step.MENTOR_CONTACT

    # They carry on: the number again, a time, and the request goes with it.
    await harness.press(BEA, texts.BTN_CONTACT_PHONE)
    harness.emu.tap_reply_button(BEA, texts.BTN_SEND_PHONE, phone_number=PHONE)
    await harness.settle()
    await harness.press(BEA, texts.MENTOR_TIME_LABELS["morning"])
    confirm = harness.last_text(BEA)
    assert "• How they get in touch: a phone call" in confirm
    assert "Portsmouth" in confirm
    await harness.press(BEA, texts.BTN_SEND_REQUEST)
    assert harness.last_text(BEA).startswith("✅ Sent.")
    await drain(harness)
    assert PHONE in harness.last_text(SAM)


async def test_urgent_words_on_the_lapsed_step_then_carry_on(harness: Harness) -> None:
    await stop_answering_for_a_day(harness, CAL)
    await harness.send(CAL, "I took all my pills and my mate won't wake up")
    assert texts.CRISIS in harness.texts(CAL)
    assert harness.texts(CAL)[-2:] == [texts.CRISIS_NOT_SAVED, texts.MENTOR_LAPSED_ASK]
    await harness.press(CAL, texts.BTN_CARRY_ON)
    assert harness.last_text(CAL) == texts.MENTOR_ASK_CONTACT
    # Or they leave it: the rest of the request goes with them, the office stays.
    await harness.send(CAL, "/menu")
    person = await harness.record(CAL)
    assert person is not None and person.draft == Draft(office=OFFICE)


async def test_after_a_purge_without_keys_they_start_again_from_the_office(
    harness: Harness,
) -> None:
    await share_phone(harness, ALEX)
    harness.clock.advance(hours=24)
    counts = await purge(harness.services.database, harness.clock(), POLICY, ring=None)
    assert counts["request_drafts"] == 1
    await harness.send(ALEX, "hello?")
    said = harness.texts(ALEX)
    assert texts.MENTOR_LAPSED_RESTART.format(delay="24 hours") in said
    assert texts.MENTOR_FIND_OFFICE_FIRST in said
    assert await harness.state(ALEX) == Step.FINDER_OFFICE


async def test_a_late_reply_just_before_the_limit_keeps_the_request(harness: Harness) -> None:
    """Any message restarts the clock: someone still answering is never cut off."""
    await share_phone(harness, BEA)
    harness.clock.advance(hours=23)
    await harness.send(BEA, "/help")  # a look aside: still on the time step
    harness.clock.advance(hours=23)
    await daily_purge(harness)
    assert await harness.state(BEA) == Step.MENTOR_TIME
    await harness.press(BEA, texts.MENTOR_TIME_LABELS["any"])
    # (The time question, above the /help they looked at, became the summary.)
    assert "• How they get in touch: a phone call" in harness.all_text(BEA)


# ------------------------------------------------------------------- `firststep purge`


async def test_purge_command_with_the_key_ring_drops_only_the_number(
    database: Database, database_url: str, ring: KeyRing, keyring_file: Path, tmp_path: Path
) -> None:
    """On the real clock: a request left 25 hours ago (recent enough that the person is
    not erased as inactive)."""
    now = datetime.now(T0.tzinfo)
    person = await make_request(
        database, ring, 908, now - timedelta(hours=25), contact="phone", phone=PHONE
    )
    ran = await firststep(tmp_path, cli_env(database_url, keyring_file), "purge")
    assert ran.code == 0, ran.err
    assert "request_drafts: removed 1" in ran.out
    assert "no key ring" not in ran.err
    state, draft = await sealed_state(database, ring, person)
    assert state == Step.MENTOR_LAPSED
    assert draft == {"office": OFFICE, REQUEST_KEY: {}}


async def test_purge_command_without_a_key_ring_says_so_and_drops_the_request(
    database: Database, database_url: str, ring: KeyRing, tmp_path: Path
) -> None:
    now = datetime.now(T0.tzinfo)
    person = await make_request(
        database, ring, 909, now - timedelta(hours=25), contact="phone", phone=PHONE
    )
    ran = await firststep(tmp_path, cli_env(database_url), "purge")
    assert ran.code == 0, ran.err
    assert "request_drafts: removed 1" in ran.out
    assert "no key ring here" in ran.err
    assert await sealed_state(database, ring, person) == (Step.MENTOR_LAPSED, {})


async def test_a_person_writing_while_the_purge_runs_is_not_cut_off(
    database: Database, database_url: str, ring: KeyRing
) -> None:
    """PostgreSQL, two processes: the purge passes over a person whose update holds their
    row (it does not wait on it), and their message restarts the clock."""
    if not database_url.startswith("postgresql"):
        pytest.skip("SQLite has one writer at a time: the purge simply runs after them")
    person = await make_request(database, ring, 910, T0, contact="phone", phone=PHONE)
    later = T0 + timedelta(hours=25)
    async with person_transaction(database, ring, 910, later) as tx:
        assert tx.person is not None
        counts = await asyncio.wait_for(purge(database, later, POLICY, ring=ring), 10)
        assert counts["request_drafts"] == 0
        await tx.move(Step.MENTOR_CONFIRM, draft=tx.person.draft.with_request(time="any"))
    assert await lapsed(database, later, ring) == 0
    state, draft = await sealed_state(database, ring, person)
    assert state == Step.MENTOR_CONFIRM and draft[REQUEST_KEY]["phone"] == PHONE
