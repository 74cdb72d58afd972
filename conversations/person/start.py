"""First contact: /start, the privacy notice, the main menu, /help and /cancel.

Nothing is kept until the person taps Continue on the notice. A message typed before
that is not stored: the person is asked to send it again afterwards. A deep link from a
Jobcentre poster (`/start jc_<office>`, with a source marker: conversations/person/entry.py)
preselects that office; only the count of such starts per source is kept, never who used it.
"""

from __future__ import annotations

from telegram import InlineKeyboardMarkup, Message, Update

from conversations import keyboards, texts, web_texts
from conversations.callbacks import Button, Family, Menu, MenuChoice, Notice, NoticeAction
from conversations.common import chat_id_of, event
from conversations.context import Context
from conversations.door import by_web
from conversations.i18n import _
from conversations.mentor import notices
from conversations.menu import menu_replies
from conversations.outcome import KEEP, REPLACE, Outcome, Reply, Rewrite, together
from conversations.person.disclosure import own_words_keyboard
from conversations.person.entry import entry_from_payload
from conversations.registry import Anyone, Flow, prompt_for, registry_of, stale
from conversations.safety.urgent_help import is_crisis_here
from conversations.steps import Step
from storage.directory import office_by_id
from storage.repositories.people import PersonTransaction
from storage.repositories.person_draft import Draft
from storage.repositories.updates import mark_processed, record_event


def notice_text(update: Update, context: Context) -> str:
    """The notice with the operator's two policy lines; a line left empty (tests, never a
    real run: `firststep run` refuses it) is left out, not shown as a bare bullet."""
    settings = context.services.settings
    notice = _(web_texts.NOTICE_WEB) if by_web(update) else _(texts.NOTICE)
    text = notice.format(
        work_coach_policy=settings.work_coach_policy.strip(),
        safeguarding_policy=settings.safeguarding_policy.strip(),
    )
    return "\n".join(line for line in text.splitlines() if line.strip() != "•")


def welcome(update: Update, context: Context) -> Outcome:
    """Someone we don't know yet: the privacy notice, before anything is kept.

    If they wrote something first, it is not kept: they are told so, and Continue will
    ask them to send it again.
    """
    message = update.message
    if message is not None and is_crisis_here(update, context):
        # (The urgent-help reply went first, as its own message.)
        return Outcome.say(
            together(
                _(texts.CRISIS_NOT_SAVED), Reply(notice_text(update, context), keyboards.notice())
            )
        )
    if message is not None and message.text is not None and not message.text.startswith("/"):
        return Outcome.say(
            together(
                _(texts.NOTICE_FIRST),
                Reply(notice_text(update, context), keyboards.notice(resend=True)),
            )
        )
    return Outcome.say(
        together(_(texts.WELCOME), Reply(notice_text(update, context), keyboards.notice()))
    )


async def start(update: Update, context: Context, tx: PersonTransaction) -> Outcome:
    """/start, with an optional poster payload."""
    payload = context.args[0] if context.args else ""
    entry = entry_from_payload(payload)
    office_id = entry.office_id if entry is not None else None
    if entry is not None:
        await record_event(tx.connection, entry.event, tx.now, entry.office_id)
    person = tx.person
    if person is None:
        event("start.new")
        return Outcome.say(
            together(
                _(texts.WELCOME), Reply(notice_text(update, context), keyboards.notice(office_id))
            )
        )
    draft = person.draft
    replies = [Reply(_(texts.WELCOME_BACK))]
    if office_id is not None:
        draft = draft.with_office(office_id)
        replies.append(Reply(_(texts.OFFICE_PRESELECTED).format(office=office_name(office_id))))
    await tx.move(Step.MENU, draft=draft)
    event("start.returning")
    return Outcome.say(*replies, *menu_replies())


def office_name(office_id: str) -> str:
    office = office_by_id(office_id)
    return office.name if office is not None else office_id


async def on_notice_button(
    update: Update, context: Context, tx: PersonTransaction, button: Button | None
) -> Outcome:
    """Continue / Tell me more / Not now (`callbacks.Notice`)."""
    if not isinstance(button, Notice):
        return Outcome.toast_only(_(texts.UNKNOWN_BUTTON))
    office = office_by_id(button.office) if button.office else None
    office_id = office.office_id if office is not None else None
    settings = context.services.settings
    if button.action == NoticeAction.MORE:
        more = (_(web_texts.NOTICE_MORE_WEB) if by_web(update) else _(texts.NOTICE_MORE)).format(
            inactive_days=settings.retention_inactive_days,
            after_close_days=settings.retention_after_close_days,
            idle_days=settings.chat_idle_close_days,
            backup_days=settings.backup_erasure_days,
            main_backup_days=settings.backup_main_days,
            draft_delay=notices.describe_delay(settings.request_draft_max_hours * 60),
        )
        return Outcome.say(Reply(more, keyboards.notice(office_id, resend=button.resend)))
    if tx.person is not None:
        # A second tap, or an old notice: they are already in. Nothing new is made.
        return stale(context, tx.person)
    if button.action == NoticeAction.NO:
        event("notice.declined")
        return Outcome.say(_(texts.NOTICE_DECLINED))
    step = Step.DISCLOSE_OWN_WORDS if button.resend else Step.MENU
    await tx.register(state=step, chat_id=chat_id_of(update), draft=Draft(office=office_id))
    # Recorded with the registration, so a redelivered Continue is seen as handled.
    await mark_processed(tx.connection, update.update_id, tx.now)
    await record_event(tx.connection, "notice_accepted", tx.now)
    event("notice.accepted")
    replies = [Reply(_(texts.NOTICE_ACCEPTED))]
    if office is not None:
        replies.append(Reply(_(texts.OFFICE_PRESELECTED).format(office=office.name)))
    if button.resend:
        return Outcome.say(together(*replies, Reply(_(texts.RESEND_NOW), own_words_keyboard())))
    return accepted_under_notice(update, together(*replies, *menu_replies(in_place=False)))


