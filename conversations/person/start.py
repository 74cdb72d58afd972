"""First contact: /start, the privacy notice, the main menu, /help and /cancel.

Nothing is kept until the person taps Continue on the notice. A message typed before
that is not stored: the person is asked to send it again afterwards. A deep link from a
Jobcentre poster (`/start jc_<office>`) preselects that office; only the count of such
starts is kept, never who used it.
"""

from __future__ import annotations

import re
from collections.abc import Mapping

from telegram import Update
from telegram.ext import BaseHandler, MessageHandler, filters

from conversations import keyboards, texts
from conversations.common import chat_id_of, event
from conversations.context import Context
from conversations.flow import (
    KEEP,
    FlowFn,
    Outcome,
    Reply,
    buttons,
    callback_parts,
    command,
    menu_replies,
    prompt_for,
    run_flow,
    stale,
)
from conversations.mentor import notices
from conversations.person.disclosure import own_words_keyboard
from conversations.steps import Step
from storage.directory import office_by_id
from storage.repositories.people import PersonTransaction
from storage.repositories.updates import mark_processed, record_event

OFFICE_PAYLOAD = re.compile(r"^jc_([a-z0-9-]{1,40})$")


def office_from_payload(payload: str) -> str | None:
    """The office id of a poster deep link, if it names an office we offer."""
    match = OFFICE_PAYLOAD.match(payload)
    if match is None:
        return None
    office = office_by_id(match.group(1))
    return office.office_id if office is not None else None


def notice_text(context: Context) -> str:
    return texts.NOTICE.format(work_coach_policy=context.services.settings.work_coach_policy)


async def start(update: Update, context: Context, tx: PersonTransaction) -> Outcome:
    """/start, with an optional poster payload."""
    payload = context.args[0] if context.args else ""
    office_id = office_from_payload(payload)
    if office_id is not None:
        await record_event(tx.connection, "deep_link", tx.now, office_id)
    person = tx.person
    if person is None:
        event("start.new")
        return Outcome.say(texts.WELCOME, Reply(notice_text(context), keyboards.notice(office_id)))
    draft = dict(person.draft)
    replies = [Reply(texts.WELCOME_BACK)]
    if office_id is not None:
        draft["office"] = office_id
        replies.append(Reply(texts.OFFICE_PRESELECTED.format(office=office_name(office_id))))
    await tx.move(Step.MENU, draft=draft)
    event("start.returning")
    return Outcome(replies=[*replies, *menu_replies()])


def office_name(office_id: str) -> str:
    office = office_by_id(office_id)
    return office.name if office is not None else office_id


async def on_notice_button(update: Update, context: Context, tx: PersonTransaction) -> Outcome:
    """Continue / Tell me more / Not now: `n:<action>[:<office>[:r]]`."""
    parts = callback_parts(update)
    action = parts[1] if len(parts) > 1 else ""
    office = office_by_id(parts[2]) if len(parts) > 2 and parts[2] else None
    office_id = office.office_id if office is not None else None
    resend = len(parts) > 3 and parts[3] == "r"
    settings = context.services.settings
    if action == "more":
        more = texts.NOTICE_MORE.format(
            inactive_days=settings.retention_inactive_days,
            after_close_days=settings.retention_after_close_days,
            backup_days=settings.backup_erasure_days,
            main_backup_days=settings.backup_main_days,
            draft_delay=notices.describe_delay(settings.request_draft_max_hours * 60),
        )
        return Outcome(replies=[Reply(more, keyboards.notice(office_id, resend=resend))])
    if action not in ("yes", "no"):
        return Outcome(toast=texts.UNKNOWN_BUTTON, pressed_markup=KEEP)
    if tx.person is not None:
        # A second tap, or an old notice: they are already in. Nothing new is made.
        return stale(tx.person)
    if action == "no":
        event("notice.declined")
        return Outcome.say(texts.NOTICE_DECLINED)
    step = Step.DISCLOSE_OWN_WORDS if resend else Step.MENU
    await tx.register(
        state=step,
        chat_id=chat_id_of(update),
        draft={"office": office_id} if office_id else {},
    )
    # Recorded with the registration, so a redelivered Continue is seen as handled.
    await mark_processed(tx.connection, update.update_id, tx.now)
    await record_event(tx.connection, "notice_accepted", tx.now)
    event("notice.accepted")
    replies = [Reply(texts.NOTICE_ACCEPTED)]
    if office is not None:
        replies.append(Reply(texts.OFFICE_PRESELECTED.format(office=office.name)))
    if resend:
        return Outcome(replies=[*replies, Reply(texts.RESEND_NOW, own_words_keyboard())])
    return Outcome(replies=[*replies, *menu_replies()])


