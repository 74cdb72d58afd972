"""The check-in's two buttons, "I need help now" and "I'm OK", and 🆘 Urgent help.

"I need help now" gives the urgent reply for the kind of danger the check-in was about.
"I'm OK" thanks the person and re-asks the question of the step they are on, exactly
as it stands: nothing is moved, reset or kept (not even which button was tapped: only a
log line says a check-in was answered). Either way the buttons go, so a second tap does
nothing.

🆘 Urgent help (main menu, /help) gives the urgent reply and leaves the menu as it was.

The buttons work for anyone at any step, so they are handled in group -1, before the
mentor gate (a mentor waiting for approval gets check-ins too) and before the person
flows, and the update stops here.
"""

from __future__ import annotations

from telegram import Update
from telegram.ext import ApplicationHandlerStop, BaseHandler, CallbackQueryHandler

from conversations import keyboards, texts
from conversations.common import event, user_id_of
from conversations.context import Context
from conversations.flow import KEEP, Outcome, Reply, notice_outcome, prompt_for, run_flow
from conversations.safety.replies import CHECKIN_PREFIX, parse_checkin, urgent_text
from conversations.safety.urgent_help import build_crisis_handler
from storage.repositories.mentors import load_mentor
from storage.repositories.people import PersonTransaction

__all__ = ["answer_checkin", "build_safety_handlers"]


async def answer_checkin(update: Update, context: Context, tx: PersonTransaction) -> Outcome:
    """`safe:ok` or `safe:now:<kind>`; reads the person's step, changes nothing."""
    query = update.callback_query
    parsed = parse_checkin(query.data if query is not None else None)
    if parsed is None:
        return Outcome(toast=texts.UNKNOWN_BUTTON, pressed_markup=None)
    answer, kind = parsed
    if answer == "urgent":
        event("crisis.urgent_button")
        return Outcome(
            replies=[Reply(urgent_text(None), keyboards.back_to_menu())], pressed_markup=KEEP
        )
    event("crisis.checkin_answered")
    if answer == "now":
        return Outcome(replies=[Reply(urgent_text(kind))], pressed_markup=None)
    thanks = Reply(texts.CHECKIN_OK)
    if tx.person is not None:
        return Outcome(replies=[thanks, *prompt_for(tx.person)], pressed_markup=None)
    mentor = await load_mentor(tx.connection, context.services.ring, user_id_of(update))
    if mentor is not None:
        return Outcome(replies=[thanks], pressed_markup=None)  # a mentor: no notice for them
    notice = notice_outcome(update, context)
    return Outcome(replies=[thanks, *notice.replies[1:]], pressed_markup=None)


async def _on_checkin_button(update: Update, context: Context) -> None:
    await run_flow(update, context, answer_checkin, needs_person=False)
    raise ApplicationHandlerStop


def build_safety_handlers() -> list[BaseHandler[Update, Context, None]]:
    """Group -1: the crisis check on free text (the update goes on), and the check-in's
    buttons (the update stops here)."""
    return [
        build_crisis_handler(),
        CallbackQueryHandler(_on_checkin_button, pattern=rf"^{CHECKIN_PREFIX}:"),
    ]
