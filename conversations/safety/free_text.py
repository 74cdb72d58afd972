"""Which part of a message is a person's own words, for the crisis check.

Every free text is checked, at any step, commands included ("/help I can't go on"). A
command's arguments are not words when they are codes: an invite code (`/join <code>`,
`/start join-<code>`), a poster's deep link (`/start jc_<office>`), a reference code
(`/to R-7KQ3XW ...`, where only what follows the code is words). Random letters can
spell danger by chance: before this, 27 of 300,000 random invite codes got the urgent
reply.
"""

from __future__ import annotations

import re
from typing import Final

__all__ = ["CODE_ARGUMENTS", "free_text"]

#: Command -> how many of its arguments are codes (None: all of them).
CODE_ARGUMENTS: Final[dict[str, int | None]] = {"join": None, "start": None, "to": 1}
_COMMAND: Final = re.compile(r"^/([A-Za-z0-9_]+)(?:@\w+)?(?:\s+(.*))?$", re.DOTALL)


def free_text(text: str | None) -> str | None:
    """`text` without a command and its code arguments (None when nothing is left)."""
    if not text:
        return None
    match = _COMMAND.match(text)
    if match is None:
        return text
    command, rest = match.group(1).lower(), match.group(2) or ""
    if command not in CODE_ARGUMENTS:
        return rest or None
    codes = CODE_ARGUMENTS[command]
    if codes is None:
        return None
    parts = rest.split(maxsplit=codes)
    return parts[codes] if len(parts) > codes else None
