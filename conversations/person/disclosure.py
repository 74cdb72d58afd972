"""Telling us what's going on: four button questions and an optional message.

Every question can be skipped or answered "prefer not to say". Each answer is saved,
encrypted, as soon as it is given (write-through), and the end shows "✅ Saved" with a
summary. A message in the person's own words that signals a crisis is answered with
urgent help and is not stored.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

from telegram import InlineKeyboardButton, InlineKeyboardMarkup, Update

from conversations import keyboards, texts
from conversations.callbacks import (
    Answer,
    AnswerAction,
    Button,
    Family,
    Menu,
    MenuChoice,
    SkipOwnWords,
)
from conversations.common import event
from conversations.context import Context
from conversations.i18n import _, by_language, join_labels
from conversations.outcome import REPLACE, NewButtons, Outcome, Reply, together
from conversations.registry import Flow, stale
from conversations.safety.urgent_help import is_crisis_here
from conversations.steps import Step
from storage.repositories.people import PersonRecord, PersonTransaction
from storage.repositories.updates import record_event

PREFER_NOT = "prefer_not_to_say"


@dataclass(frozen=True, slots=True)
class Question:
    key: str  # short, goes in the buttons' data
    field: str  # disclosure field name
    step: Step
    prompt: str  # a msgid of texts.py, said through _() when asked
    options: tuple[str, ...]
    multi: bool
    next_step: Step


QUESTIONS: tuple[Question, ...] = (
    Question(
        "sub",
        "substances",
        Step.DISCLOSE_SUBSTANCES,
        texts.Q_SUBSTANCES,
        ("alcohol", "opioids", "crack_cocaine", "cannabis", "prescription", "other"),
        True,
        Step.DISCLOSE_DURATION,
    ),
    Question(
        "dur",
        "duration",
        Step.DISCLOSE_DURATION,
        texts.Q_DURATION,
        ("under_1y", "1_to_5y", "over_5y"),
        False,
        Step.DISCLOSE_SUPPORT,
    ),
    Question(
        "sup",
        "support",
        Step.DISCLOSE_SUPPORT,
        texts.Q_SUPPORT,
        ("treatment_service", "gp", "mutual_aid", "none"),
        True,
        Step.DISCLOSE_NEEDS,
    ),
    Question(
        "need",
        "needs",
        Step.DISCLOSE_NEEDS,
        texts.Q_NEEDS,
        ("peer_mentor", "treatment", "work", "information"),
        True,
        Step.DISCLOSE_OWN_WORDS,
    ),
)
BY_KEY = {question.key: question for question in QUESTIONS}
BY_STEP = {question.step: question for question in QUESTIONS}
OWN_WORDS = "own_words"


@by_language(maxsize=128)
def question_keyboard(question: Question, ticked: frozenset[str]) -> InlineKeyboardMarkup:
    """Options (ticked ones marked ✓ for multi-choice), then Done/Skip/Prefer not to say.

    Kept once built (a few questions, a few ticks each; PTB's markups cannot be
    changed, so one can be shared): building one costs about as much as sending it.
    """
    choose = AnswerAction.TICK if question.multi else AnswerAction.PICK
    option_rows = [
        [
            keyboards.button(
                _(texts.OPTION_TICKED).format(label=_(texts.OPTION_LABELS[code]))
                if code in ticked
                else _(texts.OPTION_LABELS[code]),
                Answer(question.key, choose, code),
            )
        ]
        for code in question.options
    ]
    tail: list[InlineKeyboardButton] = []
    if question.multi:
        tail.append(keyboards.button(_(texts.BTN_DONE), Answer(question.key, AnswerAction.DONE)))
    tail.append(keyboards.button(_(texts.BTN_SKIP), Answer(question.key, AnswerAction.SKIP)))
    prefer_not = Answer(question.key, AnswerAction.PREFER_NOT)
    return keyboards.with_menu(
        [*option_rows, tail, [keyboards.button(_(texts.BTN_PREFER_NOT), prefer_not)]]
    )


def own_words_keyboard() -> InlineKeyboardMarkup:
    return keyboards.with_menu([[keyboards.button(_(texts.BTN_SKIP), SkipOwnWords())]])


def ask(question: Question, ticked: frozenset[str] = frozenset()) -> Reply:
    return Reply(_(question.prompt), question_keyboard(question, ticked))


def prompt_for_step(person: PersonRecord) -> list[Reply]:
    if person.state == Step.DISCLOSE_OWN_WORDS:
        return [Reply(_(texts.Q_OWN_WORDS), own_words_keyboard())]
    question = BY_STEP[Step(person.state)]
    return [ask(question, frozenset(person.draft.ticked))]


def _label(value: str) -> str:
    if value == PREFER_NOT:
        return _(texts.SUMMARY_PREFER_NOT)
    return join_labels([_(texts.OPTION_LABELS.get(code, code)) for code in value.split(",")])


def summary(answers: dict[str, str]) -> str:
    lines = [
        _(texts.SUMMARY_LINE).format(
            question=_(texts.QUESTION_NAMES[q.field]), answer=_label(answers[q.field])
        )
        for q in QUESTIONS
        if q.field in answers
    ]
    if OWN_WORDS in answers:
        lines.append(
            _(texts.SUMMARY_LINE).format(
                question=_(texts.SUMMARY_OWN_WORDS), answer=answers[OWN_WORDS]
            )
        )
    return "\n".join(lines)


async def begin(update: Update, context: Context, tx: PersonTransaction) -> Outcome:
    """/tell and the menu button: start at the first question."""
    person = tx.person
    assert person is not None
    await tx.move(QUESTIONS[0].step, draft=person.draft.office_only())
    event("disclose.begin")
    return Outcome.say(together(_(texts.DISCLOSE_INTRO), ask(QUESTIONS[0])))


async def _advance(tx: PersonTransaction, question: Question, answer: str | None) -> Outcome:
    """Save this answer (if any) and ask the next question, in place of this one."""
    person = tx.person
    assert person is not None
    await tx.move(
        question.next_step,
        draft=person.draft.office_only(),
        disclosures={question.field: answer} if answer is not None else None,
    )
    if question.next_step == Step.DISCLOSE_OWN_WORDS:
        return Outcome.say(Reply(_(texts.Q_OWN_WORDS), own_words_keyboard()), pressed=REPLACE)
    return Outcome.say(ask(BY_STEP[question.next_step]), pressed=REPLACE)


async def _finish(tx: PersonTransaction, own_words: str | None) -> Outcome:
    person = tx.person
    assert person is not None
    await tx.move(
        Step.MENU,
        draft=person.draft.office_only(),
        disclosures={OWN_WORDS: own_words} if own_words else None,
    )
    await record_event(tx.connection, "disclosure_saved", tx.now)
    answers = await tx.disclosures()
    event("disclose.saved")
    # What they told us is one message with the ways on under it: it stays (they may
    # read it again), and so do its buttons (menu choices are never out of date).
    next_buttons = keyboards.rows(
        [
            keyboards.button(_(texts.BTN_SUPPORT), Menu(MenuChoice.SUPPORT)),
            keyboards.button(_(texts.BTN_MENTOR), Menu(MenuChoice.MENTOR)),
            keyboards.button(_(texts.BTN_MENU), keyboards.SHOW_MENU),
        ]
    )
    said = (
        _(texts.DISCLOSE_SAVED).format(summary=summary(answers))
        if answers
        else _(texts.DISCLOSE_NOTHING)
    )
    return Outcome.say(together(said, Reply(_(texts.DISCLOSE_NEXT), next_buttons)))


async def on_button(
    update: Update, context: Context, tx: PersonTransaction, button: Button | None
) -> Outcome:
    """A question's button (`callbacks.Answer`, `callbacks.SkipOwnWords`), checked
    against the step the person is on."""
    person = tx.person
    assert person is not None
    if isinstance(button, SkipOwnWords):
        if person.state != Step.DISCLOSE_OWN_WORDS:
            return stale(context, person)
        return (await _finish(tx, None)).with_pressed(REPLACE)
    question = BY_KEY.get(button.question) if isinstance(button, Answer) else None
    if not isinstance(button, Answer) or question is None or person.state != question.step:
        return stale(context, person)
    code = button.option
    if button.action == AnswerAction.SKIP:
        return await _advance(tx, question, None)
    if button.action == AnswerAction.PREFER_NOT:
        return await _advance(tx, question, PREFER_NOT)
    if button.action == AnswerAction.PICK and not question.multi and code in question.options:
        return await _advance(tx, question, code)
    ticked = frozenset(person.draft.ticked)
    if button.action == AnswerAction.TICK and question.multi and code in question.options:
        ticked = ticked ^ {code}
        await tx.move(question.step, draft=replace(person.draft, ticked=tuple(sorted(ticked))))
        return Outcome(pressed=NewButtons(question_keyboard(question, ticked)))
    if button.action == AnswerAction.DONE and question.multi:
        if not ticked:
            return Outcome(
                toast=_(texts.PICK_ONE_FIRST),
                pressed=NewButtons(question_keyboard(question, ticked)),
            )
        ordered = [code for code in question.options if code in ticked]
        return await _advance(tx, question, ",".join(ordered))
    return stale(context, person)


async def on_own_words(update: Update, context: Context, tx: PersonTransaction) -> Outcome:
    """The optional message. A crisis message got urgent help already and is not stored."""
    message = update.message
    assert message is not None and message.text is not None
    if is_crisis_here(update, context):
        return Outcome.say(
            _(texts.CRISIS_NOT_SAVED), Reply(_(texts.Q_OWN_WORDS), own_words_keyboard())
        )
    # Kept exactly as sent: it is theirs, and /mydata shows it back unchanged.
    return await _finish(tx, message.text)


async def on_text_at_question(update: Update, context: Context, tx: PersonTransaction) -> Outcome:
    """Free text while a button question is open: point back to the buttons."""
    person = tx.person
    assert person is not None
    return Outcome.say(_(texts.USE_BUTTONS), *prompt_for_step(person))


FLOW = Flow(
    name="disclosure",
    commands={"tell": begin},
    buttons={Family.DISCLOSE: on_button},
    menu={MenuChoice.TELL: begin},
    prompts={
        Step.DISCLOSE_OWN_WORDS: prompt_for_step,
        **{question.step: prompt_for_step for question in QUESTIONS},
    },
    text_steps={
        Step.DISCLOSE_OWN_WORDS: on_own_words,
        **{question.step: on_text_at_question for question in QUESTIONS},
    },
)
