"""What the bot says for each verdict: the urgent reply by kind, or the check-in.

Sentences live in the text catalog (`conversations/texts.py`); this module only picks.
The check-in's buttons carry the kind, so "I need help now" gives the reply for that
kind (a threat from another person gets the Silent Solution and the Domestic Abuse
Helpline, a child at risk the NSPCC and Childline).
"""

from __future__ import annotations

from typing import Final

from telegram import InlineKeyboardMarkup

from conversations import keyboards, texts
from conversations.safety.kinds import Kind, Tier

__all__ = ["CHECKIN_PREFIX", "checkin_keyboard", "parse_checkin", "reply_for", "urgent_text"]

#: Callback data of the check-in's buttons, `safe:ok` and `safe:now:<kind>`, and of the
#: 🆘 Urgent help button on the menu and under /help, `safe:urgent`.
CHECKIN_PREFIX: Final = "safe"

_URGENT_BY_KIND: Final[dict[Kind, str]] = {
    Kind.THREAT: texts.CRISIS_THREAT,
    Kind.CHILD: texts.CRISIS_CHILD,
}


def urgent_text(kind: Kind | None) -> str:
    return _URGENT_BY_KIND.get(kind, texts.CRISIS) if kind is not None else texts.CRISIS


def checkin_keyboard(kind: Kind) -> InlineKeyboardMarkup:
    return keyboards.rows(
        [
            keyboards.button(texts.BTN_CHECKIN_HELP, f"{CHECKIN_PREFIX}:now:{kind.value}"),
            keyboards.button(texts.BTN_CHECKIN_OK, f"{CHECKIN_PREFIX}:ok"),
        ],
        per_row=2,
    )


def reply_for(tier: Tier, kind: Kind) -> tuple[str, InlineKeyboardMarkup | None]:
    """The message (and its buttons) for a verdict."""
    if tier is Tier.URGENT:
        return urgent_text(kind), None
    return texts.CHECKIN, checkin_keyboard(kind)


def parse_checkin(data: str | None) -> tuple[str, Kind | None] | None:
    """("ok", None), ("now", kind) or ("urgent", None); None if it is not one of ours."""
    parts = (data or "").split(":")
    if len(parts) < 2 or parts[0] != CHECKIN_PREFIX:
        return None
    if parts[1] in ("ok", "urgent") and len(parts) == 2:
        return parts[1], None
    if parts[1] == "now" and len(parts) == 3:
        try:
            return "now", Kind(parts[2])
        except ValueError:
            return "now", None  # forged or from an older version: the general reply
    return None
