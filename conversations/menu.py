"""The main menu as a reply: where every step can lead back to."""

from __future__ import annotations

from conversations import keyboards, texts
from conversations.i18n import _
from conversations.outcome import Reply


def menu_replies(in_place: bool = True) -> tuple[Reply, ...]:
    """The menu; a choice replaces it (`in_place`), or leaves it where it is (`False`:
    under a message that stays, such as the notice)."""
    return (Reply(_(texts.MENU), keyboards.main_menu(in_place)),)
