"""The person-side driver: what people (and groups, channels) do, as updates to the bot.

Why: tests act as a person would on a phone, and the driver refuses what a phone could not
do (press a button that is not shown, message a chat that does not exist).
"""

from __future__ import annotations

import json

from bot.sandbox.emulator.media import media_content
from bot.sandbox.emulator.records import (
    EmulatedUser,
    EmulatorUsageError,
    Injected,
    JSONDict,
    keyboard_rows,
)
from bot.sandbox.emulator.rules import COMMAND_RE, DEEP_LINK_RE, MAX_TEXT, MEDIA_KINDS
from bot.sandbox.emulator.state import (
    EmulatorState,
    OpenQuery,
    StoredChat,
    StoredMessage,
    locked,
)
from bot.sandbox.formatting import utf16_len


def _text_content(text: str) -> JSONDict:
    """A person's text as their client sends it: ``/commands`` carry bot_command entities."""
    content: JSONDict = {"text": text}
    entities = [
        {
            "type": "bot_command",
            "offset": utf16_len(text[: m.start()]),
            "length": utf16_len(m.group(0)),
        }
        for m in COMMAND_RE.finditer(text)
    ]
    if entities:
        content["entities"] = entities
    return content


class Driver(EmulatorState):
    """People and chats: registering them, and each thing a person can do."""

    @locked
    def register_user(
        self,
        user_id: int,
        first_name: str = "Alex",
        *,
        username: str | None = None,
        last_name: str | None = None,
        language_code: str | None = "en",
        started: bool = False,
    ) -> EmulatedUser:
        """Create a person and their private chat. ``started``: they already pressed Start.

        Until a person has sent the bot anything, the bot cannot message them (403, as on
        Telegram); every ``user_*`` action in the private chat starts the chat.
        """
        if not 0 < user_id < 2**52:
            raise EmulatorUsageError(f"user ids are positive and below 2**52, got {user_id}")
        user = EmulatedUser(user_id, first_name, username, last_name, language_code)
        self._users[user_id] = user
        chat = self._chats.get(user_id) or self._new_chat(user_id, "private")
        chat.user = user
        chat.started = chat.started or started
        return user

    @locked
    def add_group(
        self,
        chat_id: int,
        title: str = "Test group",
        *,
        kind: str | None = None,
        username: str | None = None,
        bot_member: bool = True,
    ) -> None:
        """Create a group/supergroup/channel silently (no updates), e.g. for setup."""
        if chat_id >= 0:
            raise EmulatorUsageError("group and channel ids are negative")
        if kind is None:
            kind = "supergroup" if chat_id <= -1_000_000_000_000 else "group"
        if kind not in ("group", "supergroup", "channel"):
            raise EmulatorUsageError(f"unknown chat kind {kind!r}")
        chat = self._chats.get(chat_id) or self._new_chat(chat_id, kind)
        chat.kind, chat.title, chat.username = kind, title, username
        chat.bot_status = "member" if bot_member else "left"

    def _user(self, user_id: int) -> EmulatedUser:
        user = self._users.get(user_id)
        if user is None:
            raise EmulatorUsageError(f"user {user_id} is not registered: call register_user()")
        return user

    def _chat_for(self, user: EmulatedUser, chat_id: int | None) -> StoredChat:
        chat = self._chats.get(user.user_id if chat_id is None else chat_id)
        if chat is None:
            raise EmulatorUsageError(f"no chat {chat_id}: call add_group() first")
        if chat.kind == "private":
            if chat.chat_id != user.user_id:
                raise EmulatorUsageError(f"chat {chat_id} is another person's private chat")
            if chat.bot_status == "kicked":
                raise EmulatorUsageError(
                    f"user {user.user_id} has blocked the bot: call unblock_bot() first"
                )
            chat.started = True
        elif chat.kind == "channel":
            raise EmulatorUsageError("people do not post in channels: use channel_post()")
        elif chat.bot_status != "member":
            raise EmulatorUsageError(
                f"the bot is not in chat {chat.chat_id}, so Telegram would not tell it: "
                "call bot_added_to_group() first"
            )
        return chat

    def _user_message(
        self,
        user_id: int,
        kind: str,
        content: JSONDict,
        *,
        chat_id: int | None = None,
        reply_to_message_id: int | None = None,
    ) -> Injected:
        user = self._user(user_id)
        chat = self._chat_for(user, chat_id)
        reply_to = None
        if reply_to_message_id is not None:
            reply_to = chat.messages.get(reply_to_message_id)
            if reply_to is None or reply_to.deleted:
                raise EmulatorUsageError(
                    f"message {reply_to_message_id} is not in chat {chat.chat_id}"
                )
        message = StoredMessage(
            chat_id=chat.chat_id,
            message_id=chat.take_message_id(),
            sender=user.to_api(),
            date=self._now(),
            kind=kind,
            content=content,
            reply_to=reply_to,
        )
        chat.messages[message.message_id] = message
        update_id = self._enqueue("message", message.to_api(chat.to_api()))
        return Injected(update_id, chat.chat_id, message.message_id)

    @locked
    def user_sends(
        self,
        user_id: int,
        text: str,
        *,
        chat_id: int | None = None,
        reply_to_message_id: int | None = None,
    ) -> Injected:
        """The person types and sends ``text`` (commands get ``bot_command`` entities)."""
        if not text.strip():
            raise EmulatorUsageError("Telegram clients do not send empty messages")
        if len(text) > MAX_TEXT:
            raise EmulatorUsageError(
                f"Telegram clients split texts over {MAX_TEXT} characters into several messages"
            )
        content = _text_content(text)
        return self._user_message(
            user_id, "text", content, chat_id=chat_id, reply_to_message_id=reply_to_message_id
        )

    def user_starts(self, user_id: int, payload: str | None = None) -> Injected:
        """The person opens ``t.me/<bot>?start=<payload>`` (or just presses Start)."""
        if payload is not None and not DEEP_LINK_RE.fullmatch(payload):
            raise EmulatorUsageError(
                "deep-link payloads are 1-64 characters of A-Z a-z 0-9 _ - "
                "(Telegram drops anything else)"
            )
        return self.user_sends(user_id, f"/start {payload}" if payload else "/start")

    @locked
    def user_sends_location(
        self,
        user_id: int,
        lat: float,
        lon: float,
        *,
        chat_id: int | None = None,
        horizontal_accuracy: float | None = None,
    ) -> Injected:
        """The person shares a location (attachment menu or a location button)."""
        if not (-90 <= lat <= 90 and -180 <= lon <= 180):
            raise EmulatorUsageError(f"({lat}, {lon}) is not a place on Earth")
        location: JSONDict = {"latitude": lat, "longitude": lon}
        if horizontal_accuracy is not None:
            location["horizontal_accuracy"] = horizontal_accuracy
        return self._user_message(user_id, "location", {"location": location}, chat_id=chat_id)

    @locked
    def user_sends_contact(
        self,
        user_id: int,
        phone_number: str = "+447700900123",
        *,
        first_name: str | None = None,
        own: bool = True,
        chat_id: int | None = None,
    ) -> Injected:
        """The person shares a contact; ``own=True`` is their own card (carries their id)."""
        user = self._user(user_id)
        contact: JSONDict = {
            "phone_number": phone_number,
            "first_name": first_name or (user.first_name if own else "Sam"),
        }
        if own:
            contact["user_id"] = user_id
        return self._user_message(user_id, "contact", {"contact": contact}, chat_id=chat_id)

    @locked
    def user_sends_media(
        self,
        user_id: int,
        kind: str,
        *,
        caption: str | None = None,
        chat_id: int | None = None,
    ) -> Injected:
        """The person sends a photo/sticker/voice/… with realistic ``file_id`` fields."""
        if kind not in MEDIA_KINDS:
            raise EmulatorUsageError(f"media kind must be one of {MEDIA_KINDS}, got {kind!r}")
        content = media_content(kind, self._store_file)
        if caption:
            if kind in ("sticker", "video_note"):
                raise EmulatorUsageError(f"a {kind} has no caption")
            content["caption"] = caption
        return self._user_message(user_id, kind, content, chat_id=chat_id)

    @locked
    def user_edits(
        self, user_id: int, message_id: int, new_text: str, *, chat_id: int | None = None
    ) -> Injected:
        """The person edits one of their own text messages (an ``edited_message`` update)."""
        user = self._user(user_id)
        chat = self._chat_for(user, chat_id)
        message = chat.messages.get(message_id)
        if message is None or message.deleted or message.from_bot:
            raise EmulatorUsageError(f"user {user_id} has no message {message_id} to edit")
        if message.sender is None or message.sender.get("id") != user_id:
            raise EmulatorUsageError("people can only edit their own messages")
        if message.kind != "text":
            raise EmulatorUsageError("only text messages are edited with user_edits()")
        if not new_text.strip() or new_text == message.text:
            raise EmulatorUsageError("Telegram clients do not send an empty or unchanged edit")
        content = _text_content(new_text)
        message.content = content
        message.edit_count += 1
        message.edit_date = self._now()
        update_id = self._enqueue("edited_message", message.to_api(chat.to_api()))
        return Injected(update_id, chat.chat_id, message_id)

    def _callback(
        self,
        user: EmulatedUser,
        chat: StoredChat,
        message: StoredMessage | None,
        message_id: int,
        data: str,
    ) -> Injected:
        query_id = str(self._rng.getrandbits(62) | (1 << 62))
        payload: JSONDict = {
            "id": query_id,
            "from": user.to_api(),
            "chat_instance": chat.chat_instance,
            "data": data,
        }
        if message is not None and not message.deleted:
            payload["message"] = message.to_api(chat.to_api())
        else:
            payload["message"] = {"chat": chat.to_api(), "message_id": message_id, "date": 0}
        self._queries[query_id] = OpenQuery(query_id, chat.chat_id, message_id, self.clock())
        update_id = self._enqueue("callback_query", payload)
        return Injected(update_id, chat.chat_id, message_id, query_id)

    @locked
    def user_presses(
        self, user_id: int, message_id: int, callback_data: str, *, chat_id: int | None = None
    ) -> Injected:
        """The person taps an inline button; fails unless that button is on that message now."""
        user = self._user(user_id)
        chat = self._chat_for(user, chat_id)
        message = chat.messages.get(message_id)
        if message is None or message.deleted:
            raise EmulatorUsageError(
                f"message {message_id} is not (or no longer) in chat {chat.chat_id}"
            )
        if not message.from_bot:
            raise EmulatorUsageError(f"message {message_id} is the person's own message")
        buttons = keyboard_rows(message.inline_markup)
        datas = [b.get("callback_data") for row in buttons for b in row]
        if callback_data not in datas:
            raise EmulatorUsageError(
                f"message {message_id} in chat {chat.chat_id} has no button with callback_data "
                f"{callback_data!r}; its buttons are {[d for d in datas if d is not None]}"
            )
        return self._callback(user, chat, message, message_id, callback_data)

    @locked
    def press_button(self, user_id: int, text: str, *, chat_id: int | None = None) -> Injected:
        """Tap the inline button labelled ``text`` on the newest bot message that has one."""
        user = self._user(user_id)
        chat = self._chat_for(user, chat_id)
        for message in sorted(chat.messages.values(), key=lambda m: -m.message_id):
            if message.deleted or not message.from_bot:
                continue
            for row in keyboard_rows(message.inline_markup):
                for button in row:
                    if button.get("text") != text:
                        continue
                    data = button.get("callback_data")
                    if not isinstance(data, str):
                        raise EmulatorUsageError(
                            f"button {text!r} opens {button.get('url') or 'something else'}; "
                            "it sends no callback to the bot"
                        )
                    return self._callback(user, chat, message, message.message_id, data)
        shown = [
            b.get("text")
            for m in chat.messages.values()
            if m.from_bot and not m.deleted
            for row in keyboard_rows(m.inline_markup)
            for b in row
        ]
        raise EmulatorUsageError(
            f"no inline button {text!r} in chat {chat.chat_id}; buttons shown: {shown}"
        )

    @locked
    def tap_reply_button(
        self,
        user_id: int,
        text: str,
        *,
        lat: float | None = None,
        lon: float | None = None,
        phone_number: str = "+447700900123",
    ) -> Injected:
        """Tap a reply-keyboard button: sends its text, or a location / contact if it asks."""
        user = self._user(user_id)
        chat = self._chat_for(user, None)
        rows = keyboard_rows(chat.reply_keyboard)
        button = next((b for row in rows for b in row if b.get("text") == text), None)
        if button is None:
            shown = [b.get("text") for row in rows for b in row]
            raise EmulatorUsageError(
                f"no reply-keyboard button {text!r} is shown to user {user_id}; shown: {shown}"
            )
        if button.get("request_location"):
            if lat is None or lon is None:
                raise EmulatorUsageError(f"button {text!r} shares a location: pass lat= and lon=")
            result = self.user_sends_location(user_id, lat, lon)
        elif button.get("request_contact"):
            result = self.user_sends_contact(user_id, phone_number)
        else:
            result = self.user_sends(user_id, text)
        if chat.reply_keyboard and chat.reply_keyboard.get("one_time_keyboard"):
            chat.reply_keyboard = None  # shown until used once
        return result

    @locked
    def forge_callback(
        self, user_id: int, message_id: int, data: str, *, chat_id: int | None = None
    ) -> Injected:
        """A callback query no honest client would send (for fuzzing): no button check."""
        user = self._user(user_id)
        chat = self._chats.get(user_id if chat_id is None else chat_id)
        if chat is None:
            raise EmulatorUsageError(f"no chat {chat_id}")
        return self._callback(user, chat, chat.messages.get(message_id), message_id, data)

    @locked
    def channel_post(self, chat_id: int, text: str, *, title: str = "Test channel") -> Injected:
        """A post in a channel where the bot is a member (creates the channel if new)."""
        chat = self._chats.get(chat_id)
        if chat is None:
            self.add_group(chat_id, title, kind="channel")
            chat = self._chats[chat_id]
        if chat.kind != "channel":
            raise EmulatorUsageError(f"chat {chat_id} is a {chat.kind}, not a channel")
        if chat.bot_status != "member":
            raise EmulatorUsageError(f"the bot is not in channel {chat_id}")
        message = StoredMessage(
            chat_id=chat_id,
            message_id=chat.take_message_id(),
            sender=None,
            sender_chat=chat.to_api(),
            date=self._now(),
            kind="text",
            content={"text": text},
        )
        chat.messages[message.message_id] = message
        update_id = self._enqueue("channel_post", message.to_api(chat.to_api()))
        return Injected(update_id, chat_id, message.message_id)

    @locked
    def bot_added_to_group(
        self,
        chat_id: int,
        by_user_id: int,
        *,
        title: str = "Test group",
        kind: str | None = None,
        service_message: bool = True,
    ) -> Injected:
        """Someone adds the bot to a group: a ``my_chat_member`` update, then (as Telegram
        does) a service message with ``new_chat_members``."""
        user = self._user(by_user_id)
        chat = self._chats.get(chat_id)
        if chat is None:
            self.add_group(chat_id, title, kind=kind, bot_member=False)
            chat = self._chats[chat_id]
        if chat.kind == "private":
            raise EmulatorUsageError("bots cannot be added to private chats")
        old = chat.bot_status
        chat.bot_status = "member"
        update_id = self._enqueue(
            "my_chat_member", self._member_update(chat, user.to_api(), old, "member")
        )
        message_id = None
        if service_message and chat.kind != "channel":
            message = StoredMessage(
                chat_id=chat_id,
                message_id=chat.take_message_id(),
                sender=user.to_api(),
                date=self._now(),
                kind="service",
                content={"new_chat_members": [self.bot_user()]},
            )
            chat.messages[message.message_id] = message
            message_id = message.message_id
            self._enqueue("message", message.to_api(chat.to_api()))
        return Injected(update_id, chat_id, message_id)

    @locked
    def block_bot(self, user_id: int) -> Injected:
        """The person blocks the bot: sends then fail with 403 ``bot was blocked by the user``."""
        user = self._user(user_id)
        chat = self._chats[user_id]
        if chat.bot_status == "kicked":
            raise EmulatorUsageError(f"user {user_id} has already blocked the bot")
        chat.bot_status = "kicked"
        update_id = self._enqueue(
            "my_chat_member", self._member_update(chat, user.to_api(), "member", "kicked")
        )
        return Injected(update_id, user_id)

    @locked
    def unblock_bot(self, user_id: int) -> Injected:
        """The person unblocks the bot (a ``my_chat_member`` update back to member)."""
        user = self._user(user_id)
        chat = self._chats[user_id]
        if chat.bot_status != "kicked":
            raise EmulatorUsageError(f"user {user_id} has not blocked the bot")
        chat.bot_status = "member"
        update_id = self._enqueue(
            "my_chat_member", self._member_update(chat, user.to_api(), "kicked", "member")
        )
        return Injected(update_id, user_id)

    @locked
    def raw_update(self, update: JSONDict) -> Injected:
        """Queue an update verbatim. With an explicit ``update_id`` it is delivered once even
        if that id was already confirmed (to simulate redelivery after a crash)."""
        body = {k: v for k, v in update.items() if k != "update_id"}
        if len(body) != 1:
            raise EmulatorUsageError("an update has exactly one field besides update_id")
        ((kind, payload),) = body.items()
        explicit = update.get("update_id")
        if explicit is not None and not isinstance(explicit, int):
            raise EmulatorUsageError("update_id must be an int")
        update_id = self._enqueue(kind, json.loads(json.dumps(payload)), update_id=explicit)
        return Injected(update_id)

    @locked
    def redeliver(self, update_id: int) -> Injected:
        """Deliver an earlier update again, same ``update_id`` (Telegram redelivers after a
        crash that came before the bot confirmed it)."""
        original = self._history.get(update_id)
        if original is None:
            raise EmulatorUsageError(f"no update {update_id} in the history")
        return self.raw_update(original)
