"""Two short questions after a chat with a mentor ends: did it help, and what next.

Both are optional buttons. An answer is stored once, on the person's own most recent
closed referral (`fb:h:<answer>`, `fb:n:<answer>`): the buttons carry no reference, so
there is nothing to forge. Only the answer codes are kept, never who gave them beyond
the referral row that erasure unlinks.
"""

from __future__ import annotations

from telegram import InlineKeyboardMarkup, Update
from telegram.ext import BaseHandler

from conversations import keyboards, texts
from conversations.common import event
from conversations.context import Context
from conversations.flow import Outcome, Reply, buttons, callback_parts, menu_replies
from conversations.steps import Step
from storage.repositories import referrals
from storage.repositories.people import PersonRecord, PersonTransaction
from storage.repositories.updates import record_event

HELPED = tuple(texts.FEEDBACK_HELPED_LABELS)
NEXT = tuple(texts.FEEDBACK_NEXT_LABELS)


def helped_keyboard() -> InlineKeyboardMarkup:
    return keyboards.with_menu(
        [
            [
                keyboards.button(texts.FEEDBACK_HELPED_LABELS[code], f"fb:h:{code}")
                for code in HELPED
            ],
            [keyboards.button(texts.BTN_SKIP, "fb:h:skip")],
        ]
    )


def next_keyboard() -> InlineKeyboardMarkup:
    return keyboards.with_menu(
        [
            *[
                [keyboards.button(texts.FEEDBACK_NEXT_LABELS[code], f"fb:n:{code}")]
                for code in NEXT
            ],
            [keyboards.button(texts.BTN_SKIP, "fb:n:skip")],
        ]
    )


def helped_question() -> Reply:
    return Reply(texts.FEEDBACK_HELPED, helped_keyboard())


def next_question() -> Reply:
    return Reply(texts.FEEDBACK_NEXT, next_keyboard())


async def on_button(update: Update, context: Context, tx: PersonTransaction) -> Outcome:
    """`fb:h:<code>` then `fb:n:<code>`; "skip" moves on without storing anything."""
    person = tx.person
    assert person is not None
    parts = callback_parts(update)
    question = {"h": "helped", "n": "next"}.get(parts[1] if len(parts) > 1 else "")
    code = parts[2] if len(parts) > 2 else ""
    allowed = HELPED if question == "helped" else NEXT
    if question is None or len(parts) != 3 or (code != "skip" and code not in allowed):
        return Outcome(toast=texts.UNKNOWN_BUTTON)
    referral = await referrals.latest_closed_for_person(tx.connection, person.id)
    if referral is None:
        return Outcome.say(Reply(texts.FEEDBACK_ALREADY), *menu_replies())
    if code != "skip":
        saved = await referrals.save_feedback(tx.connection, referral, person.id, question, code)
        if not saved:
            return Outcome.say(Reply(texts.FEEDBACK_ALREADY), *menu_replies())
        await record_event(tx.connection, f"feedback_{question}_{code}", tx.now, referral.office_id)
        event("feedback.saved", question=question)
    if question == "helped":
        await tx.move(Step.FEEDBACK_NEXT)
        return Outcome.say(next_question())
    await tx.move(Step.MENU)
    return Outcome.say(Reply(texts.FEEDBACK_THANKS), *menu_replies())


def prompt_helped(person: PersonRecord) -> list[Reply]:
    return [helped_question()]


def prompt_next(person: PersonRecord) -> list[Reply]:
    return [next_question()]


PROMPTS = {Step.FEEDBACK_HELPED: prompt_helped, Step.FEEDBACK_NEXT: prompt_next}


def build_feedback_handlers() -> list[BaseHandler[Update, Context, None]]:
    return [buttons("fb", on_button)]
