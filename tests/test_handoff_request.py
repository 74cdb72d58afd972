"""Asking for a mentor, the person's side: from the finder, without an office, going
back, stale buttons, and stopping half way (a shared number does not linger)."""

from __future__ import annotations

from conversations import texts
from storage.people import person_transaction
from tests.handoff_support import drain, join_as_mentor, services_of
from tests.harness import Harness

SAM = 8_800_900_001
ALEX, BEA, CAL, DAN = 7_700_900_001, 7_700_900_002, 7_700_900_003, 7_700_900_004
OFFICE = "portsmouth-arundel-street"


async def draft_of(harness: Harness, user_id: int) -> dict[str, object]:
    services = services_of(harness)
    async with person_transaction(
        services.database, services.ring, user_id, services.clock()
    ) as tx:
        assert tx.person is not None
        return dict(tx.person.draft)


async def test_from_the_finder_buttons_with_nothing_to_share(harness: Harness) -> None:
    await join_as_mentor(harness, SAM, "Sam", office_id=OFFICE)
    await harness.onboard(ALEX)
    await harness.send(ALEX, "/mentor")  # no office known yet: the finder first
    assert texts.MENTOR_FIND_OFFICE_FIRST in harness.all_text(ALEX)
    await harness.send(ALEX, "PO1 2AB")
    await harness.press(ALEX, texts.BTN_MENTOR_AT.format(name="Portsmouth Jobcentre"))
    # Nothing disclosed, so nothing to choose about sharing: straight to contact.
    assert harness.last_text(ALEX) == texts.MENTOR_ASK_CONTACT
    await harness.press(ALEX, texts.BTN_CONTACT_BOT)
    await harness.press(ALEX, texts.MENTOR_TIME_LABELS["morning"])
    assert "• The mentor sees: a reference code only" in harness.last_text(ALEX)
    await harness.press(ALEX, texts.BTN_SEND_REQUEST)
    assert harness.last_text(ALEX).startswith("✅ Sent.")
    await drain(harness)
    card = harness.last_text(SAM)
    assert texts.CARD_SHARED_NOTHING in card and texts.CARD_CONTACT_BOT in card


async def test_an_unknown_office_button_and_pick_another(harness: Harness) -> None:
    await harness.onboard(BEA)
    message = harness.emu.last_bot_message(BEA)
    assert message is not None
    harness.emu.forge_callback(BEA, message.message_id, "m:at:not-an-office")
    await harness.settle()
    assert texts.MENTOR_OFFICE_GONE in harness.all_text(BEA)
    assert texts.FINDER_ASK in harness.all_text(BEA)
    await harness.send(BEA, "/start jc_" + OFFICE)
    await harness.press(BEA, texts.BTN_MENTOR)
    await harness.press(BEA, texts.BTN_OTHER_OFFICE)
    assert texts.MENTOR_FIND_OFFICE_FIRST in harness.texts(BEA)[-4:]


async def test_stale_buttons_and_change_keep_the_person_where_they_are(
    harness: Harness,
) -> None:
    await harness.send(CAL, f"/start jc_{OFFICE}")
    await harness.press(CAL, texts.BTN_CONTINUE)
    await harness.press(CAL, texts.BTN_MENTOR)
    await harness.press(CAL, texts.BTN_THIS_OFFICE)
    contact_question = harness.emu.last_bot_message(CAL)
    assert contact_question is not None
    await harness.press(CAL, texts.BTN_CONTACT_BOT)
    # The contact question again, from an older message: stale, and the time is re-asked.
    harness.emu.forge_callback(CAL, contact_question.message_id, "mr:contact:phone")
    await harness.settle()
    assert texts.STALE_BUTTON in harness.texts(CAL)[-2:]
    assert harness.last_text(CAL) == texts.MENTOR_ASK_TIME
    await harness.send(CAL, "tomorrow please")  # text where a button is expected
    assert harness.last_text(CAL) == texts.MENTOR_ASK_TIME
    await harness.press(CAL, texts.MENTOR_TIME_LABELS["any"])
    await harness.press(CAL, texts.BTN_CHANGE)
    assert harness.last_text(CAL) == texts.MENTOR_ASK_CONTACT
    await harness.press(CAL, texts.BTN_CONTACT_BOT)
    await harness.press(CAL, texts.MENTOR_TIME_LABELS["afternoon"])
    assert "• Best time: Afternoons" in harness.last_text(CAL)


async def test_stopping_half_way_drops_a_shared_number(harness: Harness) -> None:
    await harness.send(DAN, f"/start jc_{OFFICE}")
    await harness.press(DAN, texts.BTN_CONTINUE)
    await harness.press(DAN, texts.BTN_MENTOR)
    await harness.press(DAN, texts.BTN_THIS_OFFICE)
    await harness.press(DAN, texts.BTN_CONTACT_PHONE)
    harness.emu.tap_reply_button(DAN, texts.BTN_SEND_PHONE, phone_number="+447700900555")
    await harness.settle()
    assert "+447700900555" in repr(await draft_of(harness, DAN))  # sealed, until confirm
    await harness.send(DAN, "/cancel")
    assert "+447700900555" not in repr(await draft_of(harness, DAN))
    # Shared again, then starting the request over: a fresh request drops it too.
    await harness.send(DAN, "/mentor")
    await harness.press(DAN, texts.BTN_THIS_OFFICE)
    await harness.press(DAN, texts.BTN_CONTACT_PHONE)
    harness.emu.tap_reply_button(DAN, texts.BTN_SEND_PHONE, phone_number="+447700900555")
    await harness.settle()
    assert harness.last_text(DAN) == texts.MENTOR_ASK_TIME
    await harness.send(DAN, "/mentor")
    assert "+447700900555" not in repr(await draft_of(harness, DAN))
