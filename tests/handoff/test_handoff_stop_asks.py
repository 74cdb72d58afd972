"""Issue 13 item 2: "Stop my request" once a mentor has taken the request asks first
(it would end a live chat), never says "Nobody will contact you"; ending a live chat
always asks first; and buttons left on earlier messages answer kindly once the request
moved on."""

from __future__ import annotations

from sqlalchemy import select

from conversations import texts
from conversations.steps import Step
from storage.repositories.outbox import Kind
from tests.support.handoff import close_chat, drain, join_as_mentor, request_mentor, services_of
from tests.support.harness import Harness
from tests.support.tables import REFERRALS

OFFICE = "portsmouth-arundel-street"
SAM = 8_801_500_001
ALEX = 7_701_500_001


async def status_of(harness: Harness, ref: str) -> str:
    async with services_of(harness).database.transaction() as connection:
        found = await connection.execute(
            select(REFERRALS.c.status).where(REFERRALS.c.public_ref == ref)
        )
        return str(found.scalar_one())


def last_answer(harness: Harness) -> str | None:
    return list(harness.emu.callback_answers().values())[-1].text


async def test_stop_my_request_after_a_mentor_took_it_asks_first(harness: Harness) -> None:
    await join_as_mentor(harness, SAM, "Sam", office_id=OFFICE)
    ref = await request_mentor(harness, ALEX, OFFICE)
    waiting = harness.emu.last_bot_message(ALEX)
    assert waiting is not None and texts.BTN_WITHDRAW in waiting.button_texts
    await drain(harness)
    await harness.press(SAM, texts.BTN_ACCEPT)
    await drain(harness)
    mentor_saw = list(harness.texts(SAM))

    # The old "Stop my request" under the waiting message: the chat is live now.
    await harness.press(ALEX, texts.BTN_WITHDRAW)
    assert await status_of(harness, ref) == "accepted"
    assert texts.MENTOR_WITHDRAWN.format(ref=ref) not in harness.all_text(ALEX)
    assert harness.last_text(ALEX) == texts.WITHDRAW_TAKEN_ASK.format(name="Sam", ref=ref)
    assert harness.emu.button_texts(ALEX) == [texts.BTN_END_YES, texts.BTN_END_NO]
    assert await harness.state(ALEX) == Step.WITH_MENTOR
    assert (await drain(harness)).sent == []
    assert harness.texts(SAM) == mentor_saw  # Sam was told nothing

    await harness.press(ALEX, texts.BTN_END_NO)
    assert await status_of(harness, ref) == "accepted"
    await harness.send(ALEX, "still here")
    await drain(harness)
    assert harness.last_text(SAM) == f"{ref}: still here"

    # Saying yes ends it, and only then is Sam told.
    await harness.press(ALEX, texts.BTN_END_CHAT)
    assert harness.last_text(ALEX) == texts.END_CHAT_ASK.format(name="Sam")
    await harness.press(ALEX, texts.BTN_END_YES)
    assert await status_of(harness, ref) == "closed"
    assert (await drain(harness)).sent == [(Kind.MENTOR_NOTICE, SAM)]


async def test_buttons_on_earlier_messages_answer_kindly_once_the_chat_ended(
    harness: Harness,
) -> None:
    await join_as_mentor(harness, SAM, "Sam", office_id=OFFICE)
    ref = await request_mentor(harness, ALEX, OFFICE)
    waiting = harness.emu.last_bot_message(ALEX)
    assert waiting is not None
    await drain(harness)
    await harness.press(SAM, texts.BTN_ACCEPT)
    await drain(harness)
    accepted = harness.emu.last_bot_message(ALEX)
    assert accepted is not None and texts.BTN_END_CHAT in accepted.button_texts
    await close_chat(harness, SAM, ref)
    await drain(harness)
    await harness.press(ALEX, texts.BTN_SKIP)  # the feedback question
    shown = len(harness.texts(ALEX))

    # "Stop my request" on the waiting message, "End the chat" under the good news:
    # each says the request has ended, nothing changes, nobody is told.
    for message_id, data in (
        (waiting.message_id, f"mr:wd:{ref}"),
        (accepted.message_id, "mr:end"),
        (accepted.message_id, f"mr:endyes:{ref}"),
    ):
        harness.emu.forge_callback(ALEX, message_id, data)
        await harness.settle()
    said = harness.texts(ALEX)[shown:]
    assert said, "the old buttons were not answered"
    assert set(said) <= {texts.MENTOR_ALREADY_ENDED, texts.RELAY_ENDED, texts.MENU}, said
    assert texts.MENTOR_WITHDRAWN.format(ref=ref) not in harness.all_text(ALEX)
    assert await status_of(harness, ref) == "closed"
    assert (await drain(harness)).sent == []
