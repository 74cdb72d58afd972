"""Issue 13 item 8: a card Telegram delivered twice (the answer to the first send was
lost, as when the process dies between the send and its record) must not keep a
working-looking Accept button once the request moved on: whichever copy a mentor
presses is brought to the request's state."""

from __future__ import annotations

from conversations import texts
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


async def twice_delivered_card(harness: Harness, person: int) -> tuple[str, list[int]]:
    """A request whose card reached Sam twice: the first answer was lost."""
    ref = await request_mentor(harness, person, OFFICE)
    harness.emu.inject_fault("sendMessage", timeout=True, applied=True, chat_id=SAM, count=1)
    await drain(harness)
    harness.clock.advance(seconds=30)  # past the retry's backoff
    await drain(harness)
    copies = accept_buttons(harness, SAM, ref)
    assert len(copies) == 2, "the lost answer did not make a second copy"
    return ref, copies


async def test_a_stopped_requests_duplicate_card_is_brought_to_its_state(
    harness: Harness,
) -> None:
    await join_as_mentor(harness, SAM, "Sam", office_id=OFFICE)
    ref, (first, _) = await twice_delivered_card(harness, ALEX)
    await harness.press(ALEX, texts.BTN_WITHDRAW)
    await drain(harness)
    assert accept_buttons(harness, SAM, ref) == [first]  # the copy we never heard of

    harness.emu.user_presses(SAM, first, f"mc:acc:{ref}")
    await harness.settle()
    assert list(harness.emu.callback_answers().values())[-1].text == texts.TOAST_ENDED
    assert accept_buttons(harness, SAM, ref) == []
    shown = {m.message_id: m.text for m in harness.emu.bot_messages(SAM)}
    assert shown[first] == texts.CARD_ENDED.format(ref=ref)


async def test_a_taken_requests_duplicate_card_is_brought_to_its_state(
    harness: Harness,
) -> None:
    await join_as_mentor(harness, SAM, "Sam", office_id=OFFICE)
    await join_as_mentor(harness, JO, "Jo", office_id=OFFICE)
    ref, (first, _) = await twice_delivered_card(harness, BEA)
    await harness.press(JO, texts.BTN_ACCEPT)
    await drain(harness)
    assert accept_buttons(harness, SAM, ref) == [first]
    harness.emu.user_presses(SAM, first, f"mc:no:{ref}")  # "Can't take this" on it
    await harness.settle()
    assert accept_buttons(harness, SAM, ref) == []
    shown = {m.message_id: m.text for m in harness.emu.bot_messages(SAM)}
    assert shown[first] == texts.CARD_TAKEN.format(ref=ref)
