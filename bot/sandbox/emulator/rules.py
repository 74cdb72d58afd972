"""What Telegram allows, and how it words its refusals: limits, windows and error texts.

Why apart: the Bot API methods, the driver and the fault layer all check against the same
numbers, and a test that asserts Telegram's wording imports it from here.
"""

from __future__ import annotations

import re
from typing import Final

UPDATE_RETENTION: Final = 24 * 3600.0
CALLBACK_ANSWER_WINDOW: Final = 15.0
DELETE_WINDOW: Final = 48 * 3600.0
MAX_TEXT: Final = 4096
MAX_CAPTION: Final = 1024
MAX_CALLBACK_DATA: Final = 64
MAX_INLINE_BUTTONS: Final = 100
LONG_POLL_CAP: Final = 50.0
MEDIA_KINDS: Final = (
    "photo",
    "sticker",
    "voice",
    "video",
    "document",
    "animation",
    "video_note",
    "audio",
)

NOT_MODIFIED: Final = (
    "Bad Request: message is not modified: specified new message content and reply markup "
    "are exactly the same as a current content and reply markup of the message"
)
QUERY_TOO_OLD: Final = (
    "Bad Request: query is too old and response timeout expired or query ID is invalid"
)
GET_UPDATES_CONFLICT: Final = (
    "Conflict: terminated by other getUpdates request; make sure that only one bot instance "
    "is running"
)
WEBHOOK_CONFLICT: Final = (
    "Conflict: can't use getUpdates method while webhook is active; use deleteWebhook to "
    "delete the webhook first"
)
DEFAULT_EXCLUDED_UPDATES: Final = frozenset(
    {"chat_member", "message_reaction", "message_reaction_count"}
)
CHAT_ACTIONS: Final = frozenset(
    [
        "typing",
        "upload_photo",
        "record_video",
        "upload_video",
        "record_voice",
        "upload_voice",
        "upload_document",
        "choose_sticker",
        "find_location",
        "record_video_note",
        "upload_video_note",
    ]
)
INLINE_ACTIONS: Final = (
    "url",
    "callback_data",
    "web_app",
    "login_url",
    "switch_inline_query",
    "switch_inline_query_current_chat",
    "switch_inline_query_chosen_chat",
    "copy_text",
    "callback_game",
    "pay",
)
# Methods Telegram paces (sending and editing); getUpdates and chat actions are not counted.
RATED_PREFIXES: Final = ("send", "copymessage", "forwardmessage", "editmessage")
FILE_ID_PREFIX: Final = {
    "photo": "AgACAgQAAxkBAA",
    "sticker": "CAACAgQAAxkBAA",
    "voice": "AwACAgQAAxkBAA",
    "video": "BAACAgQAAxkBAA",
    "document": "BQACAgQAAxkBAA",
    "animation": "CgACAgQAAxkBAA",
    "video_note": "DQACAgQAAxkBAA",
    "audio": "CQACAgQAAxkBAA",
}
COMMAND_RE: Final = re.compile(r"(?<!\S)/[A-Za-z0-9_]{1,32}(?:@[A-Za-z0-9_]{3,32})?(?![\w@/])")
DEEP_LINK_RE: Final = re.compile(r"[A-Za-z0-9_-]{1,64}")
BOT_COMMAND_RE: Final = re.compile(r"[a-z0-9_]{1,32}")