async def show_menu(update: Update, context: Context, tx: PersonTransaction) -> Outcome:
    """/menu and the Menu button: back to the main choices from anywhere."""
    assert tx.person is not None
    if tx.person.state != Step.MENU:
        await tx.move(Step.MENU)
    return Outcome(replies=menu_replies())


async def show_help(update: Update, context: Context, tx: PersonTransaction) -> Outcome:
    return Outcome.say(Reply(texts.HELP, keyboards.help_keyboard()))


async def help_now(update: Update, context: Context, tx: PersonTransaction) -> Outcome:
    return Outcome.say(Reply(texts.CRISIS, keyboards.back_to_menu()))


async def cancel(update: Update, context: Context, tx: PersonTransaction) -> Outcome:
    """Stop the current step, drop its unsaved answers, and go back to the menu."""
    assert tx.person is not None
    keep = {key: value for key, value in tx.person.draft.items() if key == "office"}
    await tx.move(Step.MENU, draft=keep)
    return Outcome(replies=[Reply(texts.CANCELLED), *menu_replies()])


async def not_understood(update: Update, context: Context, tx: PersonTransaction) -> Outcome:
    """Free text at a step that expects a button."""
    assert tx.person is not None
    if tx.person.state == Step.MENU:
        # Most likely they want to tell us something: show them where that goes.
        return Outcome(replies=[Reply(texts.MENU_TYPED), *menu_replies()])
    return Outcome(replies=[Reply(texts.NOT_UNDERSTOOD), *prompt_for(tx.person)])


async def unknown_command(update: Update, context: Context, tx: PersonTransaction) -> Outcome:
    """A /command no flow knows (a typo, or an old one)."""
    return Outcome(replies=[Reply(texts.UNKNOWN_COMMAND), *menu_replies()])


def build_menu_buttons(entries: Mapping[str, FlowFn]) -> BaseHandler[Update, Context, None]:
    """`menu:<choice>` buttons, each leading to the same entry as its command."""

    async def on_menu_button(update: Update, context: Context, tx: PersonTransaction) -> Outcome:
        parts = callback_parts(update)
        choice = parts[1] if len(parts) > 1 else ""
        if choice == "show":
            outcome = await show_menu(update, context, tx)
        elif choice == "helpnow":
            outcome = await help_now(update, context, tx)
        elif choice in entries:
            outcome = await entries[choice](update, context, tx)
        else:
            return Outcome(toast=texts.UNKNOWN_BUTTON, pressed_markup=KEEP)
        outcome.pressed_markup = None
        return outcome

    return buttons("menu", on_menu_button)


async def _unknown_command(update: Update, context: Context) -> None:
    await run_flow(update, context, unknown_command)


def unknown_commands() -> MessageHandler[Context, None]:
    """Register after every flow's commands: a command nobody handles still gets a reply."""
    return MessageHandler(filters.ChatType.PRIVATE & filters.COMMAND, _unknown_command)


def build_start_handlers() -> list[BaseHandler[Update, Context, None]]:
    return [
        command("start", start, needs_person=False),
        command("menu", show_menu),
        command("help", show_help, needs_person=False),
        command("cancel", cancel),
        buttons("n", on_notice_button, needs_person=False),
    ]


PROMPTS = {Step.MENU: lambda person: menu_replies()}
