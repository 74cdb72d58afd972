"""Every card a mentor still has for a request agrees with the request as it is now.

A request handed back (its mentor removed) is offered again with new cards, so a mentor
can hold an old card and a new one for the same request. After each claim, handback,
expiry or withdrawal, all of them say the same thing: the winner's cards say it is
theirs (never "taken by another mentor"), everyone else's say it is taken, open again
or ended, and only a card for an open request has an Accept button. The cards never
name the person, only the reference.
"""

from __future__ import annotations

from conversations import texts
from storage.repositories.outbox import Kind
from tests.support.handoff import (
    drain,
    join_as_mentor,
    request_mentor,
    revoke,
    run_job,
)
from tests.support.harness import Harness

DUKE_STREET, WEST_DERBY = "liverpool-duke-street", "west-derby-eaton-road"
SAM, JO, KIM, VAL = (8_800_920_000 + n for n in range(1, 5))
ALEX = 7_700_920_001
PERSON_NAME = "Alex"  # the harness's first name for every person


async def new_cards(harness: Harness, ref: str, expected: set[int]) -> dict[int, int]:
    """Deliver; each expected mentor got one new card with Accept. Its message id each."""
    delivered = await drain(harness)
    assert sorted(chat for kind, chat in delivered.sent if kind == Kind.CARD) == sorted(expected)
    ids = {}
    for chat in expected:
        card = harness.emu.last_bot_message(chat)
        assert card is not None and (card.text or "").startswith(f"🤝 New request {ref}")
        assert texts.BTN_ACCEPT in card.button_texts
        ids[chat] = card.message_id
    return ids


def card(harness: Harness, chat: int, message_id: int) -> tuple[str, list[str]]:
    """What one card reads now, and its buttons."""
    (found,) = [m for m in harness.emu.bot_messages(chat) if m.message_id == message_id]
    text = found.text or ""
    assert PERSON_NAME not in text  # a card carries the reference, never the person
    return text, found.button_texts


async def accept(harness: Harness, chat: int, message_id: int, ref: str) -> None:
    harness.emu.user_presses(chat, message_id, f"mc:acc:{ref}")
    await harness.settle()


async def setup(harness: Harness) -> tuple[str, dict[int, int]]:
    """Sam, Jo and Kim at Duke Street, Val elsewhere in Liverpool; Alex asks at Duke
    Street and Sam takes it. The office's original cards, by mentor."""
    for mentor, name, office in (
        (SAM, "Sam", DUKE_STREET),
        (JO, "Jo", DUKE_STREET),
        (KIM, "Kim", DUKE_STREET),
        (VAL, "Val", WEST_DERBY),
    ):
        await join_as_mentor(harness, mentor, name, office_id=office)
    ref = await request_mentor(harness, ALEX, DUKE_STREET)
    original = await new_cards(harness, ref, {SAM, JO, KIM})
    await accept(harness, SAM, original[SAM], ref)
    await drain(harness)
    taken = texts.CARD_TAKEN.format(ref=ref)
    assert card(harness, JO, original[JO]) == (taken, [])
    assert card(harness, KIM, original[KIM]) == (taken, [])
    return ref, original


async def test_a_mentor_who_takes_a_handed_back_request_sees_it_as_theirs_on_every_card(
    harness: Harness,
) -> None:
    ref, original = await setup(harness)
    await revoke(harness, SAM)
    again = await new_cards(harness, ref, {JO, KIM, VAL})
    # Open again: the old cards no longer say someone else has it, and point to the new.
    reopened = texts.CARD_REOPENED.format(ref=ref)
    assert card(harness, JO, original[JO]) == (reopened, [])
    assert card(harness, KIM, original[KIM]) == (reopened, [])

    await accept(harness, JO, again[JO], ref)
    assert card(harness, JO, again[JO])[0] == texts.CARD_YOURS.format(ref=ref)
    await drain(harness)
    yours, taken = texts.CARD_YOURS.format(ref=ref), texts.CARD_TAKEN.format(ref=ref)
    # Jo's first card read "taken by another mentor" until now; it must say Jo has it.
    assert card(harness, JO, original[JO]) == (yours, [])
    assert card(harness, JO, again[JO]) == (yours, [])
    for other, cards in ((KIM, (original[KIM], again[KIM])), (VAL, (again[VAL],))):
        for message_id in cards:
            assert card(harness, other, message_id) == (taken, [])


async def test_a_handed_back_request_that_ends_unclaimed_ends_on_every_card(
    harness: Harness,
) -> None:
    ref, original = await setup(harness)
    await revoke(harness, SAM)
    again = await new_cards(harness, ref, {JO, KIM, VAL})
    await harness.press(ALEX, texts.BTN_WITHDRAW)
    await drain(harness)
    withdrawn = texts.CARD_WITHDRAWN.format(ref=ref)
    for chat, message_id in (*original.items(), *again.items()):
        if chat != SAM:  # removed from the service: nothing more reaches them
            assert card(harness, chat, message_id) == (withdrawn, [])


