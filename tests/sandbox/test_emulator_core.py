"""The emulator's own contract: person-side driver, update shapes, inspection, formatting
and the HTTP control API. PTB parses every update shape here (``Update.de_json``)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import httpx
import pytest
from telegram import (
    Animation,
    Audio,
    Document,
    PhotoSize,
    Sticker,
    Update,
    Video,
    VideoNote,
    Voice,
)

from bot.sandbox import EmulatorServer, EmulatorUsageError, ManualClock, TelegramEmulator
from bot.sandbox.emulator import MEDIA_KINDS, ApiReply
from bot.sandbox.formatting import EntityParseError, render

PERSON = 1001
MENTOR = 2002
GROUP = -1001234567890


@pytest.fixture
def emu() -> TelegramEmulator:
    emulator = TelegramEmulator(clock=ManualClock())
    emulator.register_user(PERSON, "Sam", username="sam_test")
    emulator.register_user(MENTOR, "Jo", language_code="en-GB")
    return emulator


def updates(emu: TelegramEmulator) -> list[Update]:
    return [Update.de_json(u, None) for u in emu.pending_updates()]


async def call(emu: TelegramEmulator, method: str, **params: Any) -> ApiReply:
    """A request as PTB sends it: every value a string, nested ones JSON-encoded."""
    import json

    encoded = {k: v if isinstance(v, str) else json.dumps(v) for k, v in params.items()}
    return await emu.handle(method, encoded, token=emu.token)


# ------------------------------------------------------------------ what people send


def test_text_and_commands_carry_bot_command_entities(emu: TelegramEmulator) -> None:
    emu.user_starts(PERSON, "jc_hull")
    emu.user_sends(PERSON, "👍 see /help@first_step_test_bot now")
    emu.user_sends(PERSON, "plain words, a/b and http://x/y")
    first, second, third = updates(emu)
    assert first.message is not None
    assert first.message.text == "/start jc_hull"
    assert [(e.type, e.offset, e.length) for e in first.message.entities] == [("bot_command", 0, 6)]
    assert second.message is not None
    assert [(e.offset, e.length) for e in second.message.entities] == [(7, 25)]  # 👍 is 2 units
    assert third.message is not None
    assert third.message.entities == ()
    assert first.message.from_user is not None
    assert (first.message.from_user.username, first.message.chat.type) == ("sam_test", "private")
    with pytest.raises(EmulatorUsageError, match="deep-link payloads"):
        emu.user_starts(PERSON, "has space")


@pytest.mark.parametrize("kind", MEDIA_KINDS)
def test_media_updates_parse_in_ptb(emu: TelegramEmulator, kind: str) -> None:
    caption = None if kind in ("sticker", "video_note") else "look"
    emu.user_sends_media(PERSON, kind, caption=caption)
    (update,) = updates(emu)
    message = update.message
    assert message is not None
    attachment = message.effective_attachment
    assert attachment is not None
    first = attachment[-1] if isinstance(attachment, tuple) else attachment
    assert isinstance(
        first, PhotoSize | Sticker | Voice | Video | Document | Animation | VideoNote | Audio
    )
    assert first.file_id.startswith(("Ag", "CA", "Aw", "BA", "BQ", "Cg", "DQ", "CQ"))
    assert len(first.file_unique_id) >= 12
    assert message.caption == caption
    assert emu.chat(PERSON)[-1].kind == kind


def test_location_contact_and_edit_updates(emu: TelegramEmulator) -> None:
    emu.user_sends_location(PERSON, 50.7989, -1.0912)
    emu.user_sends_contact(PERSON, "+447700900123")
    sent = emu.user_sends(PERSON, "typo")
    emu.user_edits(PERSON, sent.message_id or 0, "fixed")
    location, contact, _, edited = updates(emu)
    assert location.message is not None
    assert location.message.location is not None
    assert location.message.location.latitude == 50.7989
    assert contact.message is not None
    assert contact.message.contact is not None
    assert contact.message.contact.user_id == PERSON
    assert edited.edited_message is not None
    assert edited.edited_message.text == "fixed"
    assert edited.edited_message.edit_date is not None
    assert emu.chat(PERSON)[-1].edit_count == 1
    with pytest.raises(EmulatorUsageError, match="not a place on Earth"):
        emu.user_sends_location(PERSON, 91, 0)


def test_person_side_guards(emu: TelegramEmulator) -> None:
    with pytest.raises(EmulatorUsageError, match="not registered"):
        emu.user_sends(999, "hi")
    with pytest.raises(EmulatorUsageError, match="empty"):
        emu.user_sends(PERSON, "  ")
    with pytest.raises(EmulatorUsageError, match="split"):
        emu.user_sends(PERSON, "x" * 4097)
    mine = emu.user_sends(PERSON, "mine")
    with pytest.raises(EmulatorUsageError, match="another person's private chat"):
        emu.user_sends(MENTOR, "hi", chat_id=PERSON)
    with pytest.raises(EmulatorUsageError, match="own message"):
        emu.user_presses(PERSON, mine.message_id or 0, "x")
    with pytest.raises(EmulatorUsageError, match="not \\(or no longer\\)"):
        emu.user_presses(PERSON, 77, "x")
    with pytest.raises(EmulatorUsageError, match="no inline button 'Go'"):
        emu.press_button(PERSON, "Go")
    with pytest.raises(EmulatorUsageError, match="no message 99 to edit"):
        emu.user_edits(PERSON, 99, "x")
    emu.block_bot(PERSON)
    with pytest.raises(EmulatorUsageError, match="blocked the bot"):
        emu.user_sends(PERSON, "hi")


async def test_buttons_must_exist_on_that_message(emu: TelegramEmulator) -> None:
    emu.user_sends(PERSON, "hi")
    markup = {
        "inline_keyboard": [
            [{"text": "Accept", "callback_data": "acc:R-7KQ3XW"}],
            [{"text": "Map", "url": "https://maps.example.org/?q=1"}],
        ]
    }
    sent = await call(emu, "sendMessage", chat_id=PERSON, text="Card", reply_markup=markup)
    message_id = sent.body["result"]["message_id"]
    assert emu.buttons(PERSON) == markup["inline_keyboard"]

    pressed = emu.user_presses(PERSON, message_id, "acc:R-7KQ3XW")
    assert pressed.callback_query_id is not None
    with pytest.raises(EmulatorUsageError, match=r"buttons are \['acc:R-7KQ3XW'\]"):
        emu.user_presses(PERSON, message_id, "acc:OTHER")
    with pytest.raises(EmulatorUsageError, match="sends no callback"):
        emu.press_button(PERSON, "Map")
    by_text = emu.press_button(PERSON, "Accept")
    forged = emu.forge_callback(PERSON, message_id, "acc:OTHER")
    ghost = emu.forge_callback(PERSON, 4040, "x" * 64)
    parsed = updates(emu)[-4:]
    queries = [u.callback_query for u in parsed]
    assert [q.data for q in queries if q] == [
        "acc:R-7KQ3XW",
        "acc:R-7KQ3XW",
        "acc:OTHER",
        "x" * 64,
    ]
    assert queries[0] is not None
    assert queries[0].message is not None
    assert queries[0].message.message_id == message_id
    assert queries[3] is not None
    assert queries[3].message is not None
    # PTB 22.8 parses it as a Message with date 0: check is_accessible, not isinstance.
    assert queries[3].message.is_accessible is False
    ids = {pressed.callback_query_id, by_text.callback_query_id, forged.callback_query_id}
    assert len(ids | {ghost.callback_query_id}) == 4


# ------------------------------------------------------------------ groups, channels, blocking


async def test_groups_channels_and_membership(emu: TelegramEmulator) -> None:
    with pytest.raises(EmulatorUsageError, match="add_group"):
        emu.user_sends(PERSON, "hello group", chat_id=GROUP)
    added = emu.bot_added_to_group(GROUP, PERSON, title="Mentors")
    emu.user_sends(PERSON, "hello group", chat_id=GROUP)
    emu.channel_post(-1009876543210, "news")
    member, service, text, post = updates(emu)
    assert added.update_id == member.update_id
    assert member.my_chat_member is not None
    assert member.my_chat_member.chat.type == "supergroup"
    assert member.my_chat_member.new_chat_member.status == "member"
    assert member.my_chat_member.new_chat_member.user.id == emu.bot_id
    assert service.message is not None
    assert [u.id for u in service.message.new_chat_members] == [emu.bot_id]
    assert text.message is not None
    assert text.message.chat.title == "Mentors"
    assert post.channel_post is not None
    assert post.channel_post.sender_chat is not None
    assert post.channel_post.text == "news"

    assert (await call(emu, "leaveChat", chat_id=GROUP)).body["result"] is True
    assert emu.bot_status(GROUP) == "left"
    again = await call(emu, "leaveChat", chat_id=GROUP)
    assert (again.status, again.body["description"]) == (
        403,
        "Forbidden: bot is not a member of the supergroup chat",
    )
    refused = await call(emu, "sendMessage", chat_id=GROUP, text="still here?")
    assert refused.status == 403
    with pytest.raises(EmulatorUsageError, match="bot is not in chat"):
        emu.user_sends(PERSON, "anyone?", chat_id=GROUP)
    private = await call(emu, "leaveChat", chat_id=PERSON)
    assert private.status == 400


async def test_blocking_is_visible_to_the_bot(emu: TelegramEmulator) -> None:
    emu.user_sends(PERSON, "hi")
    emu.block_bot(PERSON)
    blocked = updates(emu)[-1].my_chat_member
    assert blocked is not None
    assert blocked.new_chat_member.status == "kicked"
    reply = await call(emu, "sendMessage", chat_id=PERSON, text="hello?")
    assert reply.body == {
        "ok": False,
        "error_code": 403,
        "description": "Forbidden: bot was blocked by the user",
    }
    emu.unblock_bot(PERSON)
    assert (await call(emu, "sendMessage", chat_id=PERSON, text="hello!")).status == 200


# ------------------------------------------------------------------ relaying and redelivery


async def test_copy_and_forward(emu: TelegramEmulator) -> None:
    emu.user_sends(MENTOR, "/join")
    said = emu.user_sends(PERSON, "I need help /now")
    copied = await call(
        emu, "copyMessage", chat_id=MENTOR, from_chat_id=PERSON, message_id=said.message_id
    )
    assert set(copied.body["result"]) == {"message_id"}
    copy = emu.last_bot_message(MENTOR)
    assert copy is not None
    assert copy.text == "I need help /now"
    assert "forward_origin" not in copy.raw  # a copy does not reveal who wrote it
    assert copy.entities == ({"type": "bot_command", "offset": 12, "length": 4},)

    forwarded = await call(
        emu, "forwardMessage", chat_id=MENTOR, from_chat_id=PERSON, message_id=said.message_id
    )
    assert forwarded.body["result"]["forward_origin"]["sender_user"]["id"] == PERSON
    assert [c.method for c in emu.calls("FORWARDMESSAGE")] == ["forwardMessage"]

    card = await call(emu, "sendMessage", chat_id=PERSON, text="secret", protect_content=True)
    refused = await call(
        emu,
        "forwardMessage",
        chat_id=MENTOR,
        from_chat_id=PERSON,
        message_id=card.body["result"]["message_id"],
    )
    assert refused.body["description"].endswith("has protected content and can't be forwarded")
    missing = await call(emu, "copyMessage", chat_id=MENTOR, from_chat_id=PERSON, message_id=99)
    assert missing.body["description"] == "Bad Request: message to copy not found"


async def test_redelivery_reuses_the_update_id(emu: TelegramEmulator) -> None:
    first = emu.user_sends(PERSON, "once")
    await call(emu, "getUpdates", offset=first.update_id + 1)
    assert emu.pending_updates() == []
    emu.redeliver(first.update_id)
    reply = await call(emu, "getUpdates", offset=first.update_id + 1)
    assert [u["update_id"] for u in reply.body["result"]] == [first.update_id]
    assert emu.pending_updates() == []  # delivered once, not forever
    raw = emu.raw_update(
        {"message": {"message_id": 1, "date": 0, "chat": {"id": 5, "type": "private"}}}
    )
    assert raw.update_id == first.update_id + 1


# ------------------------------------------------------------------ inspection helpers


async def test_wait_for_fails_with_context(emu: TelegramEmulator) -> None:
    emu.user_sends(PERSON, "hi")
    with pytest.raises(AssertionError, match=r"a reply not met within 0.05s; .*pending updates: 1"):
        await emu.wait_for(lambda: emu.bot_texts(PERSON), timeout=0.05, message="a reply")
    with pytest.raises(AssertionError, match="the bot going idle"):
        await emu.wait_until_idle(quiet=0.01, timeout=0.05)
    await call(emu, "getUpdates")
    await emu.wait_until_idle(quiet=0.01, timeout=1)


async def test_parameter_decoding_and_webhook_info(emu: TelegramEmulator) -> None:
    emu.add_group(-1001111111111, "Announcements", kind="channel", username="fs_news")
    sent = await call(emu, "sendMessage", chat_id="@fs_news", text="42")
    assert sent.body["result"]["text"] == "42"
    assert sent.body["result"]["sender_chat"]["username"] == "fs_news"
    bad = await emu.handle("sendMessage", {"chat_id": "1001", "text": "x", "reply_markup": "{"})
    assert bad.body["description"] == "Bad Request: can't parse reply keyboard markup JSON object"
    emu.user_sends(PERSON, "pending")
    info = await call(emu, "getWebhookInfo")
    assert info.body["result"] == {
        "url": "",
        "has_custom_certificate": False,
        "pending_update_count": 1,
    }
    insecure = await call(emu, "setWebhook", url="http://example.org/hook")
    assert insecure.status == 400


# ------------------------------------------------------------------ formatting


def test_html_rendering_matches_telegram() -> None:
    text, entities = render(
        '<b>Bold <i>both</i></b> 👍 <a href="https://x.org/?a=1&amp;b=2">link</a> &lt;3 '
        '<pre><code class="language-python">x = 1</code></pre><tg-spoiler>s</tg-spoiler>',
        "HTML",
    )
    assert text == "Bold both 👍 link <3 x = 1s"
    assert entities == [
        {"type": "bold", "offset": 0, "length": 9},
        {"type": "italic", "offset": 5, "length": 4},
        {"type": "text_link", "offset": 13, "length": 4, "url": "https://x.org/?a=1&b=2"},
        {"type": "pre", "offset": 21, "length": 5, "language": "python"},
        {"type": "spoiler", "offset": 26, "length": 1},
    ]


@pytest.mark.parametrize(
    ("markup", "error"),
    [
        ("1 < 2", 'Unsupported start tag "" at byte offset 2'),
        ("<b>x</i>", 'Unmatched end tag at byte offset 4, expected "</b>", found "</i>"'),
        ("<b>x", 'Can\'t find end tag corresponding to start tag "b"'),
        ("<div>x</div>", 'Unsupported start tag "div" at byte offset 0'),
        ("é</b>", "Unexpected end tag at byte offset 2"),
        ('<span class="x">s</span>', 'Tag "span" must have class "tg-spoiler" at byte offset 0'),
    ],
)
def test_html_errors_use_telegrams_words(markup: str, error: str) -> None:
    with pytest.raises(EntityParseError) as caught:
        render(markup, "HTML")
    assert str(caught.value) == error


def test_markdown_rendering() -> None:
    text, entities = render(
        r"*bold* _it_ __u__ ~s~ ||sp|| `c` [l](https://x.org) 1\.5", "MarkdownV2"
    )
    assert text == "bold it u s sp c l 1.5"
    assert [e["type"] for e in entities] == [
        "bold",
        "italic",
        "underline",
        "strikethrough",
        "spoiler",
        "code",
        "text_link",
    ]
    with pytest.raises(EntityParseError, match=r"Character '\.' is reserved"):
        render("Done.", "MarkdownV2")
    with pytest.raises(EntityParseError, match="Can't find end of Bold entity at byte offset 0"):
        render("*open", "MarkdownV2")
    text, entities = render("*b* _i_ [t](https://x.org) 1.5!", "Markdown")
    assert (text, [e["type"] for e in entities]) == ("b i t 1.5!", ["bold", "italic", "text_link"])
    with pytest.raises(EntityParseError, match="Can't find end of the entity starting at byte"):
        render("*open", "Markdown")


async def test_sent_text_is_trimmed_and_entities_follow(emu: TelegramEmulator) -> None:
    emu.user_sends(PERSON, "hi")
    reply = await call(emu, "sendMessage", chat_id=PERSON, text="  <b>Hi</b> \n", parse_mode="HTML")
    assert reply.body["result"]["text"] == "Hi"
    assert reply.body["result"]["entities"] == [{"type": "bold", "offset": 0, "length": 2}]
    unknown = await call(emu, "sendMessage", chat_id=PERSON, text="x", parse_mode="BBCode")
    assert unknown.body["description"] == "Bad Request: unsupported parse_mode"


# ------------------------------------------------------------------ HTTP control API


async def test_control_api_drives_people_and_reads_chats(
    emu: TelegramEmulator, tmp_path: Path
) -> None:
    (tmp_path / "index.html").write_text("<h1>chat</h1>", encoding="utf-8")
    (tmp_path / "app.js").write_text("let x = 1;", encoding="utf-8")
    async with (
        EmulatorServer(emu, static_dir=tmp_path) as server,
        httpx.AsyncClient(base_url=server.url) as client,
    ):
        made = await client.post("/_emulator/users", json={"user_id": 3003, "first_name": "Lee"})
        assert made.json()["result"]["user_id"] == 3003
        sent = await client.post("/_emulator/send", json={"user_id": 3003, "text": "/start"})
        assert sent.json()["result"]["message_id"] == 1
        await call(
            emu,
            "sendMessage",
            chat_id=3003,
            text="Continue?",
            reply_markup={"inline_keyboard": [[{"text": "Yes", "callback_data": "y"}]]},
        )
        pressed = await client.post(
            "/_emulator/press", json={"user_id": 3003, "message_id": 2, "data": "y"}
        )
        assert pressed.json()["result"]["callback_query_id"]
        stale = await client.post(
            "/_emulator/press", json={"user_id": 3003, "message_id": 2, "data": "n"}
        )
        assert stale.status_code == 400
        assert "no button with callback_data 'n'" in stale.json()["description"]
        located = await client.post(
            "/_emulator/location", json={"user_id": 3003, "lat": 53.4, "lon": -2.98}
        )
        assert located.status_code == 200

        chat = (await client.get("/_emulator/chats/3003")).json()["result"]
        assert [(m["from_bot"], m["kind"], m["text"]) for m in chat] == [
            (False, "text", "/start"),
            (True, "text", "Continue?"),
            (False, "location", None),
        ]
        calls = (await client.get("/_emulator/calls", params={"method": "sendMessage"})).json()
        assert [c["params"]["text"] for c in calls["result"]] == ["Continue?"]

        foreign = await client.get("/_emulator/calls", headers={"Host": "evil.example:80"})
        assert foreign.status_code == 403
        not_json = await client.post(
            "/_emulator/send", content=b"user_id=3003", headers={"Content-Type": "text/plain"}
        )
        assert not_json.status_code == 415

        page = await client.get("/")
        assert (page.status_code, page.text) == (200, "<h1>chat</h1>")
        script = await client.get("/app.js")
        assert script.headers["content-type"].startswith("text/javascript")
        assert (await client.get("/../../etc/passwd")).status_code == 404
        assert (await client.get("/%2e%2e/secret")).status_code == 404


def test_server_refuses_non_loopback_addresses(emu: TelegramEmulator) -> None:
    with pytest.raises(ValueError, match="only listens on loopback"):
        EmulatorServer(emu, host="0.0.0.0")  # noqa: S104 (the point of the test)


async def test_replies_both_ways_and_bulk_delete(emu: TelegramEmulator) -> None:
    said = emu.user_sends(PERSON, "question")
    answer = await call(
        emu,
        "sendMessage",
        chat_id=PERSON,
        text="answer",
        reply_parameters={"message_id": said.message_id},
    )
    assert answer.body["result"]["reply_to_message"]["text"] == "question"
    missing = await call(
        emu, "sendMessage", chat_id=PERSON, text="x", reply_parameters={"message_id": 99}
    )
    assert missing.body["description"] == "Bad Request: message to be replied not found"
    tolerant = await call(
        emu,
        "sendMessage",
        chat_id=PERSON,
        text="x",
        reply_parameters={"message_id": 99, "allow_sending_without_reply": True},
    )
    assert "reply_to_message" not in tolerant.body["result"]
    # A failed send takes no message id: ids stay dense, as in Telegram.
    assert tolerant.body["result"]["message_id"] == answer.body["result"]["message_id"] + 1

    reply = emu.user_sends(
        PERSON, "thanks", reply_to_message_id=answer.body["result"]["message_id"]
    )
    (update,) = [u for u in updates(emu) if u.update_id == reply.update_id]
    assert update.message is not None
    assert update.message.reply_to_message is not None
    assert update.message.reply_to_message.from_user is not None
    assert update.message.reply_to_message.from_user.is_bot

    bot_ids = [m.message_id for m in emu.bot_messages(PERSON)]
    cleared = await call(emu, "deleteMessages", chat_id=PERSON, message_ids=[*bot_ids, 404])
    assert cleared.body["result"] is True  # unknown ids are skipped
    assert emu.bot_messages(PERSON) == []
    assert [m.text for m in emu.chat(PERSON) if not m.deleted] == ["question", "thanks"]


async def test_a_buttons_only_edit_does_not_show_as_edited(
    emu: TelegramEmulator, tmp_path: Path
) -> None:
    """Telegram hides "edited" when only the inline keyboard changed (a card losing its
    Accept button); a change of text shows it. The page reads edit_count for that."""
    (tmp_path / "index.html").write_text("<h1>chat</h1>", encoding="utf-8")
    keyboard = {"inline_keyboard": [[{"text": "Accept", "callback_data": "acc"}]]}
    other = {"inline_keyboard": [[{"text": "Decline", "callback_data": "no"}]]}
    emu.user_sends(MENTOR, "/start")
    sent = await call(emu, "sendMessage", chat_id=MENTOR, text="New request", reply_markup=keyboard)
    message_id = sent.body["result"]["message_id"]

    async with (
        EmulatorServer(emu, static_dir=tmp_path) as server,
        httpx.AsyncClient(base_url=server.url) as client,
    ):

        async def shown() -> tuple[str, int, Any]:
            chat = (await client.get(f"/_emulator/chats/{MENTOR}")).json()["result"]
            (card,) = [message for message in chat if message["from_bot"]]
            return card["text"], card["edit_count"], card["reply_markup"]

        removed = await call(emu, "editMessageReplyMarkup", chat_id=MENTOR, message_id=message_id)
        assert removed.status == 200
        assert await shown() == ("New request", 0, None)
        await call(
            emu, "editMessageReplyMarkup", chat_id=MENTOR, message_id=message_id, reply_markup=other
        )
        assert await shown() == ("New request", 0, other)
        # editMessageText with the same text and new buttons is still a buttons-only edit.
        await call(
            emu,
            "editMessageText",
            chat_id=MENTOR,
            message_id=message_id,
            text="New request",
            reply_markup=keyboard,
        )
        assert await shown() == ("New request", 0, keyboard)
        await call(emu, "editMessageText", chat_id=MENTOR, message_id=message_id, text="Taken")
        assert await shown() == ("Taken", 1, None)
