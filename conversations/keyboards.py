"""Keyboards, built by small functions; labels come from texts.py.

A button carries one of the typed buttons of conversations/callbacks.py, never a string
made up here. Its data is never trusted: every handler re-checks the person's current
step (and, for mentors, their rights) before acting on it.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from telegram import InlineKeyboardButton, InlineKeyboardMarkup

from conversations import texts
from conversations.callbacks import (
    Button,
    Menu,
    MenuChoice,
    Notice,
    NoticeAction,
    Safety,
    SafetyAction,
)
from conversations.i18n import _, by_language

SHOW_MENU = Menu(MenuChoice.SHOW)
# The way back from a question, which the menu then replaces (`Menu.in_place`).
MENU_IN_PLACE = Menu(MenuChoice.SHOW, in_place=True)


def button(label: str, pressed: Button) -> InlineKeyboardButton:
    """A button that sends `pressed` back (its data is at most 64 bytes)."""
    return InlineKeyboardButton(label, callback_data=pressed.data)


def rows(buttons: Iterable[InlineKeyboardButton], per_row: int = 1) -> InlineKeyboardMarkup:
    """Lay buttons out `per_row` to a row."""
    items = list(buttons)
    return InlineKeyboardMarkup([items[i : i + per_row] for i in range(0, len(items), per_row)])


def with_menu(
    markup_rows: Sequence[Sequence[InlineKeyboardButton]], *, in_place: bool = True
) -> InlineKeyboardMarkup:
    """Every step keeps a way back to the menu. On a question (`in_place`) the menu
    replaces it; `in_place=False` on a message the person may want to read again."""
    back = MENU_IN_PLACE if in_place else SHOW_MENU
    return InlineKeyboardMarkup([*markup_rows, [button(_(texts.BTN_MENU), back)]])


def notice(office_id: str | None = None, *, resend: bool = False) -> InlineKeyboardMarkup:
    """Continue / Tell me more / Not now. The data carries the poster's office, and `r`
    when the person wrote before reading the notice (so Continue asks them to resend)."""
    return rows(
        [
            button(_(texts.BTN_CONTINUE), Notice(NoticeAction.YES, office_id, resend)),
            button(_(texts.BTN_MORE), Notice(NoticeAction.MORE, office_id, resend)),
            button(_(texts.BTN_NOT_NOW), Notice(NoticeAction.NO)),
        ]
    )


@by_language()
def main_menu(in_place: bool = True) -> InlineKeyboardMarkup:
    """Built once per language: it goes with most steps, and PTB's markups cannot be
    changed. On the menu's own message a choice replaces the menu (`in_place`); under
    the notice (`False`) the notice stays, and so do its buttons."""
    return rows(
        [
            button(_(texts.BTN_TELL), Menu(MenuChoice.TELL, in_place)),
            button(_(texts.BTN_SUPPORT), Menu(MenuChoice.SUPPORT, in_place)),
            button(_(texts.BTN_MENTOR), Menu(MenuChoice.MENTOR, in_place)),
            button(_(texts.BTN_JOBCENTRE), Menu(MenuChoice.JOBCENTRE, in_place)),
            button(_(texts.BTN_MYDATA), Menu(MenuChoice.MYDATA, in_place)),
            button(_(texts.BTN_ABOUT), Menu(MenuChoice.ABOUT, in_place)),
            urgent_help_button(),
        ]
    )


def urgent_help_button() -> InlineKeyboardButton:
    """🆘 Urgent help, for anyone at any step (answered in `conversations.safety.checkin`)."""
    return button(_(texts.BTN_URGENT_HELP), Safety(SafetyAction.URGENT))


@by_language()
def help_keyboard() -> InlineKeyboardMarkup:
    """Under /help: urgent help first, about this service, then the way back to the menu."""
    return rows(
        [
            urgent_help_button(),
            button(_(texts.BTN_ABOUT), Menu(MenuChoice.ABOUT)),
            button(_(texts.BTN_MENU), SHOW_MENU),
        ]
    )


def back_to_menu() -> InlineKeyboardMarkup:
    return rows([button(_(texts.BTN_MENU), SHOW_MENU)])
