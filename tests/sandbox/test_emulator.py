"""The emulator through PTB itself: the real Updater, HTTPXRequest and error mapping.

Every test runs against both front-ends (in process and loopback HTTP) unless it is about
one of them. A tiny bot defined here (echo, inline buttons, a location keyboard) stands in
for the real one.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import timedelta

import httpx
import pytest
from telegram import (
    Bot,
    InlineKeyboardButton,
    InlineKeyboardMarkup,
    KeyboardButton,
    Message,
    ReplyKeyboardMarkup,
    ReplyKeyboardRemove,
    Update,
)
from telegram.error import (
    BadRequest,
    Conflict,
    EndPointNotFound,
    Forbidden,
    InvalidToken,
    NetworkError,
    RetryAfter,
    TimedOut,
)
from telegram.ext import (
    Application,
    ApplicationBuilder,
    CallbackQueryHandler,
    CommandHandler,
    ContextTypes,
    MessageHandler,
    filters,
)
from telegram.request import HTTPXRequest

from bot.sandbox import (
    EmulatorRequest,
    EmulatorServer,
    EmulatorUsageError,
    ManualClock,
    TelegramEmulator,
)

PERSON = 1001
OTHER = 1002


@dataclass
class Wiring:
    """One emulator plus the way PTB reaches it (``inproc`` or ``http``)."""

    emu: TelegramEmulator
    clock: ManualClock
    mode: str
    server: EmulatorServer | None

    def builder(self) -> ApplicationBuilder:  # type: ignore[type-arg]
        builder = ApplicationBuilder().token(self.emu.token)
        if self.server is None:
            return builder.request(EmulatorRequest(self.emu)).get_updates_request(
                EmulatorRequest(self.emu)
            )
        return builder.base_url(self.server.base_url).base_file_url(self.server.base_file_url)

    def bot(self, token: str | None = None) -> Bot:
        token = token or self.emu.token
        if self.server is None:
            request = EmulatorRequest(self.emu)
            return Bot(token, request=request, get_updates_request=EmulatorRequest(self.emu))
        return Bot(
            token,
            base_url=self.server.base_url,
            base_file_url=self.server.base_file_url,
            request=HTTPXRequest(read_timeout=2.0),
            get_updates_request=HTTPXRequest(read_timeout=2.0),
        )


@asynccontextmanager
async def make_wiring(mode: str) -> AsyncIterator[Wiring]:
    clock = ManualClock()
    emu = TelegramEmulator(clock=clock)
    emu.register_user(PERSON, "Sam", username="sam_test")
    emu.register_user(OTHER, "Kim")
    if mode == "inproc":
        yield Wiring(emu, clock, "inproc", None)
        return
    async with EmulatorServer(emu) as server:
        yield Wiring(emu, clock, "http", server)


@pytest.fixture(autouse=True)
def _timedelta_retry_after(monkeypatch: pytest.MonkeyPatch) -> None:
    # PTB 22.8 builds RetryAfter by reading its deprecated int-valued property, which warns
    # (an error under filterwarnings=error) unless PTB_TIMEDELTA opts into timedeltas.
    monkeypatch.setenv("PTB_TIMEDELTA", "1")


@pytest.fixture(params=["inproc", "http"])
async def wiring(request: pytest.FixtureRequest) -> AsyncIterator[Wiring]:
    async with make_wiring(request.param) as made:
        yield made


@pytest.fixture
async def bot(wiring: Wiring) -> AsyncIterator[Bot]:
    async with wiring.bot() as ready:
        yield ready


# ------------------------------------------------------------------------ the tiny bot

YES_NO = InlineKeyboardMarkup(
    [
        [
            InlineKeyboardButton("Yes", callback_data="yes"),
            InlineKeyboardButton("No", callback_data="no"),
        ]
    ]
)


async def on_start(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    assert update.effective_message is not None
    payload = f" ({context.args[0]})" if context.args else ""
    await update.effective_message.reply_html(
        f"<b>Welcome</b>{payload}. Continue?", reply_markup=YES_NO
    )


async def on_where(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    assert update.effective_message is not None
    keyboard = ReplyKeyboardMarkup(
        [[KeyboardButton("Share location", request_location=True)], ["Type a postcode"]],
        one_time_keyboard=True,
    )
    await update.effective_message.reply_text("Where are you?", reply_markup=keyboard)


async def on_location(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    assert update.effective_message is not None
    assert update.effective_message.location
    loc = update.effective_message.location
    await update.effective_message.reply_text(
        f"Near {loc.latitude:.2f},{loc.longitude:.2f}", reply_markup=ReplyKeyboardRemove()
    )


async def on_text(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    assert update.effective_message is not None
    assert update.effective_message.text
    await update.effective_message.reply_text(f"You said: {update.effective_message.text}")


async def on_button(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    query = update.callback_query
    assert query is not None
    await query.answer("Noted")
    if query.data == "yes":
        await query.edit_message_text("You chose yes")
    else:
        assert isinstance(query.message, Message)  # not an inaccessible one: it can go
        await query.message.delete()


def build_app(wiring: Wiring) -> Application:  # type: ignore[type-arg]
    app = wiring.builder().build()
    app.add_handler(CommandHandler("start", on_start))
    app.add_handler(CommandHandler("where", on_where))
    app.add_handler(CallbackQueryHandler(on_button))
    app.add_handler(MessageHandler(filters.LOCATION, on_location))
    app.add_handler(MessageHandler(filters.TEXT & ~filters.COMMAND, on_text))
    return app


@asynccontextmanager
async def polling(app: Application, timeout: int = 1) -> AsyncIterator[Application]:  # type: ignore[type-arg]
    """The real Updater loop, started and stopped the way ``run_polling`` does."""
    async with app:
        await app.updater.start_polling(poll_interval=0, timeout=timeout)  # type: ignore[union-attr]
        await app.start()
        try:
            yield app
        finally:
            await app.updater.stop()  # type: ignore[union-attr]
            await app.stop()


# ------------------------------------------------------------------ conversations


async def test_conversation_through_the_real_updater(wiring: Wiring) -> None:
    emu = wiring.emu
    async with polling(build_app(wiring)):
        sent = emu.user_starts(PERSON, "jc_hull")
        welcome = await emu.next_bot_message(PERSON, sent.message_id or 0)
        assert welcome.text == "Welcome (jc_hull). Continue?"
        assert welcome.entities == ({"type": "bold", "offset": 0, "length": 7},)
        assert welcome.parse_mode == "HTML"
        assert welcome.button_texts == ["Yes", "No"]
        assert welcome.raw["from"]["is_bot"] is True

        pressed = emu.press_button(PERSON, "Yes")
        await emu.wait_for(lambda: emu.chat(PERSON)[welcome.message_id - 1].edit_count == 1)
        edited = emu.chat(PERSON)[welcome.message_id - 1]
        assert edited.text == "You chose yes"
        assert edited.reply_markup is None  # an edit without reply_markup drops the keyboard
        answer = emu.callback_answer(pressed.callback_query_id or "")
        assert answer is not None
        assert answer.text == "Noted"

        # The keyboard is gone, so a person can no longer press it.
        with pytest.raises(EmulatorUsageError, match="no button with callback_data 'yes'"):
            emu.user_presses(PERSON, welcome.message_id, "yes")

        sent = emu.user_sends(PERSON, "hello 123")
        echo = await emu.next_bot_message(PERSON, sent.message_id or 0)
        assert echo.text == "You said: hello 123"

        emu.user_sends(PERSON, "one more")
        await emu.wait_until_idle()
        assert emu.bot_texts(PERSON)[-1] == "You said: one more"

        sent = emu.user_sends(PERSON, "/start")
        second = await emu.next_bot_message(PERSON, sent.message_id or 0)
        emu.user_presses(PERSON, second.message_id, "no")
        await emu.wait_for(lambda: emu.chat(PERSON)[second.message_id - 1].deleted)

    assert emu.bot_texts(PERSON) == [
        "You chose yes",
        "You said: hello 123",
        "You said: one more",
    ]
    methods = [c.method for c in emu.calls() if c.method != "getUpdates"]
    assert methods[:2] == ["getMe", "deleteWebhook"]
    assert methods.count("answerCallbackQuery") == 2
    assert emu.calls("forwardMessage") == []
    assert all(c.status == 200 for c in emu.calls() if c.method != "getUpdates")
    assert emu.pending_updates() == []  # Updater.stop() confirmed everything


async def test_reply_keyboard_location_button(wiring: Wiring) -> None:
    emu = wiring.emu
    async with polling(build_app(wiring)):
        sent = emu.user_sends(PERSON, "/where")
        await emu.next_bot_message(PERSON, sent.message_id or 0)
        assert [b["text"] for row in emu.reply_keyboard(PERSON) for b in row] == [
            "Share location",
            "Type a postcode",
        ]
        with pytest.raises(EmulatorUsageError, match="pass lat= and lon="):
            emu.tap_reply_button(PERSON, "Share location")
        tapped = emu.tap_reply_button(PERSON, "Share location", lat=53.7446, lon=-0.3352)
        reply = await emu.next_bot_message(PERSON, tapped.message_id or 0)
        assert reply.text == "Near 53.74,-0.34"
        assert emu.reply_keyboard(PERSON) == []  # ReplyKeyboardRemove
        with pytest.raises(EmulatorUsageError, match="no reply-keyboard button"):
            emu.tap_reply_button(PERSON, "Type a postcode")


# ------------------------------------------------------------------ getUpdates


async def test_long_poll_answers_as_soon_as_an_update_arrives(wiring: Wiring) -> None:
    emu = wiring.emu
    async with polling(build_app(wiring), timeout=10):
        # Wait until the Updater is parked in a long poll, then speak.
        await emu.wait_for(
            lambda: any(c.status is None for c in emu.calls("getUpdates")), timeout=3
        )
        started = time.monotonic()
        sent = emu.user_sends(PERSON, "are you there?")
        reply = await emu.next_bot_message(PERSON, sent.message_id or 0, timeout=3)
        assert time.monotonic() - started < 1.0
        assert reply.text == "You said: are you there?"


async def test_offsets_confirm_and_unconfirmed_updates_come_back(bot: Bot, wiring: Wiring) -> None:
    emu = wiring.emu
    ids = [emu.user_sends(PERSON, f"m{i}").update_id for i in range(3)]

    first = await bot.get_updates(timeout=0)
    assert [u.update_id for u in first] == ids
    again = await bot.get_updates(timeout=0)  # nothing confirmed: redelivered
    assert [u.update_id for u in again] == ids
    assert [u.message.text for u in again if u.message] == ["m0", "m1", "m2"]

    limited = await bot.get_updates(offset=ids[1], limit=1, timeout=0)
    assert [u.update_id for u in limited] == [ids[1]]  # ids[0] is now confirmed
    assert [u["update_id"] for u in emu.pending_updates()] == ids[1:]

    assert await bot.get_updates(offset=ids[-1] + 1, timeout=0) == ()
    assert emu.pending_updates() == []

    late = emu.user_sends(PERSON, "late").update_id
    assert late == ids[-1] + 1
    assert [u.update_id for u in await bot.get_updates(offset=-1, timeout=0)] == [late]


async def test_updates_older_than_a_day_are_dropped(bot: Bot, wiring: Wiring) -> None:
    emu = wiring.emu
    emu.user_sends(PERSON, "yesterday")
    wiring.clock.advance(24 * 3600 + 1)
    fresh = emu.user_sends(PERSON, "today").update_id
    assert [u.update_id for u in await bot.get_updates(timeout=0)] == [fresh]


async def test_allowed_updates_filter_new_updates(bot: Bot, wiring: Wiring) -> None:
    emu = wiring.emu
    await bot.get_updates(timeout=0, allowed_updates=["callback_query"])
    emu.user_sends(PERSON, "not wanted")
    assert await bot.get_updates(timeout=0) == ()
    await bot.get_updates(timeout=0, allowed_updates=[])  # back to Telegram's default
    wanted = emu.user_sends(PERSON, "wanted").update_id
    assert [u.update_id for u in await bot.get_updates(timeout=0)] == [wanted]


async def test_second_poller_and_webhook_conflict(bot: Bot, wiring: Wiring) -> None:
    first = asyncio.create_task(bot.get_updates(timeout=5))
    await wiring.emu.wait_for(lambda: any(c.status is None for c in wiring.emu.calls("getUpdates")))
    assert await bot.get_updates(timeout=0) == ()
    with pytest.raises(Conflict, match="terminated by other getUpdates request"):
        await first

    assert await bot.set_webhook("https://example.org/hook", secret_token="s3cret")
    assert (await bot.get_webhook_info()).url == "https://example.org/hook"
    with pytest.raises(Conflict, match="webhook is active"):
        await bot.get_updates(timeout=0)
    wiring.emu.user_sends(PERSON, "queued")
    assert await bot.delete_webhook(drop_pending_updates=True)
    assert await bot.get_updates(timeout=0) == ()


# ------------------------------------------------------------------ Telegram's error replies


async def test_error_replies_surface_as_ptb_exceptions(bot: Bot, wiring: Wiring) -> None:
    emu = wiring.emu
    emu.user_sends(PERSON, "hi")
    message = await bot.send_message(PERSON, "Pick one", reply_markup=YES_NO)
    assert message.from_user is not None
    assert message.from_user.is_bot

    with pytest.raises(BadRequest, match=r"(?i)message is not modified"):
        await bot.edit_message_text("Pick one", PERSON, message.message_id, reply_markup=YES_NO)
    with pytest.raises(BadRequest, match=r"(?i)message is not modified"):
        await bot.edit_message_reply_markup(PERSON, message.message_id, reply_markup=YES_NO)
    with pytest.raises(BadRequest, match=r"(?i)message to edit not found"):
        await bot.edit_message_text("x", PERSON, 999)
    with pytest.raises(BadRequest, match=r"(?i)message to delete not found"):
        await bot.delete_message(PERSON, 999)
    with pytest.raises(BadRequest, match=r"(?i)chat not found"):
        await bot.send_message(424242, "hello?")
    with pytest.raises(BadRequest, match=r"(?i)message text is empty"):
        await bot.send_message(PERSON, "   ")
    with pytest.raises(BadRequest, match=r"(?i)message is too long"):
        await bot.send_message(PERSON, "x" * 4097)
    await bot.send_message(PERSON, "x" * 4096)
    too_long_data = InlineKeyboardMarkup([[InlineKeyboardButton("b", callback_data="d" * 65)]])
    with pytest.raises(BadRequest, match=r"(?i)button_data_invalid"):
        await bot.send_message(PERSON, "buttons", reply_markup=too_long_data)
    with pytest.raises(BadRequest, match=r"(?i)can't parse entities: unsupported start tag"):
        await bot.send_message(PERSON, "1 < 2", parse_mode="HTML")
    with pytest.raises(Forbidden, match=r"(?i)can't initiate conversation"):
        await bot.send_message(OTHER, "hello stranger")

    emu.block_bot(PERSON)
    with pytest.raises(Forbidden, match="bot was blocked by the user"):
        await bot.send_message(PERSON, "still there?")
    emu.unblock_bot(PERSON)
    await bot.send_message(PERSON, "welcome back")

    # PTB maps a 404 to InvalidToken, and do_api_request refines it once the bot is known.
    with pytest.raises(EndPointNotFound, match="sendCarrierPigeon"):
        await bot.do_api_request("sendCarrierPigeon", api_kwargs={"chat_id": PERSON})
    reply = await emu.handle("sendCarrierPigeon", {})
    assert reply.body == {
        "ok": False,
        "error_code": 404,
        "description": "Not Found: method not found",
    }
    assert [c.status for c in emu.calls("sendMessage")][-3:] == [403, 403, 200]


async def test_callback_query_answer_window(bot: Bot, wiring: Wiring) -> None:
    emu = wiring.emu
    emu.user_sends(PERSON, "hi")
    message = await bot.send_message(PERSON, "Pick one", reply_markup=YES_NO)
    first = emu.user_presses(PERSON, message.message_id, "yes").callback_query_id
    assert first is not None
    assert await bot.answer_callback_query(first, text="ok")
    with pytest.raises(BadRequest, match=r"(?i)query is too old"):
        await bot.answer_callback_query(first)

    late = emu.press_button(PERSON, "No").callback_query_id
    assert late is not None
    wiring.clock.advance(15.5)
    with pytest.raises(BadRequest, match=r"(?i)query is too old"):
        await bot.answer_callback_query(late)
    answer = emu.callback_answer(first)
    assert answer is not None
    assert answer.text == "ok"
    assert emu.callback_answer(late) is None


async def test_edits_and_deletes_show_in_the_transcript(bot: Bot, wiring: Wiring) -> None:
    emu = wiring.emu
    emu.user_sends(PERSON, "hi")
    message = await bot.send_message(PERSON, "v1", reply_markup=YES_NO, protect_content=True)
    await bot.edit_message_text("v2", PERSON, message.message_id, reply_markup=YES_NO)
    await bot.edit_message_reply_markup(PERSON, message.message_id)  # removes the keyboard
    other = await bot.send_message(PERSON, "temporary")
    await bot.delete_message(PERSON, other.message_id)

    transcript = {m.message_id: m for m in emu.chat(PERSON)}
    kept = transcript[message.message_id]
    assert (kept.text, kept.edit_count, kept.reply_markup, kept.protect_content) == (
        "v2",
        1,  # removing the keyboard alone does not show as an edit
        None,
        True,
    )
    assert transcript[other.message_id].deleted
    assert emu.bot_texts(PERSON) == ["v2"]
    with pytest.raises(EmulatorUsageError, match="not \\(or no longer\\) in chat"):
        emu.user_presses(PERSON, other.message_id, "yes")

    wiring.clock.advance(48 * 3600 + 1)
    with pytest.raises(BadRequest, match=r"(?i)message can't be deleted for everyone"):
        await bot.delete_message(PERSON, message.message_id)


# ------------------------------------------------------------------ fault injection


async def test_injected_faults_map_to_ptb_exceptions(bot: Bot, wiring: Wiring) -> None:
    emu = wiring.emu
    emu.user_sends(PERSON, "hi")
    emu.user_sends(OTHER, "hi")

    emu.inject_fault("sendMessage", status=429, retry_after=3)
    with pytest.raises(RetryAfter) as caught:
        await bot.send_message(PERSON, "one")
    assert caught.value.retry_after == timedelta(seconds=3)

    fault = emu.inject_fault("sendMessage", status=502, count=2)
    for _ in range(2):
        with pytest.raises(NetworkError, match="Bad Gateway"):
            await bot.send_message(PERSON, "two")
    assert (fault.hits, emu.faults()) == (2, [])
    await bot.send_message(PERSON, "three")  # consumed: back to normal

    emu.inject_fault("sendMessage", status=403, chat_id=OTHER, count=-1)
    with pytest.raises(Forbidden, match="injected fault"):
        await bot.send_message(OTHER, "a")
    await bot.send_message(PERSON, "b")  # another chat is not affected
    with pytest.raises(Forbidden):
        await bot.send_message(OTHER, "c")  # count=-1: forever
    emu.clear_faults()

    emu.inject_fault("sendMessage", timeout=True)
    with pytest.raises(TimedOut):
        await bot.send_message(PERSON, "lost", read_timeout=0.3)

    # Telegram acted, but the answer never arrived: the message is there all the same.
    emu.inject_fault("sendMessage", timeout=True, applied=True)
    with pytest.raises(TimedOut):
        await bot.send_message(PERSON, "delivered anyway", read_timeout=0.3)
    assert emu.bot_texts(PERSON) == ["three", "b", "delivered anyway"]

    emu.inject_fault("*", status=None, delay=0.2)
    started = time.monotonic()
    assert (await bot.get_me()).is_bot
    assert time.monotonic() - started >= 0.2


async def test_rate_enforcement_answers_429(bot: Bot, wiring: Wiring) -> None:
    emu = wiring.emu
    emu.user_sends(PERSON, "hi")
    emu.user_sends(OTHER, "hi")
    emu.enforce_rate_limit(overall_per_second=3, per_chat_per_second=2)
    await bot.send_message(PERSON, "1")
    await bot.send_message(PERSON, "2")
    with pytest.raises(RetryAfter):
        await bot.send_message(PERSON, "3")  # per chat
    await bot.send_message(OTHER, "1")
    with pytest.raises(RetryAfter) as caught:
        await bot.send_message(OTHER, "2")  # overall
    assert caught.value.retry_after == timedelta(seconds=1)
    await bot.send_chat_action(PERSON, "typing")  # chat actions are not counted
    wiring.clock.advance(1.0)
    await bot.send_message(PERSON, "3")
    assert [c.status for c in emu.calls("sendMessage")] == [200, 200, 429, 200, 429, 200]


async def test_polling_survives_a_bad_gateway() -> None:
    # In process only: the retry path is PTB's, and it waits a whole second.
    async with make_wiring("inproc") as wiring, polling(build_app(wiring)):
        emu = wiring.emu
        emu.inject_fault("getUpdates", status=502)
        sent = emu.user_sends(PERSON, "after the outage")
        reply = await emu.next_bot_message(PERSON, sent.message_id or 0, timeout=4)
    assert reply.text == "You said: after the outage"
    assert [c.status for c in emu.calls("getUpdates")][:2] == [502, 200]


# ------------------------------------------------------------------ front-end specifics


async def test_http_checks_the_token_and_reads_json_bodies() -> None:
    async with make_wiring("http") as wiring:
        assert wiring.server is not None
        await _token_and_json_bodies(wiring, wiring.server)


async def _token_and_json_bodies(wiring: Wiring, server: EmulatorServer) -> None:
    with pytest.raises(InvalidToken, match="rejected by the server"):
        async with wiring.bot(token="123456789:wrong"):
            pass
    base = server.base_url
    async with httpx.AsyncClient() as client:
        reply = await client.post(f"{base}999:nope/getMe")
        assert (reply.status_code, reply.json()) == (
            401,
            {"ok": False, "error_code": 401, "description": "Unauthorized"},
        )
        wiring.emu.user_sends(PERSON, "hi")
        sent = await client.post(
            f"{base}{wiring.emu.token}/sendMessage",
            json={"chat_id": PERSON, "text": "123", "reply_markup": YES_NO.to_dict()},
        )
        assert sent.json()["result"]["text"] == "123"  # stays a string
        assert sent.json()["result"]["reply_markup"] == YES_NO.to_dict()
        got = await client.get(f"{base}{wiring.emu.token}/getMe")
        assert got.json()["result"]["can_join_groups"] is True


async def test_uploads_arrive_through_both_front_ends(bot: Bot, wiring: Wiring) -> None:
    wiring.emu.user_sends(PERSON, "/mydata")
    message = await bot.send_document(
        PERSON,
        b'{"held": []}',
        filename="my-data.json",
        caption="<i>Your data</i>",
        parse_mode="HTML",
    )
    assert message.document is not None
    assert message.document.file_name == "my-data.json"
    assert message.caption == "Your data"
    assert wiring.emu.file_content(message.document.file_id) == b'{"held": []}'


async def test_commands_chat_and_other_bot_methods(bot: Bot, wiring: Wiring) -> None:
    emu = wiring.emu
    from telegram import BotCommand

    assert await bot.set_my_commands([BotCommand("start", "Begin"), BotCommand("forget", "Erase")])
    assert [c.command for c in await bot.get_my_commands()] == ["start", "forget"]
    with pytest.raises(BadRequest, match=r"(?i)bot_command_invalid"):
        await bot.set_my_commands([BotCommand("Bad Command", "x")])
    chat = await bot.get_chat(PERSON)
    assert (chat.id, chat.type, chat.first_name) == (PERSON, "private", "Sam")
    me = await bot.get_me()
    assert (me.id, me.username, me.can_join_groups) == (emu.bot_id, emu.bot_username, True)
    emu.user_sends(PERSON, "hi")
    assert await bot.send_chat_action(PERSON, "typing")
    assert emu.chat_actions(PERSON) == ["typing"]
    location = await bot.send_location(PERSON, 50.8, -1.09)
    assert location.location is not None
    assert location.location.latitude == 50.8


async def test_http_server_stops_cleanly_during_a_long_poll() -> None:
    emu = TelegramEmulator()
    server = EmulatorServer(emu)
    await server.start()
    async with httpx.AsyncClient() as client:
        poll = asyncio.create_task(
            client.post(f"{server.base_url}{emu.token}/getUpdates", data={"timeout": "5"})
        )
        await emu.wait_for(lambda: emu.calls("getUpdates"))
        started = time.monotonic()
        await server.stop()
        with pytest.raises(httpx.HTTPError):
            await poll
        assert time.monotonic() - started < 1.0
        assert emu.calls("getUpdates")[0].status is None  # never answered
        await server.stop()  # idempotent

        # The abandoned poll left nothing behind: a new one is not a "conflict".
        async with EmulatorServer(emu) as again:
            emu.user_sends(emu.register_user(7, "Ash", started=True).user_id, "hi")
            reply = await client.post(
                f"{again.base_url}{emu.token}/getUpdates", data={"timeout": "1"}
            )
            assert [u["message"]["text"] for u in reply.json()["result"]] == ["hi"]


async def test_http_long_poll_ends_when_the_client_hangs_up() -> None:
    emu = TelegramEmulator()
    emu.register_user(7, "Ash")
    async with EmulatorServer(emu) as server, httpx.AsyncClient() as client:
        poll = asyncio.create_task(
            client.post(f"{server.base_url}{emu.token}/getUpdates", data={"timeout": "5"})
        )
        await emu.wait_for(lambda: emu.calls("getUpdates"))
        poll.cancel()
        with pytest.raises(asyncio.CancelledError):
            await poll
        # The server notices the hang-up and cancels the poll instead of holding the update.
        await asyncio.sleep(0.2)
        emu.user_sends(7, "hello")
        reply = await client.post(f"{server.base_url}{emu.token}/getUpdates", data={"timeout": "0"})
        assert [u["message"]["text"] for u in reply.json()["result"]] == ["hello"]
        assert [c.status for c in emu.calls("getUpdates")] == [None, 200]
