"""Privacy through the real Application: canaries never leak, /forget leaves nothing.

The canary test plants a recognisable first name, username, user id, disclosure and bot
token, turns every logger up to DEBUG, and then looks for them everywhere they must not
be: the logs (three ways), every request to anyone but that person, and the database
files byte by byte.
"""

from __future__ import annotations

import base64
import json
import logging
import re
import sqlite3
from collections.abc import Iterator
from contextlib import closing, contextmanager
from io import StringIO
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import event

from bot.logs import LibraryPrivacy, RedactTokens, configure_logging
from conversations import texts
from conversations.steps import Step
from storage.crypto import CryptoError, FieldCipher, KeyRing, Role, pseudonym_candidates
from storage.db import Database, keystore_path
from storage.models import KEYSTORE_SCHEMA
from storage.repositories.subjects import open_subject_key
from tests.support.dbscan import (
    all_rows,
    cells_containing,
    files_containing,
    row_counts,
    sqlite_files,
)
from tests.support.harness import Harness

CANARY_ID = 7_781_000_001
OTHER_ID = 7_781_000_002
CANARY_NAME = "Quillonrex"
CANARY_LAST_NAME = "Vantablanc"
CANARY_USERNAME = "canary_qx_user81"
CANARY_WORDS = "CANARY-DISCLOSURE heroin since the flood, tell nobody 4417"
CANARY_TOKEN = "7781999999:AAcanaryTOKENsecret-xyz_0123456789"


@contextmanager
def everything_logged_at_debug() -> Iterator[StringIO]:
    """Every logger at DEBUG, the production stderr handler, and one more root handler."""
    root = logging.getLogger()
    ours = [h for h in root.handlers if any(isinstance(f, RedactTokens) for f in h.filters)]
    for handler in ours:  # so configure_logging binds a fresh handler to this test's stderr
        root.removeHandler(handler)
    before = list(root.handlers)
    levels = {
        name: logger.level
        for name, logger in logging.root.manager.loggerDict.items()
        if isinstance(logger, logging.Logger)
    }
    root_level = root.level
    stream = StringIO()
    extra = logging.StreamHandler(stream)
    extra.setLevel(logging.DEBUG)
    try:
        configure_logging("DEBUG")
        root.addHandler(extra)
        yield stream
    finally:
        for handler in root.handlers[:]:
            if handler not in before:
                root.removeHandler(handler)
        for handler in ours:
            root.addHandler(handler)
        root.setLevel(root_level)
        for name, level in levels.items():
            logging.getLogger(name).setLevel(level)


def all_loggers_to_debug() -> None:
    logging.getLogger().setLevel(logging.DEBUG)
    for logger in list(logging.root.manager.loggerDict.values()):
        if isinstance(logger, logging.Logger):
            logger.setLevel(logging.DEBUG)


async def canary_journey(harness: Harness) -> None:
    """A full journey by the canary person, with a fault on the way."""
    me = CANARY_ID
    await harness.send(me, "/start")
    await harness.press(me, texts.BTN_CONTINUE)
    await harness.press(me, texts.BTN_TELL)
    await harness.press(me, texts.OPTION_LABELS["opioids"])
    await harness.press(me, texts.BTN_DONE)
    for _ in range(3):
        await harness.press(me, texts.BTN_SKIP)
    await harness.send(me, CANARY_WORDS)
    await harness.send(me, "/mydata")
    await harness.send(me, "/jobcentre")
    await harness.send(me, "hull")
    await harness.location(me, 53.7446, -0.3352)
    await harness.send(me, "/support")
    harness.emu.inject_fault("sendMessage", status=502, chat_id=me)
    await harness.send(me, "/help")  # fails once: the error path logs too
    harness.emu.user_sends_media(me, "photo", caption=CANARY_WORDS)
    await harness.send(me, "I want to kill myself")
    await harness.send(OTHER_ID, "/start")


