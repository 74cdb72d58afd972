"""What the bot says for each verdict: the urgent reply by kind, or the check-in.

Sentences live in the text catalog (`conversations/texts.py`); this module only picks.
The check-in's buttons carry the kind (`callbacks.Safety`), so "I need help now" gives
the reply for that kind (a threat from another person gets the Silent Solution and the
Domestic Abuse Helpline, a child at risk the NSPCC and Childline).
"""

from __future__ import annotations

from typing import Final

from telegram import InlineKeyboardMarkup

from conversations import keyboards, texts
from conversations.callbacks import Safety, SafetyAction
from conversations.i18n import _
from conversations.safety.kinds import Kind, Tier

__all__ = ["checkin_keyboard", "kind_of", "reply_for", "urgent_text"]

_URGENT_BY_KIND: Final[dict[Kind, str]] = {
    Kind.THREAT: texts.CRISIS_THREAT,
    Kind.CHILD: texts.CRISIS_CHILD,
}


def urgent_text(kind: Kind | None) -> str:
    return _(_URGENT_BY_KIND.get(kind, texts.CRISIS) if kind is not None else texts.CRISIS)


def checkin_keyboard(kind: Kind) -> InlineKeyboardMarkup:
    return keyboards.rows(
        [
            keyboards.button(_(texts.BTN_CHECKIN_HELP), Safety(SafetyAction.NOW, kind.value)),
            keyboards.button(_(texts.BTN_CHECKIN_OK), Safety(SafetyAction.OK)),
        ],
        per_row=2,
    )


def reply_for(tier: Tier, kind: Kind) -> tuple[str, InlineKeyboardMarkup | None]:
    """The message (and its buttons) for a verdict."""
    if tier is Tier.URGENT:
        return urgent_text(kind), None
    return _(texts.CHECKIN), checkin_keyboard(kind)


def kind_of(button: Safety) -> Kind | None:
    """The kind an "I need help now" button carries (None: forged or from an older bot)."""
    try:
        return Kind(button.kind)
    except ValueError:
        return None
