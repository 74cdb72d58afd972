"""Issue 13 item 1: "Sam will call you on the number you shared" is kept. The mentor
who takes a phone-call request is sent the number (protected content) and keeps it
until the chat ends; a handback offers it to the next mentors; when the chat ends
(/close, End the chat, /forget) it is in no table and taken out of the mentor's chat."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select

from conversations import texts
from storage.repositories.outbox import Kind
from tests.support.dbscan import all_rows, cells_containing
from tests.support.handoff import (
    close_chat,
    drain,
    join_as_mentor,
    request_phone_call,
    revoke,
    services_of,
)
from tests.support.harness import Harness
from tests.support.tables import OUTBOX, REFERRALS

OFFICE = "portsmouth-arundel-street"
SAM, JO = 8_801_600_001, 8_801_600_002
ZOE = 7_701_600_001
PHONE = "+447700900456"


def holding_the_number(harness: Harness, chat: int) -> list[Any]:
    return [m for m in harness.emu.bot_messages(chat) if PHONE in (m.text or "")]


async def sealed_copies(harness: Harness, ref: str) -> tuple[bool, int]:
    """(the referral still holds a sealed number, its outbox payloads still held)."""
    async with services_of(harness).database.transaction() as connection:
        referral = (
            await connection.execute(
                select(REFERRALS.c.id, REFERRALS.c.phone_ct).where(REFERRALS.c.public_ref == ref)
            )
        ).one()
        payloads = (
            await connection.execute(
                select(OUTBOX.c.id).where(
                    OUTBOX.c.referral_id == referral.id, OUTBOX.c.payload_ct.is_not(None)
                )
            )
        ).all()
    return referral.phone_ct is not None, len(payloads)


async def accepted_phone_call(harness: Harness) -> str:
    await join_as_mentor(harness, SAM, "Sam", office_id=OFFICE)
    await join_as_mentor(harness, JO, "Jo", office_id=OFFICE)
    ref = await request_phone_call(harness, ZOE, OFFICE, PHONE)
    await drain(harness)
    assert holding_the_number(harness, SAM) and holding_the_number(harness, JO)  # the cards
    await harness.press(SAM, texts.BTN_ACCEPT)
    delivered = await drain(harness)
    assert holding_the_number(harness, SAM), "the number left Sam's chat when Sam took it"
    assert [kind for kind, chat in delivered.sent if chat == SAM] == [Kind.CONTACT]
    told = [t for t in harness.texts(ZOE) if t.startswith("🤝 Good news.")]
    assert told and "will call you on the number you shared" in told[0]
    return ref


async def assert_gone(harness: Harness, ref: str) -> None:
    assert await sealed_copies(harness, ref) == (False, 0)
    assert cells_containing(await all_rows(services_of(harness).database), PHONE) == []
    for mentor in (SAM, JO):
        assert holding_the_number(harness, mentor) == []


async def test_the_mentor_who_takes_a_phone_call_keeps_the_number_until_close(
    harness: Harness,
) -> None:
    ref = await accepted_phone_call(harness)
    (kept,) = holding_the_number(harness, SAM)
    assert kept.protect_content
    assert kept.text == texts.MENTOR_PHONE_YOURS.format(
        ref=ref, phone=PHONE, time=texts.MENTOR_TIME_LABELS["afternoon"]
    )
    assert holding_the_number(harness, JO) == []  # Jo's card says it was taken
    assert await sealed_copies(harness, ref) == (True, 0)  # sealed on the referral only

    # Days of chat later, the number is still there for Sam.
    harness.clock.advance(days=3)
    await harness.send(ZOE, "I missed your call")
    await drain(harness)
    assert holding_the_number(harness, SAM) == [kept]

    await close_chat(harness, SAM, ref)
    await drain(harness)
    assert harness.emu.bot_messages(SAM)[
        [m.message_id for m in harness.emu.bot_messages(SAM)].index(kept.message_id)
    ].text == texts.MENTOR_PHONE_REMOVED.format(ref=ref)
    await assert_gone(harness, ref)


async def test_forget_takes_the_number_from_every_table_and_the_mentors_chat(
    harness: Harness,
) -> None:
    ref = await accepted_phone_call(harness)
    await harness.send(ZOE, "/forget")
    await harness.press(ZOE, texts.BTN_FORGET_YES)
    await drain(harness)
    assert harness.last_text(SAM) == texts.MENTOR_NOTICE_LEFT.format(ref=ref)
    await assert_gone(harness, ref)


async def test_the_person_ending_the_chat_takes_the_number_back(harness: Harness) -> None:
    ref = await accepted_phone_call(harness)
    await harness.press(ZOE, texts.BTN_END_CHAT)
    await harness.press(ZOE, texts.BTN_END_YES)
    await drain(harness)
    await assert_gone(harness, ref)


async def test_a_handback_carries_the_number_to_the_next_mentor(harness: Harness) -> None:
    ref = await accepted_phone_call(harness)
    await revoke(harness, SAM)
    await drain(harness)
    card = harness.emu.last_bot_message(JO)
    assert card is not None and (card.text or "").startswith(f"🤝 New request {ref}")
    assert texts.CARD_CONTACT_PHONE.format(phone=PHONE) in (card.text or "")
    harness.emu.user_presses(JO, card.message_id, f"mc:acc:{ref}")
    await harness.settle()
    assert (Kind.CONTACT, JO) in (await drain(harness)).sent
    (kept,) = [m for m in holding_the_number(harness, JO) if m.message_id != card.message_id]
    assert kept.protect_content and kept.text is not None and ref in kept.text
    await close_chat(harness, JO, ref)
    await drain(harness)
    assert await sealed_copies(harness, ref) == (False, 0)
    assert holding_the_number(harness, JO) == []
