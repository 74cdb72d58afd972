"""A mentor's card that is being sent at the very moment the person withdraws or does
/forget reaches the mentor after the request ended. It must not keep a live Accept
button there: once it is out, the delivery worker edits it like every other card.

The emulator holds Sam's card in flight (a slow sendMessage) while the person ends the
request, so the end always commits between the worker's check and the send."""

from __future__ import annotations

import asyncio

import pytest
from sqlalchemy import select

from conversations import texts
from tests.support.handoff import join_as_mentor, request_mentor, services_of
from tests.support.harness import Harness
from tests.support.tables import OUTBOX

OFFICE = "portsmouth-arundel-street"
SAM, JO = 8_800_970_001, 8_800_970_002
ALEX = 7_700_970_001
SLOW_SEND = 2.0


def cards_for(harness: Harness, mentor: int, ref: str) -> list[tuple[str, bool]]:
    """(text, has buttons) of every message on the mentor's screen about this request."""
    return [
        (message.text or "", bool(message.reply_markup))
        for message in harness.emu.chat(mentor)
        if ref in (message.text or "")
    ]


async def end_request(harness: Harness, how: str, ref: str) -> None:
    if how == "withdraw":
        await harness.press(ALEX, texts.BTN_WITHDRAW)
        assert texts.MENTOR_WITHDRAWN.format(ref=ref) in harness.texts(ALEX)
    else:
        await harness.send(ALEX, "/forget")
        await harness.press(ALEX, texts.BTN_FORGET_YES)
        assert await harness.record(ALEX) is None


@pytest.mark.parametrize("how", ["withdraw", "forget"])
async def test_a_card_sent_while_the_request_ends_loses_its_accept_button(
    harness: Harness, how: str
) -> None:
    await join_as_mentor(harness, SAM, "Sam", office_id=OFFICE)
    await join_as_mentor(harness, JO, "Jo", office_id=OFFICE)
    ref = await request_mentor(harness, ALEX, OFFICE)

    slow = harness.emu.inject_fault("sendMessage", status=None, delay=SLOW_SEND, chat_id=SAM)
    delivering = asyncio.create_task(harness.deliver())
    await harness.emu.wait_for(lambda: slow.hits == 1, 5.0, message="Sam's card in flight")
    await end_request(harness, how, ref)
    # The race really happened: the request ended while Sam's card was still on its way.
    assert cards_for(harness, SAM, ref) == []
    assert not delivering.done()
    await delivering
    assert len(cards_for(harness, SAM, ref)) == 1  # it went out after the request ended

    # An edit that found its card still in flight waits for it; a moment later it goes.
    harness.clock.advance(seconds=5)
    await harness.deliver()
    withdrawn = texts.CARD_WITHDRAWN.format(ref=ref)
    assert cards_for(harness, SAM, ref) == [(withdrawn, False)]
    assert cards_for(harness, JO, ref) == [(withdrawn, False)]

    # Nothing is left waiting, and a late tap on Sam's card is answered kindly.
    async with services_of(harness).database.transaction() as connection:
        open_rows = (
            await connection.execute(
                select(OUTBOX.c.kind).where(OUTBOX.c.status.in_(("pending", "inflight")))
            )
        ).all()
    assert open_rows == []
    card = next(m for m in harness.emu.chat(SAM) if ref in (m.text or ""))
    harness.emu.forge_callback(SAM, card.message_id, f"mc:acc:{ref}")
    await harness.settle()
    assert list(harness.emu.callback_answers().values())[-1].text == texts.TOAST_ENDED
