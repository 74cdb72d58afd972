"""The web door's own behaviour through the real server and the real Application: the
texts where the channel differs, replay by event id, a message sent twice, the recovery
code, the same crisis answers as the Telegram door, and canaries kept out of logs and
files."""

from __future__ import annotations

import logging
from typing import Any

import pytest

from bot.delivery import worker_of
from bot.webchat import updates
from conversations import texts, web_texts
from storage.repositories import webchat as store
from tests.support.dbscan import all_rows, files_containing, sqlite_files
from tests.support.delivery import rejected
from tests.support.harness import Harness
from tests.support.webchat import WebPerson, web_client

ALEX = 7_700_700_011


async def test_web_notice_help_and_clear_fit_the_web(harness: Harness) -> None:
    client = await web_client(harness)
    try:
        person = WebPerson(client, harness)
        await person.open_chat()
        await person.send("/start")
        notice = person.all_text()
        assert "Quick exit" in notice and "private window" in notice
        assert "Telegram" not in notice and "/clear" not in notice
        await person.press(texts.BTN_CONTINUE)
        await person.send("/help")
        assert person.last_text() == web_texts.HELP_WEB
        before = await harness.state(person.chat_id)
        await person.send("/clear")
        assert person.last_text() == web_texts.CLEAR_WEB
        assert await harness.state(person.chat_id) == before
        # The Telegram door is unchanged.
        await harness.send(ALEX, "/start")
        assert "Telegram" in harness.all_text(ALEX)
    finally:
        await client.close()


async def replay_scenario(harness: Harness) -> None:
    client = await web_client(harness)
    try:
        person = WebPerson(client, harness)
        await person.open_chat()
        await person.send("/start")
        first = person.last
        assert first >= 1
        await person.press(texts.BTN_CONTINUE)
        everything = await person.events(0)
        later = await person.events(first)
        assert [seq for seq, _ in everything] == list(range(1, person.last + 1))
        assert [seq for seq, _ in later] == list(range(first + 1, person.last + 1)), "replayed"
        assert later == everything[first:]
    finally:
        await client.close()


async def test_a_reconnect_replays_only_what_came_after_its_event_id(harness: Harness) -> None:
    await replay_scenario(harness)


async def test_the_replay_check_catches_a_server_that_ignores_last_event_id(
    harness: Harness, monkeypatch: pytest.MonkeyPatch
) -> None:
    real = store.events_after

    async def from_the_start(
        database: Any, ring: Any, chat_id: int, after: int, limit: int = 200
    ) -> list[store.Event]:
        return await real(database, ring, chat_id, 0, limit)

    monkeypatch.setattr(store, "events_after", from_the_start)
    error = await rejected(replay_scenario(harness))
    assert "replayed" in str(error) or "an event came twice" in str(error)


async def test_a_message_sent_again_with_the_same_id_is_handled_once(harness: Harness) -> None:
    client = await web_client(harness)
    try:
        person = WebPerson(client, harness)
        await person.open_chat()
        await person.send("/start")
        await person.press(texts.BTN_CONTINUE)
        await person.press(texts.BTN_TELL)
        events = person.last
        # A page that lost the answer sends the same message again, with the same id.
        assert await person.post({"text": "two years"}, client_id="retry-0001") == 200
        once = await store.latest_seq(harness.services.database, person.chat_id)
        assert await person.post({"text": "two years"}, client_id="retry-0001") == 200
        assert await store.latest_seq(harness.services.database, person.chat_id) == once
        assert once > events
    finally:
        await client.close()


