"""The main menu as a reply: where every step can lead back to."""

from __future__ import annotations

from conversations import keyboards, texts
from conversations.i18n import _
from conversations.outcome import Reply


def menu_replies() -> tuple[Reply, ...]:
    return (Reply(_(texts.MENU), keyboards.main_menu()),)