def accepted_under_notice(update: Update, accepted: Reply) -> Outcome:
    """ "Thank you" and the menu, written under the notice the person just accepted (one
    edit): the notice stays word for word, readable later, and the menu's choices stay
    on it (a menu choice is never out of date). A notice too old to edit: the menu comes
    as a new message."""
    query = update.callback_query
    shown = query.message if query is not None else None
    menu = accepted.markup if isinstance(accepted.markup, InlineKeyboardMarkup) else None
    if isinstance(shown, Message) and shown.text:
        return Outcome(pressed=Rewrite(f"{shown.text}\n\n{accepted.text}", menu))
    return Outcome.say(accepted)


async def show_menu(update: Update, context: Context, tx: PersonTransaction) -> Outcome:
    """/menu and the Menu button: back to the main choices from anywhere."""
    assert tx.person is not None
    if tx.person.state != Step.MENU:
        await tx.move(Step.MENU)
    return Outcome.say(*menu_replies())


async def show_help(update: Update, context: Context, tx: PersonTransaction) -> Outcome:
    text = _(web_texts.HELP_WEB) if by_web(update) else _(texts.HELP)
    return Outcome.say(Reply(text, keyboards.help_keyboard()))


async def help_now(update: Update, context: Context, tx: PersonTransaction) -> Outcome:
    return Outcome.say(Reply(_(texts.CRISIS), keyboards.back_to_menu()))


async def cancel(update: Update, context: Context, tx: PersonTransaction) -> Outcome:
    """Stop the current step, drop its unsaved answers, and go back to the menu."""
    assert tx.person is not None
    await tx.move(Step.MENU, draft=tx.person.draft.office_only())
    return Outcome.say(_(texts.CANCELLED), *menu_replies())


async def not_understood(update: Update, context: Context, tx: PersonTransaction) -> Outcome:
    """Free text at a step that expects a button."""
    assert tx.person is not None
    if tx.person.state == Step.MENU:
        # Most likely they want to tell us something: show them where that goes.
        return Outcome.say(_(texts.MENU_TYPED), *menu_replies())
    return Outcome.say(_(texts.NOT_UNDERSTOOD), *prompt_for(context, tx.person))


async def unknown_command(update: Update, context: Context, tx: PersonTransaction) -> Outcome:
    """A /command no flow knows (a typo, or an old one)."""
    return Outcome.say(_(texts.UNKNOWN_COMMAND), *menu_replies())


async def on_menu_button(
    update: Update, context: Context, tx: PersonTransaction, button: Button | None
) -> Outcome:
    """A main-menu button (`callbacks.Menu`): the same entry as its command. It replaces
    the message it is on when that is only a way on (`Menu.in_place`: the menu, a
    question); any other message stays as it is, buttons and all. Urgent help always
    comes as a new message, so it notifies."""
    if not isinstance(button, Menu):
        return Outcome.toast_only(_(texts.UNKNOWN_BUTTON))
    if button.choice == MenuChoice.SHOW:
        outcome = await show_menu(update, context, tx)
    elif button.choice == MenuChoice.HELP_NOW:
        outcome = await help_now(update, context, tx)
    else:
        entry = registry_of(context).entry(button.choice)
        if entry is None:
            return Outcome.toast_only(_(texts.UNKNOWN_BUTTON))
        outcome = await entry(update, context, tx)
    in_place = button.in_place and button.choice != MenuChoice.HELP_NOW
    return outcome.with_pressed(REPLACE if in_place else KEEP)


FLOW = Flow(
    name="start",
    commands={
        "start": Anyone(start),
        "menu": show_menu,
        "help": Anyone(show_help),
        "cancel": cancel,
    },
    buttons={Family.NOTICE: Anyone(on_notice_button), Family.MENU: on_menu_button},
    prompts={Step.MENU: lambda person: menu_replies()},
    welcome=welcome,
    not_understood=not_understood,
    unknown_command=unknown_command,
)
