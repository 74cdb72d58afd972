"""Two short questions after a chat with a mentor ends: did it help, and what next.

Both are optional buttons. An answer is stored once, on the person's own most recent
closed referral (`callbacks.Feedback`): the buttons carry no reference, so there is
nothing to forge. Only the answer codes are kept, never who gave them beyond
the referral row that erasure unlinks.
"""

from __future__ import annotations

from telegram import InlineKeyboardMarkup, Update

from conversations import keyboards, texts
from conversations.callbacks import Button, Family, Feedback, FeedbackQuestion
from conversations.common import event
from conversations.context import Context
from conversations.i18n import _
from conversations.menu import menu_replies
from conversations.outcome import Outcome, Reply
from conversations.registry import Flow
from conversations.steps import Step
from storage.repositories import referrals
from storage.repositories.people import PersonTransaction
from storage.repositories.updates import record_event

HELPED = tuple(texts.FEEDBACK_HELPED_LABELS)
NEXT = tuple(texts.FEEDBACK_NEXT_LABELS)
SKIP = "skip"
# How each question is named where its answer is kept (referrals, events).
STORED_AS = {FeedbackQuestion.HELPED: "helped", FeedbackQuestion.NEXT: "next"}


def helped_keyboard() -> InlineKeyboardMarkup:
    return keyboards.with_menu(
        [
            [
                keyboards.button(
                    _(texts.FEEDBACK_HELPED_LABELS[code]), Feedback(FeedbackQuestion.HELPED, code)
                )
                for code in HELPED
            ],
            [keyboards.button(_(texts.BTN_SKIP), Feedback(FeedbackQuestion.HELPED, SKIP))],
        ]
    )


def next_keyboard() -> InlineKeyboardMarkup:
    return keyboards.with_menu(
        [
            *[
                [
                    keyboards.button(
                        _(texts.FEEDBACK_NEXT_LABELS[code]), Feedback(FeedbackQuestion.NEXT, code)
                    )
                ]
                for code in NEXT
            ],
            [keyboards.button(_(texts.BTN_SKIP), Feedback(FeedbackQuestion.NEXT, SKIP))],
        ]
    )


def helped_question() -> Reply:
    return Reply(_(texts.FEEDBACK_HELPED), helped_keyboard())


def next_question() -> Reply:
    return Reply(_(texts.FEEDBACK_NEXT), next_keyboard())


async def on_button(
    update: Update, context: Context, tx: PersonTransaction, button: Button | None
) -> Outcome:
    """Did it help, then what next (`callbacks.Feedback`); "skip" moves on without
    storing anything."""
    person = tx.person
    assert person is not None
    if not isinstance(button, Feedback):
        return Outcome(toast=_(texts.UNKNOWN_BUTTON))
    code = button.code
    allowed = HELPED if button.question == FeedbackQuestion.HELPED else NEXT
    if code != SKIP and code not in allowed:
        return Outcome(toast=_(texts.UNKNOWN_BUTTON))
    question = STORED_AS[button.question]
    referral = await referrals.latest_closed_for_person(tx.connection, person.id)
    if referral is None:
        return Outcome.say(_(texts.FEEDBACK_ALREADY), *menu_replies())
    if code != SKIP:
        saved = await referrals.save_feedback(tx.connection, referral, person.id, question, code)
        if not saved:
            return Outcome.say(_(texts.FEEDBACK_ALREADY), *menu_replies())
        await record_event(tx.connection, f"feedback_{question}_{code}", tx.now, referral.office_id)
        event("feedback.saved", question=question)
    if button.question == FeedbackQuestion.HELPED:
        await tx.move(Step.FEEDBACK_NEXT)
        return Outcome.say(next_question())
    await tx.move(Step.MENU)
    return Outcome.say(_(texts.FEEDBACK_THANKS), *menu_replies())


FLOW = Flow(
    name="feedback",
    buttons={Family.FEEDBACK: on_button},
    prompts={
        Step.FEEDBACK_HELPED: lambda person: [helped_question()],
        Step.FEEDBACK_NEXT: lambda person: [next_question()],
    },
)
