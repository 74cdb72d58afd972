"""Issue 13 item 8: a card Telegram delivered twice (the answer to the first send was
lost, as when the process dies between the send and its record) must not keep a
working-looking Accept button once the request moved on. Every card for a request,
duplicates included, is brought to the request's state, without anyone pressing it:
a card goes out as its text, is recorded, and only then gets its buttons, so the copy
nobody recorded never has any; and a press on such a copy (forged) still answers with
where the request is now."""

from __future__ import annotations

import pytest

from bot.delivery import worker as worker_module
from conversations import texts
from tests.support.delivery import rejected
from tests.support.handoff import drain, join_as_mentor, request_mentor
from tests.support.harness import Harness

OFFICE = "portsmouth-arundel-street"
SAM, JO = 8_801_700_001, 8_801_700_002
ALEX, BEA = 7_701_700_001, 7_701_700_002


def accept_buttons(harness: Harness, chat: int, ref: str) -> list[int]:
    """Message ids in the chat that still show an Accept button for this request."""
    return [
        message.message_id
        for message in harness.emu.bot_messages(chat)
        for row in message.buttons
        for button in row
        if button.get("callback_data") == f"mc:acc:{ref}"
    ]


def card_copies(harness: Harness, chat: int, ref: str) -> list[int]:
    """Message ids in the chat of this request's card, with buttons or without."""
    return [
        message.message_id
        for message in harness.emu.bot_messages(chat)
        if message.text is not None and f"New request {ref}" in message.text
    ]


async def twice_delivered_card(harness: Harness, person: int) -> tuple[str, int, int]:
    """A request whose card reached Sam twice: the first answer was lost. The copy we
    never heard of, and the one we recorded."""
    ref = await request_mentor(harness, person, OFFICE)
    harness.emu.inject_fault("sendMessage", timeout=True, applied=True, chat_id=SAM, count=1)
    await drain(harness)
    harness.clock.advance(seconds=30)  # past the retry's backoff
    await drain(harness)
    ghost, recorded = card_copies(harness, SAM, ref)
    assert accept_buttons(harness, SAM, ref) == [recorded], "the unrecorded copy has buttons"
    return ref, ghost, recorded


async def stopped_scenario(harness: Harness) -> None:
    await join_as_mentor(harness, SAM, "Sam", office_id=OFFICE)
    ref, ghost, recorded = await twice_delivered_card(harness, ALEX)
    await harness.press(ALEX, texts.BTN_WITHDRAW)
    await drain(harness)
    assert accept_buttons(harness, SAM, ref) == []  # nobody pressed anything
    shown = {m.message_id: m.text for m in harness.emu.bot_messages(SAM)}
    assert shown[recorded] == texts.CARD_WITHDRAWN.format(ref=ref)

    # A press on the bare copy (only a forged one can): it says where the request is.
    harness.emu.forge_callback(SAM, ghost, f"mc:acc:{ref}")
    await harness.settle()
    assert list(harness.emu.callback_answers().values())[-1].text == texts.TOAST_ENDED
    shown = {m.message_id: m.text for m in harness.emu.bot_messages(SAM)}
    assert shown[ghost] == texts.CARD_ENDED.format(ref=ref)


async def test_a_stopped_requests_duplicate_card_is_brought_to_its_state(
    harness: Harness,
) -> None:
    await stopped_scenario(harness)


async def test_a_card_sent_with_its_buttons_at_once_leaves_a_working_duplicate(
    harness: Harness, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The broken variant (the code before): the copy whose answer was lost keeps its
    Accept button after the request was stopped."""
    monkeypatch.setattr(worker_module, "BUTTONS_AFTER", frozenset())
    error = await rejected(stopped_scenario(harness))
    assert "the unrecorded copy has buttons" in str(error)


async def test_a_taken_requests_duplicate_card_is_brought_to_its_state(
    harness: Harness,
) -> None:
    await join_as_mentor(harness, SAM, "Sam", office_id=OFFICE)
    await join_as_mentor(harness, JO, "Jo", office_id=OFFICE)
    ref, ghost, recorded = await twice_delivered_card(harness, BEA)
    await harness.press(JO, texts.BTN_ACCEPT)
    await drain(harness)
    assert accept_buttons(harness, SAM, ref) == []
    shown = {m.message_id: m.text for m in harness.emu.bot_messages(SAM)}
    assert shown[recorded] == texts.CARD_TAKEN.format(ref=ref)
    harness.emu.forge_callback(SAM, ghost, f"mc:no:{ref}")  # "Can't take this" on it
    await harness.settle()
    shown = {m.message_id: m.text for m in harness.emu.bot_messages(SAM)}
    assert shown[ghost] == texts.CARD_TAKEN.format(ref=ref)
    assert accept_buttons(harness, SAM, ref) == []
