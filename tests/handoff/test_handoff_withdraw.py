"""Stopping a request, or `/forget`, while a mentor notification waits: it never goes.

And the phone number a person may share on purpose: it goes only into the card, is
gone from our side once the card is sent, and a contact anywhere else is refused and
not kept.
"""

from __future__ import annotations

from sqlalchemy import select, update

from conversations import texts
from conversations.steps import Step
from storage.repositories.outbox import Kind
from storage.repositories.people import person_transaction
from tests.support.handoff import drain, join_as_mentor, request_mentor, services_of
from tests.support.harness import Harness
from tests.support.tables import OUTBOX, REFERRALS

OFFICE = "portsmouth-arundel-street"
SAM, JO = 8_800_300_001, 8_800_300_002
ALEX, BEA, CAL, DAN, ZOE = (7_700_300_000 + n for n in range(1, 6))
PHONE = "+447700900123"


async def outbox_of(harness: Harness, ref: str) -> list[tuple[str, str, bool]]:
    """(kind, status, payload still held) for a referral's outbox rows."""
    async with services_of(harness).database.transaction() as connection:
        rows = await connection.execute(
            select(OUTBOX.c.kind, OUTBOX.c.status, OUTBOX.c.payload_ct)
            .join(REFERRALS, REFERRALS.c.id == OUTBOX.c.referral_id)
            .where(REFERRALS.c.public_ref == ref)
            .order_by(OUTBOX.c.created_at, OUTBOX.c.kind)
        )
        return [(row.kind, row.status, row.payload_ct is not None) for row in rows]


async def mentors_ready(harness: Harness) -> None:
    await join_as_mentor(harness, SAM, "Sam", office_id=OFFICE)
    await join_as_mentor(harness, JO, "Jo", office_id=OFFICE)


def cards_seen(harness: Harness, ref: str) -> list[str]:
    return [text for m in (SAM, JO) for text in harness.texts(m) if ref in text]


async def test_withdrawal_while_cards_wait_means_they_are_never_sent(harness: Harness) -> None:
    await mentors_ready(harness)
    ref = await request_mentor(harness, ALEX, OFFICE)
    assert await outbox_of(harness, ref) == [("card", "pending", True)] * 2

    sent = harness.emu.last_bot_message(ALEX)
    assert sent is not None
    await harness.press(ALEX, texts.BTN_WITHDRAW)
    assert harness.all_text(ALEX).count(texts.MENTOR_WITHDRAWN.format(ref=ref)) == 1
    # Dead at once, payloads gone: nothing readable is left waiting.
    assert await outbox_of(harness, ref) == [("card", "dead", False)] * 2
    delivered = await drain(harness)
    assert delivered.sent == []
    assert cards_seen(harness, ref) == []

    # A second tap of the same button (sent before the first was answered) says so.
    harness.emu.forge_callback(ALEX, sent.message_id, f"mr:wd:{ref}")
    await harness.settle()
    assert harness.last_text(ALEX) == texts.MENTOR_ALREADY_ENDED
    assert await outbox_of(harness, ref) == [("card", "dead", False)] * 2


async def test_a_withdrawal_that_forgot_the_outbox_would_leave_cards_waiting(
    harness: Harness,
) -> None:
    """Negative control: marking the referral alone leaves readable cards queued."""
    await mentors_ready(harness)
    ref = await request_mentor(harness, ALEX, OFFICE)
    async with services_of(harness).database.transaction() as connection:
        await connection.execute(
            update(REFERRALS).where(REFERRALS.c.public_ref == ref).values(status="withdrawn")
        )
    assert await outbox_of(harness, ref) != [("card", "dead", False)] * 2


async def test_forget_while_cards_wait_means_they_are_never_sent(harness: Harness) -> None:
    await mentors_ready(harness)
    ref = await request_mentor(harness, BEA, OFFICE)
    await harness.send(BEA, "/forget")
    await harness.press(BEA, texts.BTN_FORGET_YES)
    assert "Messages not yet sent, cancelled: 2" in harness.last_text(BEA)
    assert await outbox_of(harness, ref) == [("card", "dead", False)] * 2
    delivered = await drain(harness)
    assert delivered.sent == []
    assert cards_seen(harness, ref) == []


async def test_withdrawal_after_cards_went_out_edits_them(harness: Harness) -> None:
    await mentors_ready(harness)
    ref = await request_mentor(harness, CAL, OFFICE)
    await drain(harness)
    assert len(cards_seen(harness, ref)) == 2
    await harness.press(CAL, texts.BTN_WITHDRAW)
    delivered = await drain(harness)
    assert sorted(kind for kind, _ in delivered.sent) == [Kind.CARD_UPDATE] * 2
    for mentor in (SAM, JO):
        assert harness.last_text(mentor) == texts.CARD_WITHDRAWN.format(ref=ref)
        assert harness.emu.buttons(mentor) == []
    # An Accept on an old copy of the card (a forged one here) changes nothing.
    card = harness.emu.last_bot_message(SAM)
    assert card is not None
    harness.emu.forge_callback(SAM, card.message_id, f"mc:acc:{ref}")
    await harness.settle()
    answers = [a.text for a in harness.emu.callback_answers().values()]
    assert answers[-1] == texts.TOAST_ENDED