async def test_a_handed_back_request_that_expires_says_so_on_every_card(
    harness: Harness,
) -> None:
    ref, original = await setup(harness)
    await revoke(harness, SAM)
    again = await new_cards(harness, ref, {JO, KIM, VAL})
    harness.clock.advance(days=harness.settings.referral_pending_max_days, minutes=1)
    await run_job(harness)
    await drain(harness)
    expired = texts.CARD_EXPIRED.format(ref=ref)
    for chat, message_id in (*original.items(), *again.items()):
        if chat != SAM:
            assert card(harness, chat, message_id) == (expired, [])


async def test_accepting_an_older_card_of_a_request_you_hold_says_it_is_yours(
    harness: Harness,
) -> None:
    """Jo has the card and the reminder, taps Accept on the reminder, then on the card
    (its edit not delivered yet): it is Jo's, not "taken by another mentor"."""
    for mentor, name in ((JO, "Jo"), (KIM, "Kim")):
        await join_as_mentor(harness, mentor, name, office_id=DUKE_STREET)
    ref = await request_mentor(harness, ALEX, DUKE_STREET)
    original = await new_cards(harness, ref, {JO, KIM})
    harness.clock.advance(minutes=harness.settings.ladder_office_reminder_minutes + 1)
    await run_job(harness)
    delivered = await drain(harness)
    assert sorted(chat for kind, chat in delivered.sent if kind == Kind.REMINDER) == [JO, KIM]
    reminder = harness.emu.last_bot_message(JO)
    assert reminder is not None and texts.BTN_ACCEPT in reminder.button_texts
    await accept(harness, JO, reminder.message_id, ref)
    await accept(harness, JO, original[JO], ref)
    yours = texts.CARD_YOURS.format(ref=ref)
    assert card(harness, JO, original[JO]) == (yours, [])
    answers = list(harness.emu.callback_answers().values())
    assert answers[-1].text == texts.TOAST_YOURS_ALREADY
    await drain(harness)
    taken = texts.CARD_TAKEN.format(ref=ref)
    for message_id in (original[JO], reminder.message_id):
        assert card(harness, JO, message_id) == (yours, [])
    for message_id in (original[KIM], harness.emu.bot_messages(KIM)[-1].message_id):
        assert card(harness, KIM, message_id) == (taken, [])


async def test_an_edit_left_over_from_an_earlier_claim_never_lands_after_a_newer_one(
    harness: Harness,
) -> None:
    """Kim's "taken" edit fails once and waits to be retried; meanwhile the request is
    handed back. The stale "taken" must not overwrite "needs a mentor again" later."""
    for mentor, name in ((SAM, "Sam"), (KIM, "Kim")):
        await join_as_mentor(harness, mentor, name, office_id=DUKE_STREET)
    ref = await request_mentor(harness, ALEX, DUKE_STREET)
    original = await new_cards(harness, ref, {SAM, KIM})
    harness.emu.inject_fault("editMessageText", status=502, chat_id=KIM)
    await accept(harness, SAM, original[SAM], ref)
    await drain(harness)
    assert card(harness, KIM, original[KIM])[1] != []  # the edit is waiting for a retry
    await revoke(harness, SAM)
    await new_cards(harness, ref, {KIM})
    harness.clock.advance(hours=1)  # well past any retry of the stale edit
    await drain(harness)
    assert card(harness, KIM, original[KIM]) == (texts.CARD_REOPENED.format(ref=ref), [])


async def test_a_mentor_away_at_the_handback_is_pointed_to_referrals(harness: Harness) -> None:
    """Kim is away when Sam is removed, so no new card comes: Kim's old card says how to
    take it, and /referrals does."""
    ref, original = await setup(harness)
    await harness.send(KIM, "/away")
    await revoke(harness, SAM)
    await new_cards(harness, ref, {JO, VAL})
    assert card(harness, KIM, original[KIM]) == (texts.CARD_REOPENED_ASK.format(ref=ref), [])
    await harness.send(KIM, "/referrals")
    await harness.press(KIM, texts.BTN_ACCEPT_REF.format(ref=ref))
    await drain(harness)
    yours = texts.CARD_YOURS.format(ref=ref)
    assert card(harness, KIM, original[KIM]) == (yours, [])
    taken = texts.CARD_TAKEN.format(ref=ref)
    for chat in (JO, VAL):
        assert harness.last_text(chat) == taken
    assert card(harness, JO, original[JO]) == (taken, [])
