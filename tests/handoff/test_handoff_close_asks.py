"""Issue 13 item 2, the mentor's side: ending a live chat always asks first. A mentor's
/close asks "Yes, end the chat / No, keep it"; only yes ends it (and only then is the
person told). A second tap, or a tap on a question the chat outlived (the person ended
it, or it was handed back and taken again), closes nothing."""

from __future__ import annotations

from sqlalchemy import select

from conversations import texts
from conversations.steps import Step
from storage.repositories.outbox import Kind
from tests.support.handoff import drain, join_as_mentor, request_mentor, services_of
from tests.support.harness import Harness
from tests.support.tables import REFERRALS

OFFICE = "portsmouth-arundel-street"
SAM = 8_801_800_001
ALEX, BEA = 7_701_800_001, 7_701_800_002


async def status_of(harness: Harness, ref: str) -> tuple[str, int]:
    async with services_of(harness).database.transaction() as connection:
        found = await connection.execute(
            select(REFERRALS.c.status, REFERRALS.c.version).where(REFERRALS.c.public_ref == ref)
        )
        status, version = found.one()
        return str(status), int(version)


def last_answer(harness: Harness) -> str | None:
    return list(harness.emu.callback_answers().values())[-1].text


async def live_chat(harness: Harness, person: int) -> str:
    ref = await request_mentor(harness, person, OFFICE)
    await drain(harness)
    await harness.press(SAM, texts.BTN_ACCEPT)
    await drain(harness)
    return ref


async def asked(harness: Harness, ref: str) -> int:
    """Sam types /close: the question, with its two answers; its message id."""
    await harness.send(SAM, f"/close {ref}")
    question = harness.emu.last_bot_message(SAM)
    assert question is not None
    assert question.text == texts.MENTOR_CLOSE_ASK.format(ref=ref)
    assert question.button_texts == [texts.BTN_CLOSE_YES, texts.BTN_CLOSE_NO]
    return question.message_id


def shown(harness: Harness, message_id: int) -> tuple[str | None, list[str]]:
    (message,) = [m for m in harness.emu.bot_messages(SAM) if m.message_id == message_id]
    return message.text, message.button_texts


async def test_close_asks_first_and_only_yes_ends_the_chat(harness: Harness) -> None:
    await join_as_mentor(harness, SAM, "Sam", office_id=OFFICE)
    ref = await live_chat(harness, ALEX)
    person_saw = list(harness.texts(ALEX))

    question = await asked(harness, ref)
    assert await status_of(harness, ref) == ("accepted", 1)
    assert (await drain(harness)).sent == []
    assert harness.texts(ALEX) == person_saw  # Alex was told nothing yet

    await harness.press(SAM, texts.BTN_CLOSE_NO)
    assert shown(harness, question) == (texts.MENTOR_CLOSE_KEPT.format(ref=ref), [])
    assert await status_of(harness, ref) == ("accepted", 1)
    await harness.send(ALEX, "still here")
    await drain(harness)
    assert harness.last_text(SAM) == f"{ref}: still here"

    question = await asked(harness, ref)
    await harness.press(SAM, texts.BTN_CLOSE_YES)
    assert shown(harness, question) == (texts.MENTOR_CLOSED.format(ref=ref), [])
    assert await status_of(harness, ref) == ("closed", 2)
    assert (await drain(harness)).sent == [(Kind.CLOSED, ALEX)]
    assert await harness.state(ALEX) == Step.FEEDBACK_HELPED

    # The same Yes again (a second tap that raced the first edit): nothing more happens.
    harness.emu.forge_callback(SAM, question, f"mc:end:{ref}:1")
    await harness.settle()
    assert last_answer(harness) == texts.TOAST_CLOSED_ALREADY
    assert shown(harness, question) == (texts.MENTOR_CLOSED.format(ref=ref), [])
    assert await status_of(harness, ref) == ("closed", 2)
    assert (await drain(harness)).sent == []


async def test_a_question_the_chat_outlived_closes_nothing(harness: Harness) -> None:
    await join_as_mentor(harness, SAM, "Sam", office_id=OFFICE)
    ref = await live_chat(harness, BEA)
    question = await asked(harness, ref)

    # Bea ends the chat herself before Sam answers.
    await harness.press(BEA, texts.BTN_END_CHAT)
    await harness.press(BEA, texts.BTN_END_YES)
    assert await status_of(harness, ref) == ("closed", 2)
    await drain(harness)
    bea_saw = list(harness.texts(BEA))

    await harness.press(SAM, texts.BTN_CLOSE_YES)
    assert last_answer(harness) == texts.TOAST_CLOSED_ALREADY
    text, buttons = shown(harness, question)
    assert buttons == [] and text == texts.MENTOR_CLOSE_ASK.format(ref=ref)
    assert (await drain(harness)).sent == []
    assert harness.texts(BEA) == bea_saw  # no second "closed" note, no second question

    # An answer about an earlier version of the chat (handed back and taken again since).
    harness.emu.forge_callback(SAM, question, f"mc:end:{ref}:0")
    await harness.settle()
    assert shown(harness, question) == (texts.MENTOR_CLOSE_STALE, [])
    assert await status_of(harness, ref) == ("closed", 2)

    # /close on a chat that has ended asks nothing.
    await harness.send(SAM, f"/close {ref}")
    assert harness.last_text(SAM) == texts.MENTOR_CHAT_ENDED.format(ref=ref)
    assert harness.emu.button_texts(SAM) == []
