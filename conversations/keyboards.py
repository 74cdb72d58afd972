"""Keyboards, built by small functions; labels come from texts.py.

Callback data is `<flow>:<action>[:<arg>]`, at most 64 bytes, and never trusted: every
handler re-checks the person's current step (and, for mentors, their rights) before
acting on it.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from functools import cache

from telegram import InlineKeyboardButton, InlineKeyboardMarkup

from conversations import texts

MAX_CALLBACK_BYTES = 64


def button(label: str, data: str) -> InlineKeyboardButton:
    if len(data.encode()) > MAX_CALLBACK_BYTES:
        raise ValueError("callback data over 64 bytes")
    return InlineKeyboardButton(label, callback_data=data)


def rows(buttons: Iterable[InlineKeyboardButton], per_row: int = 1) -> InlineKeyboardMarkup:
    """Lay buttons out `per_row` to a row."""
    items = list(buttons)
    return InlineKeyboardMarkup([items[i : i + per_row] for i in range(0, len(items), per_row)])


def with_menu(markup_rows: Sequence[Sequence[InlineKeyboardButton]]) -> InlineKeyboardMarkup:
    """Every step keeps a way back to the menu."""
    return InlineKeyboardMarkup([*markup_rows, [button(texts.BTN_MENU, "menu:show")]])


def notice(office_id: str | None = None, *, resend: bool = False) -> InlineKeyboardMarkup:
    """Continue / Tell me more / Not now. The data carries the poster's office, and `r`
    when the person wrote before reading the notice (so Continue asks them to resend)."""
    suffix = f":{office_id or ''}:r" if resend else (f":{office_id}" if office_id else "")
    return rows(
        [
            button(texts.BTN_CONTINUE, f"n:yes{suffix}"),
            button(texts.BTN_MORE, f"n:more{suffix}"),
            button(texts.BTN_NOT_NOW, "n:no"),
        ]
    )


@cache
def main_menu() -> InlineKeyboardMarkup:
    """Built once: it goes with most steps, and PTB's markups cannot be changed."""
    return rows(
        [
            button(texts.BTN_TELL, "menu:tell"),
            button(texts.BTN_SUPPORT, "menu:support"),
            button(texts.BTN_MENTOR, "menu:mentor"),
            button(texts.BTN_JOBCENTRE, "menu:jobcentre"),
            button(texts.BTN_MYDATA, "menu:mydata"),
            urgent_help_button(),
        ]
    )


def urgent_help_button() -> InlineKeyboardButton:
    """🆘 Urgent help, for anyone at any step (answered in `conversations.safety.checkin`)."""
    return button(texts.BTN_URGENT_HELP, "safe:urgent")


@cache
def help_keyboard() -> InlineKeyboardMarkup:
    """Under /help: urgent help first, then the way back to the menu."""
    return rows([urgent_help_button(), button(texts.BTN_MENU, "menu:show")])


def back_to_menu() -> InlineKeyboardMarkup:
    return rows([button(texts.BTN_MENU, "menu:show")])
