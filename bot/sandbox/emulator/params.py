"""Decoding Bot API request parameters the way Telegram does, with its error wording.

Why apart: every method reads its arguments through ``Params``; ``ApiError`` is how a
method refuses, and the entry point turns it into Telegram's error envelope.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from typing import Any, Final

from bot.sandbox.emulator.records import JSONDict, UploadedFile

# Parameters whose string values are never JSON-decoded (a text of "123" stays a string).
STRING_PARAMS: Final = frozenset(
    [
        "text",
        "caption",
        "parse_mode",
        "callback_query_id",
        "inline_message_id",
        "url",
        "secret_token",
        "ip_address",
        "certificate",
        "description",
        "short_description",
        "name",
        "action",
        "language_code",
        "title",
        "first_name",
        "last_name",
        "phone_number",
        "vcard",
        "address",
        "emoji",
        "question",
        "file_id",
        "photo",
        "document",
        "audio",
        "video",
        "voice",
        "sticker",
        "animation",
        "video_note",
        "thumbnail",
        "business_connection_id",
        "message_effect_id",
    ]
)
JSON_PARAMS: Final = {
    "reply_markup": "reply keyboard markup",
    "entities": "entities",
    "caption_entities": "entities",
    "reply_parameters": "reply parameters",
    "link_preview_options": "link preview options",
    "allowed_updates": "allowed updates",
    "commands": "commands",
    "scope": "bot command scope",
    "message_ids": "message identifiers",
}


class ApiError(Exception):
    """A Bot API error reply; raised inside method implementations."""

    def __init__(self, status: int, description: str, parameters: JSONDict | None = None):
        super().__init__(description)
        self.status = status
        self.description = description
        self.parameters = parameters


def bad_request(description: str) -> ApiError:
    return ApiError(400, f"Bad Request: {description}")


class Params:
    """Decoded request parameters with typed, Telegram-worded accessors."""

    def __init__(self, values: JSONDict, files: Mapping[str, UploadedFile]) -> None:
        self.values = values
        self.files = files

    def opt_str(self, name: str) -> str | None:
        value = self.values.get(name)
        if value is None:
            return None
        return value if isinstance(value, str) else json.dumps(value)

    def opt_int(self, name: str) -> int | None:
        value = self.values.get(name)
        if value is None:
            return None
        if isinstance(value, bool):
            raise bad_request(f"{name} must be a number")
        if isinstance(value, int):
            return value
        if isinstance(value, float) and value.is_integer():
            return int(value)
        if isinstance(value, str) and re.fullmatch(r"-?\d+", value.strip()):
            return int(value)
        raise bad_request(f"{name} must be a number")

    def req_int(self, name: str, missing: str | None = None) -> int:
        value = self.opt_int(name)
        if value is None:
            raise bad_request(missing or f"{name} is empty")
        return value

    def opt_float(self, name: str) -> float | None:
        value = self.values.get(name)
        if value is None:
            return None
        if isinstance(value, bool):
            raise bad_request(f"{name} must be a number")
        try:
            return float(value)
        except (TypeError, ValueError):
            raise bad_request(f"{name} must be a number") from None

    def req_float(self, name: str) -> float:
        value = self.opt_float(name)
        if value is None:
            raise bad_request(f"{name} is empty")
        return value

    def flag(self, name: str) -> bool:
        value = self.values.get(name)
        if isinstance(value, str):
            return value.strip().lower() in ("true", "1")
        return bool(value)

    def chat_ref(self, name: str = "chat_id") -> int | str:
        value = self.values.get(name)
        if value is None or value == "":
            raise bad_request(f"{name} is empty")
        if isinstance(value, bool):
            raise bad_request("chat not found")
        if isinstance(value, int):
            return value
        if isinstance(value, str) and re.fullmatch(r"-?\d+", value.strip()):
            return int(value)
        return str(value)

    def json_value(self, name: str) -> Any:
        value = self.values.get(name)
        if isinstance(value, str) and name in JSON_PARAMS:
            try:
                return json.loads(value)
            except ValueError:
                raise bad_request(f"can't parse {JSON_PARAMS[name]} JSON object") from None
        return value


def decode_params(raw: Mapping[str, Any]) -> JSONDict:
    """Turn form / JSON / PTB ``json_parameters`` values into typed values, as Telegram does."""
    out: JSONDict = {}
    for name, value in raw.items():
        if not isinstance(value, str) or name in STRING_PARAMS:
            out[name] = value
        elif name in JSON_PARAMS:
            try:
                out[name] = json.loads(value)
            except ValueError:
                raise bad_request(f"can't parse {JSON_PARAMS[name]} JSON object") from None
        else:
            try:
                out[name] = json.loads(value)
            except ValueError:
                out[name] = value
    return out
