"""A request handed back twice (two mentors removed in turn after taking it) is offered
afresh each time: every remaining mentor of the area gets one new card with a working
Accept button per handback, so the request never sits with nobody offered it."""

from __future__ import annotations

from collections import Counter

from conversations import texts
from storage.repositories.outbox import Kind
from tests.support.handoff import drain, join_as_mentor, request_mentor, revoke
from tests.support.harness import Harness

DUKE_STREET, WEST_DERBY = "liverpool-duke-street", "west-derby-eaton-road"
SAM, JO, KIM, LEE, VAL = (8_800_910_000 + n for n in range(1, 6))
ALEX = 7_700_910_001


async def fresh_cards(harness: Harness, ref: str, expected: set[int]) -> None:
    """One new card per mentor in this round, each the newest message with a live Accept."""
    delivered = await drain(harness)
    cards = Counter(chat for kind, chat in delivered.sent if kind == Kind.CARD)
    assert cards == Counter(expected), cards
    for chat in expected:
        card = harness.emu.last_bot_message(chat)
        assert card is not None and (card.text or "").startswith(f"🤝 New request {ref}")
        assert {"text": texts.BTN_ACCEPT, "callback_data": f"mc:acc:{ref}"} in [
            {"text": b["text"], "callback_data": b.get("callback_data")}
            for row in card.buttons
            for b in row
        ]


async def accept_newest_card(harness: Harness, mentor: int, ref: str) -> None:
    card = harness.emu.last_bot_message(mentor)
    assert card is not None
    harness.emu.user_presses(mentor, card.message_id, f"mc:acc:{ref}")
    await harness.settle()
    assert harness.last_text(mentor) == texts.CARD_YOURS.format(ref=ref)
    answers = list(harness.emu.callback_answers().values())
    assert answers[-1].text == texts.TOAST_ACCEPTED


async def test_two_handbacks_each_offer_a_fresh_card_to_every_remaining_mentor(
    harness: Harness,
) -> None:
    for mentor, name in ((SAM, "Sam"), (JO, "Jo"), (KIM, "Kim"), (LEE, "Lee")):
        await join_as_mentor(harness, mentor, name, office_id=DUKE_STREET)
    await join_as_mentor(harness, VAL, "Val", office_id=WEST_DERBY)  # same area
    ref = await request_mentor(harness, ALEX, DUKE_STREET)
    await fresh_cards(harness, ref, {SAM, JO, KIM, LEE})
    await accept_newest_card(harness, SAM, ref)
    await drain(harness)

    # First handback: everyone left in Liverpool, Val included.
    await revoke(harness, SAM)
    await fresh_cards(harness, ref, {JO, KIM, LEE, VAL})
    await accept_newest_card(harness, JO, ref)
    await drain(harness)
    for other in (KIM, LEE, VAL):  # the first re-offer's cards are closed
        assert harness.last_text(other) == texts.CARD_TAKEN.format(ref=ref)
        assert harness.emu.buttons(other) == []

    # Second handback, at the same moment: the same mentors are asked again.
    await revoke(harness, JO)
    await fresh_cards(harness, ref, {KIM, LEE, VAL})
    left = texts.LADDER_MENTOR_LEFT.format(ref=ref, area="Liverpool")
    assert harness.texts(ALEX).count(left) == 2
    await accept_newest_card(harness, VAL, ref)
    await drain(harness)
    for other in (KIM, LEE):
        assert harness.last_text(other) == texts.CARD_TAKEN.format(ref=ref)
        assert harness.emu.buttons(other) == []
    duke_street = "Liverpool Duke Street Jobcentre (city centre)"
    told = [t for t in harness.texts(ALEX) if t.startswith("🤝 Good news.")]
    assert told == [  # each mentor who took it, in turn, at their own office
        texts.MENTOR_ACCEPTED.format(name=name, office=office, ref=ref)
        for name, office in (
            ("Sam", duke_street),
            ("Jo", duke_street),
            ("Val", "West Derby Jobcentre (Eaton Road)"),
        )
    ]
