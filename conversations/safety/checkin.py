"""The check-in's two buttons, "I need help now" and "I'm OK", and 🆘 Urgent help.

"I need help now" gives the urgent reply for the kind of danger the check-in was about.
"I'm OK" thanks the person, offers to keep what they wrote if they send it again (it was
not kept: `urgent_help.allow_sending_again`), and re-asks the question of the step they
are on, exactly as it stands: nothing is moved, reset or kept (not even which button
was tapped: only a log line says a check-in was answered). Either way the buttons go, so
a second tap does nothing. 🆘 Urgent help (main menu, /help) gives the urgent reply and
leaves the menu as it was.

The buttons work for anyone at any step, so they are handled in group -1, before the
mentor gate (a mentor waiting for approval gets check-ins too) and before the person
flows, and the update stops here.
"""

from __future__ import annotations

from telegram import Update
from telegram.ext import ApplicationHandlerStop, BaseHandler, CallbackQueryHandler

from conversations import callbacks, keyboards, texts
from conversations.callbacks import Family, Safety, SafetyAction
from conversations.common import event, user_id_of
from conversations.context import Context
from conversations.flow import run_flow
from conversations.i18n import _
from conversations.outcome import KEEP, Outcome, Reply, together
from conversations.registry import prompt_for, registry_of
from conversations.safety.replies import kind_of, urgent_text
from conversations.safety.urgent_help import allow_sending_again, build_crisis_handler
from storage.repositories.mentors import load_mentor
from storage.repositories.people import PersonTransaction

__all__ = ["answer_checkin", "build_safety_handlers"]


async def answer_checkin(update: Update, context: Context, tx: PersonTransaction) -> Outcome:
    """`safe:ok`, `safe:now:<kind>` or `safe:urgent`; reads the person's step, changes
    nothing."""
    query = update.callback_query
    button = callbacks.parse(query.data if query is not None else None)
    if not isinstance(button, Safety):
        return Outcome.toast_only(_(texts.UNKNOWN_BUTTON))
    if button.action is SafetyAction.URGENT:
        event("crisis.urgent_button")
        return Outcome.say(Reply(urgent_text(None), keyboards.back_to_menu()), pressed=KEEP)
    event("crisis.checkin_answered")
    if button.action is SafetyAction.NOW:
        return Outcome.say(urgent_text(kind_of(button)))
    if tx.person is not None:
        allow_sending_again(context)  # what they wrote was not kept: they may send it again
        said = f"{_(texts.CHECKIN_OK)}\n\n{_(texts.CHECKIN_SEND_AGAIN)}"
        return Outcome.say(Reply(said), *prompt_for(context, tx.person))
    thanks = Reply(_(texts.CHECKIN_OK))
    if await load_mentor(tx.connection, context.services.ring, user_id_of(update)) is not None:
        return Outcome.say(thanks)  # a mentor: no privacy notice for them
    # Someone we don't know yet: the welcome and the notice, under the thanks.
    welcome = registry_of(context).welcome(update, context)
    return Outcome.say(together(thanks, *welcome.replies))


async def _on_safety_button(update: Update, context: Context) -> None:
    await run_flow(update, context, answer_checkin, needs_person=False)
    raise ApplicationHandlerStop


def build_safety_handlers() -> list[BaseHandler[Update, Context, None]]:
    """Group -1: the crisis check on free text (the update goes on), and the check-in's
    buttons and 🆘 Urgent help (the update stops here)."""
    return [
        build_crisis_handler(),
        CallbackQueryHandler(_on_safety_button, pattern=rf"^{Family.SAFETY.value}:"),
    ]
