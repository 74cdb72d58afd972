"""Checking what the bot sends: text and entities, keyboards, the message replied to.

Why apart: these are pure checks on a request's parameters (Telegram's limits and error
texts), shared by every sending and editing method.
"""

from __future__ import annotations

import re

from bot.sandbox.emulator.params import Params, bad_request
from bot.sandbox.emulator.records import JSONDict
from bot.sandbox.emulator.rules import (
    INLINE_ACTIONS,
    MAX_CALLBACK_DATA,
    MAX_CAPTION,
    MAX_INLINE_BUTTONS,
    MAX_TEXT,
)
from bot.sandbox.emulator.state import StoredChat, StoredMessage
from bot.sandbox.formatting import EntityParseError, render, strip_text


def render_content(args: Params, *, caption: bool = False, required: bool = True) -> JSONDict:
    """Parse text/caption per ``parse_mode``; return the Message content fields."""
    field_name = "caption" if caption else "text"
    entities_name = "caption_entities" if caption else "entities"
    raw = args.opt_str(field_name) or ""
    mode = args.opt_str("parse_mode")
    if mode:
        try:
            text, entities = render(raw, mode)
        except EntityParseError as exc:
            raise bad_request(f"can't parse entities: {exc}") from None
        except ValueError:
            raise bad_request("unsupported parse_mode") from None
    else:
        text, entities = raw, explicit_entities(args, entities_name)
    text, entities = strip_text(text, entities)
    if not text:
        if required:
            raise bad_request("message text is empty")
        return {}
    if caption and len(text) > MAX_CAPTION:
        raise bad_request("message caption is too long")
    if not caption and len(text) > MAX_TEXT:
        raise bad_request("message is too long")
    content: JSONDict = {field_name: text}
    if entities:
        content[entities_name] = entities
    return content


def explicit_entities(args: Params, name: str) -> list[JSONDict]:
    value = args.json_value(name)
    if value is None:
        return []
    if not isinstance(value, list):
        raise bad_request("can't parse entities JSON object")
    entities: list[JSONDict] = []
    for item in value:
        if not (
            isinstance(item, dict)
            and isinstance(item.get("type"), str)
            and isinstance(item.get("offset"), int)
            and isinstance(item.get("length"), int)
        ):
            raise bad_request("can't parse entities JSON object")
        entities.append(item)
    return entities


def parse_markup(args: Params, *, inline_only: bool = False) -> JSONDict | None:
    markup = args.json_value("reply_markup")
    if markup is None:
        return None
    if not isinstance(markup, dict):
        raise bad_request("can't parse reply keyboard markup JSON object")
    if "inline_keyboard" in markup:
        return check_inline(markup)
    if inline_only:
        raise bad_request("inline keyboard expected")
    if "keyboard" in markup:
        rows = markup["keyboard"]
        if not isinstance(rows, list) or not all(isinstance(r, list) for r in rows):
            raise bad_request("can't parse reply keyboard markup JSON object")
        for row in rows:
            for button in row:
                if not (isinstance(button, str) or (isinstance(button, dict) and "text" in button)):
                    raise bad_request("can't parse reply keyboard markup JSON object")
        return markup
    if markup.get("remove_keyboard") is True or markup.get("force_reply") is True:
        return markup
    raise bad_request("object expected as reply markup")


def check_inline(markup: JSONDict) -> JSONDict | None:
    rows = markup.get("inline_keyboard")
    if not isinstance(rows, list) or not all(isinstance(r, list) for r in rows):
        raise bad_request("can't parse reply keyboard markup JSON object")
    count = 0
    for row in rows:
        for button in row:
            if not isinstance(button, dict) or not isinstance(button.get("text"), str):
                raise bad_request("can't parse inline keyboard button: Text must be a String")
            actions = [name for name in INLINE_ACTIONS if name in button]
            if not actions:
                raise bad_request("text buttons are unallowed in the inline keyboard")
            data = button.get("callback_data")
            if "callback_data" in button and (
                not isinstance(data, str) or not 1 <= len(data.encode("utf-8")) <= MAX_CALLBACK_DATA
            ):
                raise bad_request("BUTTON_DATA_INVALID")
            url = button.get("url")
            if "url" in button and not (
                isinstance(url, str) and re.match(r"(https?|tg)://\S+$", url)
            ):
                raise bad_request("BUTTON_URL_INVALID")
            count += 1
    if count > MAX_INLINE_BUTTONS:
        raise bad_request("reply markup is too long")
    return markup if count else None


def reply_target(chat: StoredChat, args: Params) -> StoredMessage | None:
    params = args.json_value("reply_parameters")
    message_id = args.opt_int("reply_to_message_id")
    allow_missing = args.flag("allow_sending_without_reply")
    if isinstance(params, dict):
        message_id = params.get("message_id")
        allow_missing = bool(params.get("allow_sending_without_reply", allow_missing))
    elif params is not None:
        raise bad_request("can't parse reply parameters JSON object")
    if message_id is None:
        return None
    target = chat.messages.get(message_id) if isinstance(message_id, int) else None
    if target is None or target.deleted:
        if allow_missing:
            return None
        raise bad_request("message to be replied not found")
    return target
