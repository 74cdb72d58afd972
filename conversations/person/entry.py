"""Which door someone came in by: an office's link, and where the link was.

An office's link starts the bot with `/start jc_<office>`, optionally with a source
marker: `jc_<office>_p` is the Telegram code on a printed poster (`firststep poster`),
`jc_<office>_w` the web chat code on it. (Office ids are `a-z 0-9 -`, so the `_` before
the marker cannot be part of one.) Each such /start adds one to a per-day, per-office
counter of its source (`event_counts`, read by the pilot report); nothing ties the count
to the person.

The web chat turns its page address `?office=<id>&src=poster` into the same /start
(`web_start_payload`), so both doors are counted by the same code.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from enum import StrEnum

from storage.directory import office_by_id
from storage.repositories.updates import DEEP_LINK, POSTER_TELEGRAM, POSTER_WEB

PREFIX = "jc_"
PAYLOAD = re.compile(r"^jc_([a-z0-9-]{1,40})(?:_([a-z]))?$")


class Source(StrEnum):
    """Where the office's link was; the value is the payload's marker."""

    LINK = ""  # a plain `jc_<office>` link (shared, typed, or an older poster)
    POSTER_TELEGRAM = "p"
    POSTER_WEB = "w"


# The counter each source adds to (plain links keep the name they were always counted under).
EVENTS = {
    Source.LINK: DEEP_LINK,
    Source.POSTER_TELEGRAM: POSTER_TELEGRAM,
    Source.POSTER_WEB: POSTER_WEB,
}
WEB_POSTER_SOURCE = "poster"  # the web chat address's `src=` for its code on a poster


@dataclass(frozen=True, slots=True)
class Entry:
    office_id: str
    source: Source

    @property
    def event(self) -> str:
        return EVENTS[self.source]


def start_payload(office_id: str, source: Source) -> str:
    """The /start payload of an office's link from this source."""
    return f"{PREFIX}{office_id}_{source.value}" if source.value else f"{PREFIX}{office_id}"


def entry_from_payload(payload: str) -> Entry | None:
    """The office and source of a /start payload, if it names an office we offer and a
    source we know; anything else is an ordinary /start."""
    match = PAYLOAD.match(payload)
    if match is None:
        return None
    office = office_by_id(match.group(1))
    if office is None:
        return None
    try:
        source = Source(match.group(2) or "")
    except ValueError:
        return None
    return Entry(office.office_id, source)


def web_start_payload(query: Mapping[str, str]) -> str | None:
    """The /start payload for a web chat page opened with `?office=<id>` (and
    `&src=poster` from the poster's code); None without a known office."""
    office = office_by_id(query.get("office", ""))
    if office is None:
        return None
    poster = query.get("src") == WEB_POSTER_SOURCE
    return start_payload(office.office_id, Source.POSTER_WEB if poster else Source.LINK)