async def canaries_stay_out(
    database_url: str,
    ring: KeyRing,
    tmp_path: Path,
    caplog: pytest.LogCaptureFixture,
    capfd: pytest.CaptureFixture[str],
) -> None:
    canaries = [
        CANARY_NAME,
        CANARY_LAST_NAME,
        CANARY_USERNAME,
        str(CANARY_ID),
        CANARY_WORDS,
        CANARY_TOKEN,
        CANARY_TOKEN.split(":")[1],
    ]
    with everything_logged_at_debug() as root_stream:
        caplog.set_level(logging.DEBUG)
        harness = Harness(database_url, ring, tmp_path, token=CANARY_TOKEN)
        harness.emu.register_user(
            CANARY_ID, CANARY_NAME, username=CANARY_USERNAME, last_name=CANARY_LAST_NAME
        )
        harness.person(OTHER_ID, "Bea")
        await harness.start()
        all_loggers_to_debug()
        try:
            await canary_journey(harness)
            rows = await all_rows(harness.services.database)
            live_files = {path: path.read_bytes() for path in sqlite_files(database_url)}
        finally:
            await harness.stop()
    stderr = capfd.readouterr().err
    logs = {"caplog": caplog.text, "root handler": root_stream.getvalue(), "stderr": stderr}

    # Not vacuous: all three saw our events and the libraries' DEBUG chatter.
    for name, text in logs.items():
        assert "event=notice.accepted" in text, name
        assert "event=handler_error" in text, name
        assert "event=crisis.reply" in text, name
        assert "Calling Bot API endpoint `sendMessage`" in text, name
        for canary in canaries:
            assert canary not in text, f"{canary!r} in {name}"

    # Requests: the canary's own chat may show their words, nobody else's may.
    others = [c for c in harness.emu.calls() if c.params.get("chat_id") != CANARY_ID]
    assert any(c.params.get("chat_id") == OTHER_ID for c in others)
    for call in others:
        body = json.dumps(call.params, default=str)
        for canary in canaries:
            assert canary not in body, f"{canary!r} sent in {call.method}"
    for call in harness.emu.calls():  # and no one, ever, is sent their name or username
        body = json.dumps(call.params, default=str)
        for canary in (CANARY_NAME, CANARY_LAST_NAME, CANARY_USERNAME):
            assert canary not in body, f"{canary!r} sent in {call.method}"

    # The database: no canary in any cell, nor anywhere in the SQLite files' bytes.
    assert rows["people"] and rows["disclosures"], "the journey kept something"
    needles: list[str | int] = [*canaries, CANARY_ID]
    for needle in needles:
        assert cells_containing(rows, needle) == [], needle
    # Scanned while running (write-ahead logs not yet folded in) and after the stop.
    if database_url.startswith("sqlite"):
        assert {p.name for p in live_files} >= {
            "firststep.db",
            "firststep.db-wal",
            "firststep.keystore.db",
            "firststep.keystore.db-wal",
        }
    snapshot = tmp_path / "live"
    snapshot.mkdir()
    for path, blob in live_files.items():
        (snapshot / path.name).write_bytes(blob)
    files = [*sqlite_files(database_url), *snapshot.iterdir()]
    if database_url.startswith("sqlite"):  # the scan does find plain text that is there
        assert files_containing(files, "processed_updates")
    assert cells_containing(rows, "notice_accepted") == ["event_counts.event"]
    for needle in needles:
        assert files_containing(files, needle) == [], needle


async def test_canaries_never_reach_logs_other_chats_or_the_database(
    database_url: str,
    ring: KeyRing,
    tmp_path: Path,
    caplog: pytest.LogCaptureFixture,
    capfd: pytest.CaptureFixture[str],
) -> None:
    await canaries_stay_out(database_url, ring, tmp_path, caplog, capfd)


