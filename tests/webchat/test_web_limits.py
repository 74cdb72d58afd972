"""The web door's abuse limits through the real server: Origin, body size, rate limits
per session and per address, and the new-chat budget that stops a flood of sessions
without holding up people already talking."""

from __future__ import annotations

from typing import Any

from aiohttp.test_utils import TestClient, TestServer

from bot.webchat.limits import Limits, Window
from bot.webchat.server import MAX_BODY, WebChatServer
from conversations import texts
from tests.support.harness import Harness
from tests.support.webchat import WebPerson


class Tick:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


async def client_with(harness: Harness, limits: Limits) -> TestClient[Any, Any]:
    assert harness.app is not None
    client: TestClient[Any, Any] = TestClient(
        TestServer(WebChatServer(harness.app, harness.settings, limits).app())
    )
    await client.start_server()
    return client


async def test_posts_from_another_origin_or_none_are_refused(harness: Harness) -> None:
    client = await client_with(harness, Limits())
    try:
        person = WebPerson(client, harness)
        assert (await client.post("/api/chats", json={})).status == 403
        other = {"Origin": "https://evil.example"}
        assert (await client.post("/api/chats", json={}, headers=other)).status == 403
        await person.open_chat()
        wrong = {**person.auth, "Origin": "https://evil.example"}
        response = await client.post(
            "/api/send", json={"id": "abcdefgh1", "text": "/start"}, headers=wrong
        )
        assert response.status == 403
        assert await store_is_empty(harness, person)
    finally:
        await client.close()


async def store_is_empty(harness: Harness, person: WebPerson) -> bool:
    return await person.events(0) == []


async def test_a_body_over_the_limit_is_refused_before_it_is_handled(harness: Harness) -> None:
    client = await client_with(harness, Limits())
    try:
        person = WebPerson(client, harness)
        await person.open_chat()
        body = {"id": "abcdefgh1", "text": "x" * (MAX_BODY + 10)}
        response = await client.post("/api/send", json=body, headers=person.auth)
        assert response.status == 413
        assert await store_is_empty(harness, person)
    finally:
        await client.close()


async def test_every_response_carries_the_strict_headers_and_no_cookie(harness: Harness) -> None:
    client = await client_with(harness, Limits())
    try:
        for path in ("/", "/chat.js", "/chat.css"):
            response = await client.get(path)
            assert response.status == 200
            csp = response.headers["Content-Security-Policy"]
            assert "script-src 'self'" in csp and "default-src 'none'" in csp
            assert "unsafe-inline" not in csp
            assert "Set-Cookie" not in response.headers
            assert response.headers["Referrer-Policy"] == "no-referrer"
        refused = await client.post("/api/chats", json={})
        assert "Content-Security-Policy" in refused.headers
    finally:
        await client.close()


async def test_a_session_sending_too_fast_is_slowed_and_others_go_on(harness: Harness) -> None:
    tick = Tick()
    client = await client_with(harness, Limits(messages_per_minute=3, clock=tick))
    try:
        fast, calm = WebPerson(client, harness), WebPerson(client, harness)
        await fast.open_chat()
        await calm.open_chat()
        statuses = [await fast.post({"text": "/start"}) for _ in range(4)]
        assert statuses == [200, 200, 200, 429]
        # Per address the limit is twice a session's: the calm tab (same address) may
        # still send; the fast one waits out its minute.
        assert await calm.post({"text": "/start"}) == 200
        tick.now += 61
        assert await fast.post({"text": "/help"}) == 200
    finally:
        await client.close()


async def test_a_flood_of_new_chats_meets_the_budget_not_the_people_talking(
    harness: Harness,
) -> None:
    tick = Tick()
    limits = Limits(new_chats_per_minute=3, new_chats_per_address=100, clock=tick)
    client = await client_with(harness, limits)
    try:
        talking = WebPerson(client, harness)
        await talking.open_chat()
        await talking.send("/start")
        flood = [
            (await client.post("/api/chats", json={}, headers=talking.origin)).status
            for _ in range(5)
        ]
        assert flood == [200, 200, 429, 429, 429]
        refused = await client.post("/api/chats", json={}, headers=talking.origin)
        assert (await refused.json())["retry_seconds"] == 60
        # The person already talking is not held up.
        await talking.press(texts.BTN_CONTINUE)
        assert texts.NOTICE_ACCEPTED in talking.all_text()
        tick.now += 61  # a real person who waits a minute gets in
        assert (await client.post("/api/chats", json={}, headers=talking.origin)).status == 200
    finally:
        await client.close()


def test_the_window_forgets_old_keys_and_catches_a_limit_off_by_one() -> None:
    tick = Tick()
    window = Window(2, 60.0, tick)
    assert [window.allow("a") for _ in range(3)] == [True, True, False]
    tick.now += 60
    assert window.allow("a")
    broken = Window(3, 60.0, tick)  # the broken variant lets a third through
    assert [broken.allow("b") for _ in range(3)] != [True, True, False]


async def test_a_wrong_token_or_none_opens_nothing(harness: Harness) -> None:
    client = await client_with(harness, Limits())
    try:
        person = WebPerson(client, harness)
        await person.open_chat()
        bad = {**person.origin, "Authorization": "Bearer " + "A" * 43}
        response = await client.post(
            "/api/send", json={"id": "abcdefgh1", "text": "/start"}, headers=bad
        )
        assert response.status == 401
        assert (await client.get("/api/events")).status == 401
    finally:
        await client.close()


async def test_one_chat_holds_only_a_few_event_streams_at_once(harness: Harness) -> None:
    from bot.webchat.server import STREAMS_PER_CHAT

    client = await client_with(harness, Limits())
    try:
        person = WebPerson(client, harness)
        await person.open_chat()
        headers = {"Authorization": f"Bearer {person.token}"}
        held = [await client.get("/api/events", headers=headers) for _ in range(STREAMS_PER_CHAT)]
        assert [r.status for r in held] == [200] * STREAMS_PER_CHAT
        assert (await client.get("/api/events", headers=headers)).status == 429
        for response in held:
            response.close()
    finally:
        await client.close()
