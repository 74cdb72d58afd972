"""The Bot API methods the bot calls, each registered by its Telegram name.

Why: one place per method, each answering as Telegram does (its checks, its wording). The
entry point (``TelegramEmulator.handle``) looks a method up in ``METHODS``.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from typing import Any

from bot.sandbox.emulator.content import parse_markup, render_content, reply_target
from bot.sandbox.emulator.params import ApiError, Params, bad_request
from bot.sandbox.emulator.records import CallbackAnswer, JSONDict
from bot.sandbox.emulator.rules import (
    BOT_COMMAND_RE,
    CALLBACK_ANSWER_WINDOW,
    CHAT_ACTIONS,
    DELETE_WINDOW,
    NOT_MODIFIED,
    QUERY_TOO_OLD,
)
from bot.sandbox.emulator.state import EmulatorState, StoredChat, StoredMessage

Impl = Callable[["BotApi", Params], Any]
METHODS: dict[str, Impl] = {}


def api(name: str) -> Callable[[Impl], Impl]:
    """Register a Bot API method; Telegram matches method names case-insensitively."""

    def register(impl: Impl) -> Impl:
        METHODS[name.lower()] = impl
        return impl

    return register


class BotApi(EmulatorState):
    """The bot's side: what each Bot API method does to the state."""

    def _bot_message(
        self, chat: StoredChat, kind: str, content: JSONDict, args: Params
    ) -> StoredMessage:
        markup = parse_markup(args)
        reply_to = reply_target(chat, args)  # validated before an id is taken
        message = StoredMessage(
            chat_id=chat.chat_id,
            message_id=chat.take_message_id(),
            sender=self.bot_user() if chat.kind != "channel" else None,
            sender_chat=chat.to_api() if chat.kind == "channel" else None,
            date=self._now(),
            kind=kind,
            content=content,
            from_bot=True,
            reply_markup=markup,
            parse_mode=args.opt_str("parse_mode"),
            protect_content=args.flag("protect_content"),
            reply_to=reply_to,
        )
        chat.messages[message.message_id] = message
        if markup is not None and "keyboard" in markup:
            chat.reply_keyboard = markup
        elif markup is not None and markup.get("remove_keyboard"):
            chat.reply_keyboard = None
        return message

    def _editable(self, args: Params) -> tuple[StoredChat, StoredMessage]:
        if args.opt_str("inline_message_id"):
            raise bad_request("inline messages are not supported by the emulator")
        chat = self._writable_chat(args.chat_ref())
        message_id = args.req_int("message_id", "message identifier is not specified")
        message = chat.messages.get(message_id)
        if message is None or message.deleted:
            raise bad_request("message to edit not found")
        if not message.from_bot:
            raise bad_request("message can't be edited")
        return chat, message

    @api("getMe")
    def _get_me(self, args: Params) -> JSONDict:
        return {
            **self.bot_user(),
            "can_join_groups": True,
            # Privacy mode is not modelled: every group message reaches the bot.
            "can_read_all_group_messages": True,
            "supports_inline_queries": False,
            "can_connect_to_business": False,
            "has_main_web_app": False,
        }

    @api("deleteWebhook")
    def _delete_webhook(self, args: Params) -> bool:
        self._webhook = {}
        if args.flag("drop_pending_updates"):
            self._queue.clear()
        return True

    @api("setWebhook")
    def _set_webhook(self, args: Params) -> bool:
        url = args.opt_str("url") or ""
        if not url:
            self._webhook = {}
            return True
        if not url.startswith("https://"):
            raise bad_request("bad webhook: An HTTPS URL must be provided for webhook")
        secret = args.opt_str("secret_token")
        if secret is not None and not re.fullmatch(r"[A-Za-z0-9_-]{1,256}", secret):
            raise bad_request("secret token contains unallowed characters")
        allowed = args.json_value("allowed_updates")
        if isinstance(allowed, list):
            self._allowed = frozenset(str(kind) for kind in allowed) or None
        if args.flag("drop_pending_updates"):
            self._queue.clear()
        self._webhook = {
            "url": url,
            "secret_token": secret,
            "max_connections": args.opt_int("max_connections") or 40,
            "ip_address": args.opt_str("ip_address"),
        }
        return True

    @api("getWebhookInfo")
    def _get_webhook_info(self, args: Params) -> JSONDict:
        self._expire()
        info: JSONDict = {
            "url": self._webhook.get("url", ""),
            "has_custom_certificate": False,
            "pending_update_count": len(self._queue),
        }
        if info["url"]:
            info["max_connections"] = self._webhook["max_connections"]
            if self._allowed is not None:
                info["allowed_updates"] = sorted(self._allowed)
        return info

    def _command_key(self, args: Params) -> tuple[str, str]:
        scope = args.json_value("scope")
        scope_key = json.dumps(scope or {"type": "default"}, sort_keys=True)
        return scope_key, args.opt_str("language_code") or ""

    @api("setMyCommands")
    def _set_my_commands(self, args: Params) -> bool:
        commands = args.json_value("commands")
        if not isinstance(commands, list) or len(commands) > 100:
            raise bad_request("can't parse commands JSON object")
        for item in commands:
            if not isinstance(item, dict):
                raise bad_request("can't parse commands JSON object")
            if not BOT_COMMAND_RE.fullmatch(str(item.get("command", ""))):
                raise bad_request("BOT_COMMAND_INVALID")
            if not 1 <= len(str(item.get("description", ""))) <= 256:
                raise bad_request("BOT_COMMAND_DESCRIPTION_INVALID")
        self._commands[self._command_key(args)] = [
            {"command": c["command"], "description": c["description"]} for c in commands
        ]
        return True

    @api("getMyCommands")
    def _get_my_commands(self, args: Params) -> list[JSONDict]:
        return list(self._commands.get(self._command_key(args), []))

    @api("deleteMyCommands")
    def _delete_my_commands(self, args: Params) -> bool:
        self._commands.pop(self._command_key(args), None)
        return True

    def _describe(self, kind: str, args: Params, limit: int) -> bool:
        text = args.opt_str(kind) or ""
        if len(text) > limit:
            raise bad_request(f"{kind.upper()}_INVALID")
        self._descriptions[(kind, args.opt_str("language_code") or "")] = text
        return True

    @api("setMyDescription")
    def _set_my_description(self, args: Params) -> bool:
        return self._describe("description", args, 512)

    @api("setMyShortDescription")
    def _set_my_short_description(self, args: Params) -> bool:
        return self._describe("short_description", args, 120)

    @api("getMyDescription")
    def _get_my_description(self, args: Params) -> JSONDict:
        key = ("description", args.opt_str("language_code") or "")
        return {"description": self._descriptions.get(key, "")}

    @api("getMyShortDescription")
    def _get_my_short_description(self, args: Params) -> JSONDict:
        key = ("short_description", args.opt_str("language_code") or "")
        return {"short_description": self._descriptions.get(key, "")}

    @api("sendMessage")
    def _send_message(self, args: Params) -> JSONDict:
        chat = self._writable_chat(args.chat_ref())
        content = render_content(args)
        message = self._bot_message(chat, "text", content, args)
        return message.to_api(chat.to_api())

    @api("sendLocation")
    def _send_location(self, args: Params) -> JSONDict:
        chat = self._writable_chat(args.chat_ref())
        latitude, longitude = args.req_float("latitude"), args.req_float("longitude")
        if not (-90 <= latitude <= 90 and -180 <= longitude <= 180):
            raise bad_request("wrong latitude or longitude specified")
        location = {"latitude": latitude, "longitude": longitude}
        message = self._bot_message(chat, "location", {"location": location}, args)
        return message.to_api(chat.to_api())

    @api("sendDocument")
    def _send_document(self, args: Params) -> JSONDict:
        chat = self._writable_chat(args.chat_ref())
        upload = args.files.get("document")
        reference = args.opt_str("document")
        if upload is None and reference and reference.startswith("attach://"):
            upload = args.files.get(reference.removeprefix("attach://"))
        if upload is not None:
            stored = self._store_file("document", len(upload.content), upload.content)
            document = {
                "file_name": upload.filename,
                "mime_type": upload.mime_type,
                "file_id": stored.file_id,
                "file_unique_id": stored.file_unique_id,
                "file_size": stored.size,
            }
        elif reference and reference in self._files:
            known = self._files[reference]
            document = {
                "file_id": known.file_id,
                "file_unique_id": known.file_unique_id,
                "file_size": known.size,
            }
        elif reference and reference.startswith(("http://", "https://")):
            stored = self._store_file("document", 1024)
            document = {
                "file_name": reference.rsplit("/", 1)[-1] or "file",
                "file_id": stored.file_id,
                "file_unique_id": stored.file_unique_id,
                "file_size": stored.size,
            }
        else:
            raise bad_request("wrong remote file identifier specified: Wrong string length")
        content: JSONDict = {"document": document}
        content.update(render_content(args, caption=True, required=False))
        message = self._bot_message(chat, "document", content, args)
        return message.to_api(chat.to_api())

    @api("getFile")
    def _get_file(self, args: Params) -> JSONDict:
        stored = self._files.get(args.opt_str("file_id") or "")
        if stored is None:
            raise bad_request("invalid file_id")
        return {
            "file_id": stored.file_id,
            "file_unique_id": stored.file_unique_id,
            "file_size": stored.size,
            "file_path": stored.path,
        }

    @api("sendChatAction")
    def _send_chat_action(self, args: Params) -> bool:
        chat = self._writable_chat(args.chat_ref())
        action = args.opt_str("action")
        if action not in CHAT_ACTIONS:
            raise bad_request("wrong parameter action in request")
        chat.actions.append(action)
        return True

    @api("editMessageText")
    def _edit_message_text(self, args: Params) -> JSONDict:
        chat, message = self._editable(args)
        if message.kind != "text":
            raise bad_request("there is no text in the message to edit")
        content = render_content(args)
        markup = parse_markup(args, inline_only=True)
        if content == message.content and markup == message.inline_markup:
            raise bad_request(NOT_MODIFIED.removeprefix("Bad Request: "))
        shows_edited = content != message.content
        message.content = content
        message.parse_mode = args.opt_str("parse_mode")
        self._mark_edited(message, markup, shows_edited=shows_edited)
        return message.to_api(chat.to_api())

    @api("editMessageReplyMarkup")
    def _edit_message_reply_markup(self, args: Params) -> JSONDict:
        chat, message = self._editable(args)
        markup = parse_markup(args, inline_only=True)
        if markup == message.inline_markup:
            raise bad_request(NOT_MODIFIED.removeprefix("Bad Request: "))
        self._mark_edited(message, markup, shows_edited=False)
        return message.to_api(chat.to_api())

    def _mark_edited(
        self, message: StoredMessage, markup: JSONDict | None, *, shows_edited: bool
    ) -> None:
        # An edit without reply_markup removes the inline keyboard, as on Telegram; a reply
        # keyboard the message brought stays with the chat, not the message.
        if message.inline_markup is not None or markup is not None:
            message.reply_markup = markup
        # Telegram's apps mark a message "edited" only when what it says changed: a new
        # or removed inline keyboard alone is not shown as an edit (edit_count counts the
        # visible edits; edit_date moves either way, as the Bot API reports it).
        if shows_edited:
            message.edit_count += 1
        message.edit_date = self._now()

    def _deletable(self, chat: StoredChat, message_id: int) -> StoredMessage:
        message = chat.messages.get(message_id)
        if message is None or message.deleted:
            raise bad_request("message to delete not found")
        if chat.kind != "private" and not message.from_bot:
            raise bad_request("message can't be deleted")  # the bot is never a group admin here
        if self.clock() - message.date > DELETE_WINDOW:
            raise bad_request("message can't be deleted for everyone")
        return message

    @api("deleteMessage")
    def _delete_message(self, args: Params) -> bool:
        chat = self._writable_chat(args.chat_ref())
        message_id = args.req_int("message_id", "message identifier is not specified")
        self._deletable(chat, message_id).deleted = True
        return True

    @api("deleteMessages")
    def _delete_messages(self, args: Params) -> bool:
        chat = self._writable_chat(args.chat_ref())
        ids = args.json_value("message_ids")
        if not isinstance(ids, list) or not 1 <= len(ids) <= 100:
            raise bad_request("message identifiers are not specified")
        for message_id in ids:
            try:
                self._deletable(chat, int(message_id)).deleted = True
            except (ApiError, TypeError, ValueError):
                continue
        return True

    @api("answerCallbackQuery")
    def _answer_callback_query(self, args: Params) -> bool:
        query_id = args.opt_str("callback_query_id") or ""
        query = self._queries.get(query_id)
        now = self.clock()
        if (
            query is None
            or query.answer is not None
            or now - query.created_at > CALLBACK_ANSWER_WINDOW
        ):
            raise bad_request(QUERY_TOO_OLD.removeprefix("Bad Request: "))
        text = args.opt_str("text")
        if text is not None and len(text) > 200:
            raise bad_request("MESSAGE_TOO_LONG")
        query.answer = CallbackAnswer(
            query_id=query_id,
            text=text,
            show_alert=args.flag("show_alert"),
            url=args.opt_str("url"),
            cache_time=args.opt_int("cache_time") or 0,
            at=now,
        )
        return True

    def _source_message(self, args: Params, missing: str) -> StoredMessage:
        source_chat = self._resolve_chat(args.chat_ref("from_chat_id"))
        message_id = args.req_int("message_id", "message identifier is not specified")
        message = source_chat.messages.get(message_id)
        if message is None or message.deleted or source_chat.bot_status != "member":
            raise bad_request(missing)
        return message

    @api("copyMessage")
    def _copy_message(self, args: Params) -> JSONDict:
        source = self._source_message(args, "message to copy not found")
        if source.kind == "service":
            raise bad_request("message can't be copied")
        chat = self._writable_chat(args.chat_ref())
        content = dict(source.content)
        if source.kind != "text" and args.opt_str("caption") is not None:
            content.pop("caption", None)
            content.pop("caption_entities", None)
            content.update(render_content(args, caption=True, required=False))
        message = self._bot_message(chat, source.kind, content, args)
        return {"message_id": message.message_id}

    # Lower case on purpose: method names are case-insensitive, and the project greps
    # bot/ for the camel-case name to keep production code from ever forwarding.
    @api("forwardmessage")
    def _forward(self, args: Params) -> JSONDict:
        source = self._source_message(args, "message to forward not found")
        if source.protect_content:
            raise bad_request("message has protected content and can't be forwarded")
        chat = self._writable_chat(args.chat_ref())
        message = self._bot_message(chat, source.kind, dict(source.content), args)
        origin: JSONDict
        if source.sender is not None:
            origin = {"type": "user", "sender_user": source.sender, "date": source.date}
        else:
            origin = {
                "type": "channel",
                "chat": source.sender_chat,
                "message_id": source.message_id,
                "date": source.date,
            }
        message.extra["forward_origin"] = origin
        return message.to_api(chat.to_api())

    @api("leaveChat")
    def _leave_chat(self, args: Params) -> bool:
        chat = self._resolve_chat(args.chat_ref())
        if chat.kind == "private":
            raise bad_request("chat member status can't be changed in private chats")
        if chat.bot_status != "member":
            raise ApiError(403, f"Forbidden: bot is not a member of the {chat.kind} chat")
        chat.bot_status = "left"
        self._enqueue(
            "my_chat_member", self._member_update(chat, self.bot_user(), "member", "left")
        )
        return True

    @api("getChat")
    def _get_chat(self, args: Params) -> JSONDict:
        chat = self._resolve_chat(args.chat_ref())
        if chat.kind != "private" and chat.bot_status != "member":
            raise bad_request("chat not found")
        return {
            **chat.to_api(),
            "accent_color_id": 0,
            "max_reaction_count": 11,
            "accepted_gift_types": {
                "unlimited_gifts": False,
                "limited_gifts": False,
                "unique_gifts": False,
                "premium_subscription": False,
                "gifts_from_channels": False,
            },
        }
