"""The main menu as a reply: where every step can lead back to."""

from __future__ import annotations

from conversations import keyboards, texts
from conversations.outcome import Reply


def menu_replies() -> tuple[Reply, ...]:
    return (Reply(texts.MENU, keyboards.main_menu()),)