async def test_the_same_id_check_catches_a_page_id_that_changes(
    harness: Harness, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The broken variant: update ids not derived from the page's id are handled twice."""
    counter = iter(range(10**6))
    monkeypatch.setattr(updates, "web_update_id", lambda chat, client: 2**60 + next(counter))
    client = await web_client(harness)
    try:
        person = WebPerson(client, harness)
        await person.open_chat()
        await person.send("/start")
        await person.press(texts.BTN_CONTINUE)
        await person.post({"text": "/help"}, client_id="retry-0002")
        once = await store.latest_seq(harness.services.database, person.chat_id)
        await person.post({"text": "/help"}, client_id="retry-0002")
        assert await store.latest_seq(harness.services.database, person.chat_id) > once
    finally:
        await client.close()


async def test_an_outbox_row_sent_again_is_kept_once_and_the_check_catches_its_absence(
    harness: Harness,
) -> None:
    client = await web_client(harness)
    try:
        person = WebPerson(client, harness)
        await person.open_chat()
        assert harness.app is not None
        bot = harness.app.bot
        origin = {"firststep_origin": "row-1:Send"}
        first = await bot.send_message(person.chat_id, "from the outbox", api_kwargs=origin)
        again = await bot.send_message(person.chat_id, "from the outbox", api_kwargs=origin)
        assert first.message_id == again.message_id
        await person.sync()
        assert person.texts().count("from the outbox") == 1
        # Without the row's name (the broken variant) the resend is kept twice.
        await bot.send_message(person.chat_id, "no origin")
        await bot.send_message(person.chat_id, "no origin")
        await person.sync()
        assert person.texts().count("no origin") == 2
        assert worker_of(harness.app) is not None
    finally:
        await client.close()


async def test_a_recovery_code_opens_the_same_chat_once_under_a_new_token(
    harness: Harness,
) -> None:
    client = await web_client(harness)
    try:
        person = WebPerson(client, harness)
        await person.open_chat()
        await person.send("/start")
        response = await client.post("/api/recovery-code", headers=person.auth)
        code = (await response.json())["code"]
        assert len(code) == 11 and code[5] == "-"
        old = person.token
        response = await client.post("/api/recover", json={"code": code}, headers=person.origin)
        assert response.status == 200
        back = WebPerson(client, harness)
        back.token = (await response.json())["token"]
        back.chat_id = person.chat_id
        await back.sync()
        assert back.texts() == person.texts()
        gone = await client.post(
            "/api/send",
            json={"id": "abcdefgh1"},
            headers={**person.origin, "Authorization": f"Bearer {old}"},
        )
        assert gone.status == 401
        again = await client.post("/api/recover", json={"code": code}, headers=person.origin)
        assert again.status == 404
    finally:
        await client.close()


CRISIS_SCRIPT = [
    "/start",
    "I want to kill myself tonight",
    "help",
    "I'm not sure I can keep going",
]


async def test_the_web_door_gets_the_same_crisis_answers_as_telegram(harness: Harness) -> None:
    client = await web_client(harness)
    try:
        person = WebPerson(client, harness)
        await person.open_chat()
        for text in CRISIS_SCRIPT:
            await harness.send(ALEX, text)
            await person.send(text)
        telegram = [t for t in harness.texts(ALEX)]
        web = person.texts()
        assert any(t.startswith(texts.CRISIS_NOT_SAVED) for t in web)

        # Each urgent reply the Telegram door gave, the web door gave, in the same order
        # (the notice itself is the one text that differs by door; "not saved" is written
        # above it, in the same message).
        def notice_free(said: list[str]) -> list[str]:
            return [
                t.split("\n\n", 1)[0] if "Before you tell us anything" in t else t for t in said
            ]

        assert notice_free(telegram) == notice_free(web)
        assert await harness.record(person.chat_id) is None  # nothing kept
    finally:
        await client.close()


CANARY = "CANARY-WEB heroin since the flood, tell nobody 5521"


async def test_web_canaries_never_reach_logs_or_database_files(
    harness: Harness, caplog: pytest.LogCaptureFixture, database_url: str
) -> None:
    caplog.set_level(logging.DEBUG)
    client = await web_client(harness)
    try:
        person = WebPerson(client, harness)
        await person.open_chat()
        await person.send("/start")
        await person.press(texts.BTN_CONTINUE)
        await person.press(texts.BTN_TELL)
        await person.send(CANARY)
        token = person.token
    finally:
        await client.close()
    logged = caplog.text
    for secret in (CANARY, token, str(person.chat_id)):
        assert secret not in logged
    await harness.stop()
    # The chat id is the web chat's own random number, kept on purpose (web_chats); the
    # words and the token (only its hash is kept) must be nowhere.
    files = sqlite_files(database_url)
    for secret in (CANARY, token):
        assert files_containing(files, secret) == [], secret


async def test_retention_takes_an_idle_web_chat_whose_person_is_gone(harness: Harness) -> None:
    from datetime import timedelta

    from storage.operations.retention import RetentionPolicy, purge

    client = await web_client(harness)
    try:
        talking, idle = WebPerson(client, harness), WebPerson(client, harness)
        for person in (talking, idle):
            await person.open_chat()
            await person.send("/start")
        await talking.press(texts.BTN_CONTINUE)  # a person now: kept while they are
        services = harness.services
        later = services.clock() + timedelta(days=31)
        policy = RetentionPolicy(inactive_days=30, after_close_days=90)
        soon = services.clock() + timedelta(days=29)
        assert (await purge(services.database, soon, policy, ring=services.ring))["web_chats"] == 0
        assert await store.latest_seq(services.database, idle.chat_id) > 0  # still there
        counts = await purge(services.database, later, policy, ring=services.ring)
        # The person went first (people_inactive, by /forget's route), then both idle
        # chats with no person behind them, with what they kept; their tokens open nothing.
        assert counts["people_inactive"] == 1
        assert counts["web_chats"] == 2
        for person in (talking, idle):
            kept = await store.events_after(services.database, services.ring, person.chat_id, 0)
            assert kept == []
            assert await store.chat_of(services.database, person.token, later) is None
    finally:
        await client.close()


async def test_texts_that_look_like_json_arrive_as_written(harness: Harness) -> None:
    client = await web_client(harness)
    try:
        person = WebPerson(client, harness)
        await person.open_chat()
        assert harness.app is not None
        for text in ("true", "null", "123", '{"a": 1}', "[1, 2]"):
            await harness.app.bot.send_message(person.chat_id, text)
        await person.sync()
        assert person.texts() == ["true", "null", "123", '{"a": 1}', "[1, 2]"]
    finally:
        await client.close()


async def test_a_page_opened_from_a_poster_starts_at_its_office_and_is_counted(
    harness: Harness,
) -> None:
    """The poster's web code (`?office=<id>&src=poster`) reaches the same counter as the
    Telegram door's, through the server; a forged or unknown office is a plain /start."""
    office = "portsmouth-arundel-street"
    client = await web_client(harness)
    try:
        person = WebPerson(client, harness)
        starts = []
        for query in (
            {"office": office, "src": "poster"},
            {"office": office},
            {"office": "nowhere-at-all", "src": "poster"},
            {"office": ["not", "a", "string"]},
        ):
            response = await client.post("/api/chats", json=query, headers=person.origin)
            assert response.status == 200
            starts.append((await response.json())["start"])
        assert starts == [f"/start jc_{office}_w", f"/start jc_{office}", "/start", "/start"]
        await person.open_chat()
        assert await person.post({"text": starts[0]}) == 200
        await person.sync()
        assert texts.WELCOME in "\n".join(shown.text for shown in person.messages.values())
        rows = (await all_rows(harness.services.database))["event_counts"]
        assert {(row["event"], row["office_id"], row["count"]) for row in rows} == {
            ("poster_web", office, 1)
        }
    finally:
        await client.close()


async def test_a_question_pressed_above_help_gets_its_next_step_below(harness: Harness) -> None:
    client = await web_client(harness)
    try:
        person = WebPerson(client, harness)
        await person.open_chat()
        await person.send("/start")
        await person.press(texts.BTN_CONTINUE)
        await person.press(texts.BTN_TELL)
        question = max(person.messages)
        assert person.messages[question].text.endswith(texts.Q_SUBSTANCES)
        await person.send("/help")
        await person.press(texts.BTN_SKIP)  # only the question above has one
        assert person.last_text() == texts.Q_DURATION, "the next step is at the bottom"
        assert max(person.messages) > question
        above = person.messages[question]
        assert above.text.endswith(texts.Q_SUBSTANCES) and above.inline == []
    finally:
        await client.close()