async def test_canary_check_rejects_library_logs_left_unfiltered(
    database_url: str,
    ring: KeyRing,
    tmp_path: Path,
    caplog: pytest.LogCaptureFixture,
    capfd: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Broken variant: PTB's DEBUG records keep their values (updates, payloads, URL)."""
    monkeypatch.setattr("bot.app.install_log_privacy", lambda: None)
    monkeypatch.setattr("bot.logs.install_log_privacy", lambda: None)
    for logger in list(logging.root.manager.loggerDict.values()):
        if isinstance(logger, logging.Logger) and logger.filters:
            kept = [f for f in logger.filters if not isinstance(f, LibraryPrivacy)]
            monkeypatch.setattr(logger, "filters", kept)
    with pytest.raises(AssertionError, match="in caplog"):
        await canaries_stay_out(database_url, ring, tmp_path, caplog, capfd)


# --- /forget ---------------------------------------------------------------------------

ALEX = 7_700_000_301


def ring_keys(ring: KeyRing) -> list[bytes]:
    """Every KEK and pepper of the ring, raw."""
    data = json.loads(ring.to_json())
    return [base64.b64decode(v) for group in ("keks", "peppers") for v in data[group].values()]


async def tell_everything(harness: Harness) -> None:
    await harness.onboard(ALEX)
    await harness.press(ALEX, texts.BTN_TELL)
    await harness.press(ALEX, texts.OPTION_LABELS["alcohol"])
    await harness.press(ALEX, texts.OPTION_LABELS["cannabis"])
    await harness.press(ALEX, texts.BTN_DONE)
    await harness.press(ALEX, texts.OPTION_LABELS["over_5y"])
    await harness.press(ALEX, texts.OPTION_LABELS["gp"])
    await harness.press(ALEX, texts.BTN_DONE)
    await harness.press(ALEX, texts.BTN_PREFER_NOT)
    await harness.send(ALEX, "Wine every night, more at weekends")


async def test_no_keep_it_keeps_everything(harness: Harness) -> None:
    await tell_everything(harness)
    answers = await harness.answers(ALEX)
    counts = await row_counts(harness.services.database)
    await harness.send(ALEX, "/forget")
    assert harness.last_text(ALEX) == texts.FORGET_ASK
    assert harness.emu.button_texts(ALEX) == [texts.BTN_FORGET_YES, texts.BTN_FORGET_NO]
    await harness.press(ALEX, texts.BTN_FORGET_NO)
    assert harness.last_text(ALEX) == texts.FORGET_KEPT
    assert await harness.answers(ALEX) == answers
    after = await row_counts(harness.services.database)
    assert {k: v for k, v in after.items() if k != "processed_updates"} == {
        k: v for k, v in counts.items() if k != "processed_updates"
    }
    assert await harness.state(ALEX) == Step.MENU


def traces(rows: dict[str, list[dict[str, Any]]], ring: KeyRing) -> dict[str, bytes]:
    """What identifies or unlocks ALEX in the database (there is only ALEX): each sealed
    value, the pseudonyms, and the wrapped data key."""
    found: dict[str, bytes] = {}
    for row in rows["people"]:
        found["people.draft_ct"] = row["draft_ct"]
        found["people.chat_ref_ct"] = row["chat_ref_ct"]
    for row in rows["disclosures"]:
        found[f"disclosures.{row['field']}"] = row["value_ct"]
    for row in rows["keystore.subject_keys"]:
        found["subject_keys.wrapped_dek"] = row["wrapped_dek"]
    for version, pseudonym in pseudonym_candidates(ring, Role.USER, ALEX):
        found[f"pseudonym.v{version}"] = pseudonym
    return found


def left_in_files(database_url: str, found: dict[str, bytes]) -> list[str]:
    """`file: name` of every trace still in the raw bytes of the SQLite files."""
    return [
        f"{path.name}: {name}"
        for path in sqlite_files(database_url)
        for name, value in found.items()
        if value in path.read_bytes()
    ]


async def keep_deleted_bytes(database: Database) -> None:
    """The broken variant: SQLite told to leave deleted bytes in free pages (as builds
    without SQLITE_SECURE_DELETE do by default), on every connection from now on."""

    @event.listens_for(database.engine.sync_engine, "connect")
    def _off(dbapi_connection: Any, _record: Any) -> None:
        cursor = dbapi_connection.cursor()
        for schema in ("main", KEYSTORE_SCHEMA):
            cursor.execute(f"PRAGMA {schema}.secure_delete=OFF")
        cursor.close()

    await database.engine.dispose()  # the pool reconnects with the listener


async def test_the_file_scan_finds_what_sqlite_leaves_in_free_pages(
    harness: Harness, ring: KeyRing, database_url: str
) -> None:
    """The scan in the /forget test below can fail: with secure_delete off, the same
    /forget leaves the person's bytes in the files."""
    if not database_url.startswith("sqlite"):
        pytest.skip("the byte scan reads SQLite files")
    await keep_deleted_bytes(harness.services.database)
    await tell_everything(harness)
    before = await all_rows(harness.services.database)
    await harness.send(ALEX, "/forget")
    await harness.press(ALEX, texts.BTN_FORGET_YES)
    assert await harness.record(ALEX) is None
    await harness.stop()
    left = left_in_files(database_url, traces(before, ring))
    assert any(name.endswith("disclosures.own_words") for name in left), left
    assert any(name.endswith("subject_keys.wrapped_dek") for name in left), left
    await harness.start()


async def test_forget_leaves_no_row_and_no_readable_copy_and_greets_them_as_new(
    harness: Harness, ring: KeyRing, database_url: str
) -> None:
    await tell_everything(harness)
    await harness.send(ALEX, "/mydata")
    assert "Wine every night, more at weekends" in harness.all_text(ALEX)
    person = await harness.record(ALEX)
    assert person is not None
    person_id = person.id
    before = await all_rows(harness.services.database)
    sealed = [
        ("people", column, row["id"], row[column])
        for row in before["people"]
        for column in ("draft_ct", "chat_ref_ct")
    ] + [
        ("disclosures", f"value_ct:{row['field']}", row["id"], row["value_ct"])
        for row in before["disclosures"]
    ]
    assert len(sealed) == 2 + 5

    await harness.send(ALEX, "/forget")
    await harness.press(ALEX, texts.BTN_FORGET_YES)
    done = harness.last_text(ALEX)
    assert done == texts.FORGET_DONE.format(
        disclosures=5,
        referrals=0,
        cancelled=0,
        backup_days=harness.settings.backup_erasure_days,
        main_backup_days=harness.settings.backup_main_days,
    )
    assert "Answers wiped: 5" in done

    rows = await all_rows(harness.services.database)
    # The erasure journal keeps the random subject id and a time, so a restored backup
    # can be erased again: nothing else anywhere refers to the person.
    assert cells_containing(rows, person_id) == ["keystore.erasure_journal.subject_id"]
    assert set(rows["keystore.erasure_journal"][0]) == {"subject_id", "erased_at"}
    for _, pseudonym in pseudonym_candidates(ring, Role.USER, ALEX):
        assert cells_containing(rows, pseudonym) == []
    for _, _, _, blob in sealed:
        assert cells_containing(rows, blob) == []
    assert rows["people"] == rows["disclosures"] == rows["keystore.subject_keys"] == []

    # Nor in the files: SQLite overwrites what it deletes (secure_delete), so once the bot
    # stops (its last connection checkpoints the WAL into the files) no sealed value, no
    # pseudonym and no wrapped data key is left in a free page of the main file or the
    # key store, even before any VACUUM.
    await harness.stop()
    assert left_in_files(database_url, traces(before, ring)) == []
    await harness.start()

    # A copy taken before (a backup, say) opens with no key in the ring.
    async with harness.services.database.transaction() as connection:
        assert await open_subject_key(connection, ring, person_id) is None
    for table, column, row_id, blob in sealed:
        for key in ring_keys(ring):
            with pytest.raises(CryptoError):
                FieldCipher(key, person_id).open(table, column, row_id, blob)

    # Greeted as new: the notice again, for a message or a /start.
    await harness.send(ALEX, "hello again")
    assert harness.last_text(ALEX).startswith(texts.NOTICE_FIRST)
    await harness.send(ALEX, "/start")
    assert harness.last_text(ALEX).startswith(texts.WELCOME)
    assert "Before you tell us anything" in harness.last_text(ALEX)
    assert await harness.record(ALEX) is None


LOG_FILES = {"firststep.db-wal", "firststep.keystore.db-wal"}


async def test_forget_leaves_nothing_in_the_write_ahead_logs_while_the_bot_runs(
    harness: Harness, ring: KeyRing, database_url: str, caplog: pytest.LogCaptureFixture
) -> None:
    """The bot keeps running after /forget: no checkpoint on shutdown will come to the
    rescue, so the erasure itself must leave no older page image in a write-ahead log."""
    if not database_url.startswith("sqlite"):
        pytest.skip("the byte scan reads SQLite files")
    await tell_everything(harness)
    found = traces(await all_rows(harness.services.database), ring)
    before = left_in_files(database_url, found)
    # The scan sees the person in both logs before: it would see what an erasure left.
    assert any(hit.startswith("firststep.db-wal: disclosures.") for hit in before), before
    assert "firststep.keystore.db-wal: subject_keys.wrapped_dek" in before, before

    with caplog.at_level(logging.INFO, logger="firststep"):
        await harness.send(ALEX, "/forget")
        await harness.press(ALEX, texts.BTN_FORGET_YES)
    assert await harness.record(ALEX) is None

    scanned = {path.name for path in sqlite_files(database_url)}
    assert {"firststep.db", "firststep.keystore.db", *LOG_FILES} <= scanned
    assert left_in_files(database_url, found) == []
    assert "wal_checkpoint_busy" not in caplog.text


async def test_a_reader_on_an_old_snapshot_keeps_the_logs_and_the_bot_says_so(
    harness: Harness, ring: KeyRing, database_url: str, caplog: pytest.LogCaptureFixture
) -> None:
    """The broken variant of the test above: another process reading an older snapshot
    (a backup, say) stops the checkpoint, the scan finds the person, and the event (no
    ids) is logged; the next erasure, once the reader is gone, finishes the job."""
    if not database_url.startswith("sqlite"):
        pytest.skip("the byte scan reads SQLite files")
    await tell_everything(harness)
    found = traces(await all_rows(harness.services.database), ring)
    main = Path(database_url.removeprefix("sqlite+aiosqlite:///"))
    with closing(sqlite3.connect(main)) as reader:
        reader.execute("ATTACH DATABASE ? AS keystore", (str(keystore_path(main)),))
        reader.execute("BEGIN")
        reader.execute("SELECT count(*) FROM people").fetchall()
        reader.execute("SELECT count(*) FROM keystore.subject_keys").fetchall()
        with caplog.at_level(logging.INFO, logger="firststep"):
            await harness.send(ALEX, "/forget")
            await harness.press(ALEX, texts.BTN_FORGET_YES)
        assert harness.last_text(ALEX).startswith(texts.FORGET_DONE.split("{")[0])
        left = left_in_files(database_url, found)
        assert any(hit.endswith("subject_keys.wrapped_dek") for hit in left), left
        assert any(".db-wal: disclosures." in hit for hit in left), left
        busy = [line for line in caplog.text.splitlines() if "wal_checkpoint_busy" in line]
        assert {line.split("schema=")[1] for line in busy} == {"main", KEYSTORE_SCHEMA}
        assert str(ALEX) not in caplog.text
        reader.rollback()

    await harness.onboard(ALEX)  # back as new, then gone again: this checkpoint completes
    await harness.send(ALEX, "/forget")
    await harness.press(ALEX, texts.BTN_FORGET_YES)
    assert left_in_files(database_url, found) == []


def days_in(text: str, *, about: str) -> int:
    """The number of days in the one sentence of `text` that mentions `about`."""
    (sentence,) = [s for s in re.split(r"(?<=\.)\s", text) if about in s]
    (days,) = re.findall(r"(\d+) days", sentence)
    return int(days)


@pytest.mark.parametrize(("key_days", "main_days"), [(7, 30), (3, 20)])
async def test_what_forget_says_about_backups_follows_the_backup_settings(
    database_url: str, ring: KeyRing, tmp_path: Path, key_days: int, main_days: int
) -> None:
    """`firststep backup` prunes key-store copies after `backup_erasure_days` (until then a
    copy of the key can read the person) and main copies (locked data and the pseudonym)
    after `backup_main_days`: what the person is told must say exactly that."""
    harness = Harness(
        database_url, ring, tmp_path, backup_erasure_days=key_days, backup_main_days=main_days
    )
    await harness.start()
    try:
        await harness.onboard(ALEX)
        await harness.send(ALEX, "/forget")
        await harness.press(ALEX, texts.BTN_FORGET_YES)
        done = harness.last_text(ALEX)
    finally:
        await harness.stop()
    assert days_in(done, about="copy of that key") == key_days
    assert "After that, nobody can read your data." in done
    assert days_in(done, about="still hold it, locked") == main_days
    assert "Then the last trace is gone." in done


async def test_forget_before_the_notice_has_nothing_to_wipe(harness: Harness) -> None:
    await harness.send(ALEX, "/forget")
    assert harness.last_text(ALEX) == texts.FORGET_NOTHING
    assert sum((await row_counts(harness.services.database)).values()) == 0


async def test_mydata_shows_everything_kept(harness: Harness) -> None:
    await tell_everything(harness)
    await harness.send(ALEX, "/mydata")
    shown = harness.all_text(ALEX)
    assert texts.MYDATA_HEADER in shown and texts.MYDATA_ALWAYS in shown
    for label in ("Alcohol, Cannabis", "More than 5 years", "My GP", "prefer not to say"):
        assert label in shown
    assert texts.BTN_FORGET in harness.emu.button_texts(ALEX)
