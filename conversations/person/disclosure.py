"""Telling us what's going on: four button questions and an optional message.

Every question can be skipped or answered "prefer not to say". Each answer is saved,
encrypted, as soon as it is given (write-through), and the end shows "✅ Saved" with a
summary. A message in the person's own words that signals a crisis is answered with
urgent help and is not stored.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

from telegram import InlineKeyboardButton, InlineKeyboardMarkup, Update
from telegram.ext import BaseHandler

from conversations import keyboards, texts
from conversations.common import event
from conversations.context import Context
from conversations.flow import FlowFn, Outcome, Reply, buttons, callback_parts, command, stale
from conversations.safety.urgent_help import is_crisis
from conversations.steps import Step
from storage.repositories.people import PersonRecord, PersonTransaction
from storage.repositories.updates import record_event

PREFER_NOT = "prefer_not_to_say"


@dataclass(frozen=True, slots=True)
class Question:
    key: str  # short, goes in callback data
    field: str  # disclosure field name
    step: Step
    prompt: str
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


@lru_cache(maxsize=128)
def question_keyboard(question: Question, ticked: frozenset[str]) -> InlineKeyboardMarkup:
    """Options (ticked ones marked ✓ for multi-choice), then Done/Skip/Prefer not to say.

    Kept once built (a few questions, a few ticks each; PTB's markups cannot be
    changed, so one can be shared): building one costs about as much as sending it.
    """
    option_rows = [
        [
            keyboards.button(
                ("✓ " if code in ticked else "") + texts.OPTION_LABELS[code],
                f"d:{question.key}:{'t' if question.multi else 'pick'}:{code}",
            )
        ]
        for code in question.options
    ]
    tail: list[InlineKeyboardButton] = []
    if question.multi:
        tail.append(keyboards.button(texts.BTN_DONE, f"d:{question.key}:done"))
    tail.append(keyboards.button(texts.BTN_SKIP, f"d:{question.key}:skip"))
    return keyboards.with_menu(
        [
            *option_rows,
            tail,
            [keyboards.button(texts.BTN_PREFER_NOT, f"d:{question.key}:pnts")],
        ]
    )


def own_words_keyboard() -> InlineKeyboardMarkup:
    return keyboards.with_menu([[keyboards.button(texts.BTN_SKIP, "d:own:skip")]])


def ask(question: Question, ticked: frozenset[str] = frozenset()) -> Reply:
    return Reply(question.prompt, question_keyboard(question, ticked))


def prompt_for_step(person: PersonRecord) -> list[Reply]:
    if person.state == Step.DISCLOSE_OWN_WORDS:
        return [Reply(texts.Q_OWN_WORDS, own_words_keyboard())]
    question = BY_STEP[Step(person.state)]
    return [ask(question, frozenset(person.draft.get("ticked", [])))]


def _label(value: str) -> str:
    if value == PREFER_NOT:
        return texts.SUMMARY_PREFER_NOT
    return ", ".join(texts.OPTION_LABELS.get(code, code) for code in value.split(","))


def summary(answers: dict[str, str]) -> str:
    lines = [
        texts.SUMMARY_LINE.format(
            question=texts.QUESTION_NAMES[q.field], answer=_label(answers[q.field])
        )
        for q in QUESTIONS
        if q.field in answers
    ]
    if OWN_WORDS in answers:
        lines.append(
            texts.SUMMARY_LINE.format(question=texts.SUMMARY_OWN_WORDS, answer=answers[OWN_WORDS])
        )
    return "\n".join(lines)


async def begin(update: Update, context: Context, tx: PersonTransaction) -> Outcome:
    """/tell and the menu button: start at the first question."""
    person = tx.person
    assert person is not None
    draft = {key: value for key, value in person.draft.items() if key == "office"}
    await tx.move(QUESTIONS[0].step, draft=draft)
    event("disclose.begin")
    return Outcome.say(texts.DISCLOSE_INTRO, ask(QUESTIONS[0]))


async def _advance(tx: PersonTransaction, question: Question, answer: str | None) -> Outcome:
    """Save this answer (if any) and ask the next question."""
    person = tx.person
    assert person is not None
    draft = {key: value for key, value in person.draft.items() if key == "office"}
    await tx.move(
        question.next_step,
        draft=draft,
        disclosures={question.field: answer} if answer is not None else None,
    )
    if question.next_step == Step.DISCLOSE_OWN_WORDS:
        return Outcome.say(Reply(texts.Q_OWN_WORDS, own_words_keyboard()))
    return Outcome.say(ask(BY_STEP[question.next_step]))


async def _finish(tx: PersonTransaction, own_words: str | None) -> Outcome:
    person = tx.person
    assert person is not None
    draft = {key: value for key, value in person.draft.items() if key == "office"}
    await tx.move(Step.MENU, draft=draft, disclosures={OWN_WORDS: own_words} if own_words else None)
    await record_event(tx.connection, "disclosure_saved", tx.now)
    answers = await tx.disclosures()
    event("disclose.saved")
    next_buttons = keyboards.rows(
        [
            keyboards.button(texts.BTN_SUPPORT, "menu:support"),
            keyboards.button(texts.BTN_MENTOR, "menu:mentor"),
            keyboards.button(texts.BTN_MENU, "menu:show"),
        ]
    )
    if not answers:
        return Outcome.say(Reply(texts.DISCLOSE_NOTHING), Reply(texts.DISCLOSE_NEXT, next_buttons))
    return Outcome.say(
        Reply(texts.DISCLOSE_SAVED.format(summary=summary(answers))),
        Reply(texts.DISCLOSE_NEXT, next_buttons),
    )


async def on_button(update: Update, context: Context, tx: PersonTransaction) -> Outcome:
    """`d:<question>:<action>[:<option>]`, checked against the step the person is on."""
    person = tx.person
    assert person is not None
    parts = callback_parts(update)
    key = parts[1] if len(parts) > 1 else ""
    action = parts[2] if len(parts) > 2 else ""
    if key == "own":
        if person.state != Step.DISCLOSE_OWN_WORDS or action != "skip":
            return stale(person)
        return await _finish(tx, None)
    question = BY_KEY.get(key)
    if question is None or person.state != question.step:
        return stale(person)
    code = parts[3] if len(parts) > 3 else ""
    if action == "skip":
        return await _advance(tx, question, None)
    if action == "pnts":
        return await _advance(tx, question, PREFER_NOT)
    if action == "pick" and not question.multi and code in question.options:
        return await _advance(tx, question, code)
    ticked = frozenset(person.draft.get("ticked", []))
    if action == "t" and question.multi and code in question.options:
        ticked = ticked ^ {code}
        draft = dict(person.draft) | {"ticked": sorted(ticked)}
        await tx.move(question.step, draft=draft)
        return Outcome(pressed_markup=question_keyboard(question, ticked))
    if action == "done" and question.multi:
        if not ticked:
            return Outcome(
                toast=texts.PICK_ONE_FIRST, pressed_markup=question_keyboard(question, ticked)
            )
        ordered = [code for code in question.options if code in ticked]
        return await _advance(tx, question, ",".join(ordered))
    return stale(person)


async def on_own_words(update: Update, context: Context, tx: PersonTransaction) -> Outcome:
    """The optional message. A crisis message got urgent help already and is not stored."""
    message = update.message
    assert message is not None and message.text is not None
    if is_crisis(message.text):
        return Outcome.say(texts.CRISIS_NOT_SAVED, Reply(texts.Q_OWN_WORDS, own_words_keyboard()))
    # Kept exactly as sent: it is theirs, and /mydata shows it back unchanged.
    return await _finish(tx, message.text)


async def on_text_at_question(update: Update, context: Context, tx: PersonTransaction) -> Outcome:
    """Free text while a button question is open: point back to the buttons."""
    person = tx.person
    assert person is not None
    return Outcome(replies=[Reply(texts.USE_BUTTONS), *prompt_for_step(person)])


ENTRY: FlowFn = begin
TEXT_STEPS: dict[Step, FlowFn] = {
    Step.DISCLOSE_OWN_WORDS: on_own_words,
    **{question.step: on_text_at_question for question in QUESTIONS},
}
PROMPTS = {
    Step.DISCLOSE_OWN_WORDS: prompt_for_step,
    **{question.step: prompt_for_step for question in QUESTIONS},
}


def build_disclosure_handlers() -> list[BaseHandler[Update, Context, None]]:
    return [command("tell", begin), buttons("d", on_button)]
