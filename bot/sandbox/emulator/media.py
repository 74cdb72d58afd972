"""Realistic media a person sends (photo sizes, sticker fields, file ids).

Why apart: it is data more than logic, and only the driver needs it.
"""

from __future__ import annotations

from collections.abc import Callable

from bot.sandbox.emulator.records import JSONDict
from bot.sandbox.emulator.state import StoredFile


def media_content(kind: str, store: Callable[[str, int], StoredFile]) -> JSONDict:
    """The Message fields for a person's media of ``kind``; ``store`` files each size."""

    def file(size: int) -> JSONDict:
        stored = store(kind, size)
        return {
            "file_id": stored.file_id,
            "file_unique_id": stored.file_unique_id,
            "file_size": size,
        }

    if kind == "photo":
        sizes = [(90, 68, 1_210), (320, 240, 15_873), (1280, 960, 121_004)]
        return {"photo": [{**file(s), "width": w, "height": h} for w, h, s in sizes]}
    if kind == "sticker":
        sticker = {
            **file(23_014),
            "type": "regular",
            "width": 512,
            "height": 512,
            "is_animated": False,
            "is_video": False,
            "emoji": "👍",
        }
        return {"sticker": sticker}
    if kind == "voice":
        return {"voice": {**file(9_837), "duration": 3, "mime_type": "audio/ogg"}}
    if kind == "video":
        video = {
            **file(1_048_102),
            "width": 720,
            "height": 1280,
            "duration": 7,
            "mime_type": "video/mp4",
        }
        return {"video": video}
    if kind == "document":
        document = {**file(48_211), "file_name": "letter.pdf", "mime_type": "application/pdf"}
        return {"document": document}
    if kind == "animation":
        animation = {
            **file(201_774),
            "width": 320,
            "height": 240,
            "duration": 2,
            "file_name": "animation.mp4",
            "mime_type": "video/mp4",
        }
        document = {
            k: animation[k]
            for k in ("file_id", "file_unique_id", "file_size", "file_name", "mime_type")
        }
        return {"animation": animation, "document": document}
    if kind == "video_note":
        return {"video_note": {**file(301_992), "length": 240, "duration": 5}}
    audio = {
        **file(3_120_448),
        "duration": 187,
        "performer": "Unknown",
        "title": "Voice memo",
        "mime_type": "audio/mpeg",
    }
    return {"audio": audio}