async def test_forget_with_an_accepted_mentor_tells_them_by_reference_only(
    harness: Harness,
) -> None:
    await mentors_ready(harness)
    ref = await request_mentor(harness, DAN, OFFICE)
    await drain(harness)
    await harness.press(SAM, texts.BTN_ACCEPT)
    await drain(harness)
    await harness.send(DAN, "/forget")
    await harness.press(DAN, texts.BTN_FORGET_YES)
    delivered = await drain(harness)
    assert [kind for kind, _ in delivered.sent] == [Kind.MENTOR_NOTICE]
    assert harness.last_text(SAM) == texts.MENTOR_NOTICE_LEFT.format(ref=ref)
    assert harness.last_text(JO) == texts.CARD_TAKEN.format(ref=ref)
    # Sam can no longer write to them.
    await harness.send(SAM, f"/to {ref} are you still there?")
    assert harness.last_text(SAM) == texts.MENTOR_CHAT_ENDED.format(ref=ref)


async def test_a_shared_phone_number_reaches_only_the_card_and_is_then_gone(
    harness: Harness,
) -> None:
    await mentors_ready(harness)
    harness.person(ZOE)
    await harness.send(ZOE, f"/start jc_{OFFICE}")
    await harness.press(ZOE, texts.BTN_CONTINUE)

    # A contact before any request asks for it: refused, not kept.
    harness.emu.user_sends_contact(ZOE, PHONE)
    await harness.settle()
    assert harness.last_text(ZOE) == texts.ONLY_TEXT

    await harness.press(ZOE, texts.BTN_MENTOR)
    await harness.press(ZOE, texts.BTN_THIS_OFFICE)
    await harness.press(ZOE, texts.BTN_CONTACT_PHONE)
    assert texts.BTN_SEND_PHONE in [
        b["text"] for row in harness.emu.reply_keyboard(ZOE) for b in row
    ]
    # Someone else's contact card: refused by the guard, not kept.
    harness.emu.user_sends_contact(ZOE, "+447700900999", own=False)
    await harness.settle()
    assert harness.last_text(ZOE) == texts.ONLY_TEXT
    # A number typed as text is not taken either.
    await harness.send(ZOE, "07700 900123")
    assert texts.MENTOR_PHONE_USE_BUTTON in harness.all_text(ZOE)

    harness.emu.tap_reply_button(ZOE, texts.BTN_SEND_PHONE, phone_number=PHONE)
    await harness.settle()
    assert texts.MENTOR_PHONE_THANKS.format(delay="24 hours") in harness.all_text(ZOE)
    await harness.press(ZOE, texts.MENTOR_TIME_LABELS["afternoon"])
    assert "• How they get in touch: a phone call" in harness.last_text(ZOE)
    await harness.press(ZOE, texts.BTN_SEND_REQUEST)

    services = services_of(harness)
    async with person_transaction(services.database, services.ring, ZOE, services.clock()) as tx:
        assert tx.person is not None
        assert tx.person.state == Step.WAITING_FOR_MENTOR
        assert "phone" not in repr(tx.person.draft) and PHONE not in repr(tx.person.draft)

    await drain(harness)
    for mentor in (SAM, JO):
        assert PHONE in harness.last_text(mentor)
    async with services.database.transaction() as connection:
        held = (
            await connection.execute(select(OUTBOX.c.id).where(OUTBOX.c.payload_ct.is_not(None)))
        ).all()
    assert held == []  # sent payloads are dropped: the number is nowhere on our side
    assert "+447700900999" not in "".join(harness.all_text(m) for m in (SAM, JO))


async def test_someone_elses_stop_button_touches_nothing(harness: Harness) -> None:
    """`mr:wd:<ref>` forged by another person: both checks hold on their own (issue 15, 7).

    The flow refuses before any statement changes a referral (a statement counter sees
    that), and the storage update itself matches only the owner's row (called directly
    with the wrong person below), so removing either check fails this test."""
    from sqlalchemy import event

    from storage.repositories import referrals

    await mentors_ready(harness)
    ref = await request_mentor(harness, ALEX, OFFICE)
    await harness.onboard(BEA)
    services = services_of(harness)
    writes: list[str] = []

    def count(_conn: object, _cursor: object, statement: str, *_args: object) -> None:
        if statement.lstrip().upper().startswith("UPDATE REFERRALS"):
            writes.append(statement)

    engine = services.database.engine.sync_engine
    event.listen(engine, "before_cursor_execute", count)
    try:
        message = harness.emu.last_bot_message(BEA)
        assert message is not None
        harness.emu.forge_callback(BEA, message.message_id, f"mr:wd:{ref}")
        await harness.settle()
    finally:
        event.remove(engine, "before_cursor_execute", count)
    assert harness.last_text(BEA) == texts.MENTOR_ALREADY_ENDED
    assert writes == [], "the flow let a stranger's press reach the referral update"

    async with services.database.transaction() as connection:
        referral = await referrals.by_ref(connection, ref)
        assert referral is not None
        stranger = "0" * 32
        assert not await referrals.withdraw(connection, referral, stranger, harness.clock())
        after = await referrals.by_ref(connection, ref)
    assert after is not None and after.status == "pending"
    assert await outbox_of(harness, ref) == [("card", "pending", True)] * 2
