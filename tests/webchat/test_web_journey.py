"""The web door, end to end over loopback HTTP: the same bot, the same flows, the same
mentors on Telegram (the emulator), and nothing that tells a mentor which door a person
came through."""

from __future__ import annotations

import re

from conversations import texts
from conversations.door import is_web_chat
from storage.repositories.referrals import REF_PATTERN
from tests.support.handoff import drain, join_as_mentor, request_mentor
from tests.support.harness import Harness
from tests.support.webchat import WebPerson, web_client

OFFICE = "portsmouth-arundel-street"
SAM = 8_800_700_001
ALEX = 7_700_700_001


async def web_request(person: WebPerson) -> str:
    await person.open_chat()
    await person.send(f"/start jc_{OFFICE}")
    assert texts.BTN_CONTINUE in str(person.messages[max(person.messages)].inline)
    await person.press(texts.BTN_CONTINUE)
    await person.press(texts.BTN_MENTOR)
    await person.press(texts.BTN_THIS_OFFICE)
    await person.press(texts.BTN_CONTACT_BOT)
    await person.press(texts.MENTOR_TIME_LABELS["any"])
    await person.press(texts.BTN_SEND_REQUEST)
    found = re.search(REF_PATTERN, person.last_text())
    assert found is not None, person.last_text()
    return found.group(0)


async def test_a_web_person_reaches_a_mentor_on_telegram_and_can_forget(
    harness: Harness,
) -> None:
    await join_as_mentor(harness, SAM, "Sam", office_id=OFFICE)
    client = await web_client(harness)
    try:
        person = WebPerson(client, harness)
        ref = await web_request(person)
        assert is_web_chat(person.chat_id)
        await drain(harness)
        assert any(ref in text for text in harness.texts(SAM))
        await harness.press(SAM, texts.BTN_ACCEPT)
        await drain(harness)
        await person.sync()
        assert "Sam" in person.all_text()

        await person.send("hello from the web")
        await drain(harness)
        assert harness.last_text(SAM) == f"{ref}: hello from the web"
        await harness.send(SAM, "Hi, I'm Sam.")
        await drain(harness)
        await person.sync()
        assert person.last_text() == "Sam: Hi, I'm Sam."

        await person.send("/forget")
        await person.press(texts.BTN_FORGET_YES)
        assert await harness.record(person.chat_id) is None
        await drain(harness)
        # The kept messages went with the person: a new page replays nothing from before.
        services = harness.services
        from storage.repositories import webchat as store

        replay = await store.events_after(services.database, services.ring, person.chat_id, 0)
        assert all("hello" not in str(event.body) for event in replay)
    finally:
        await client.close()


async def test_a_mentor_cannot_tell_the_door(harness: Harness) -> None:
    """The card and the relayed message a mentor gets read the same for both doors."""
    await join_as_mentor(harness, SAM, "Sam", office_id=OFFICE)
    client = await web_client(harness)
    try:
        telegram_ref = await request_mentor(harness, ALEX, OFFICE)
        web_ref = await web_request(WebPerson(client, harness))
        await drain(harness)
        cards = [t for t in harness.texts(SAM) if telegram_ref in t or web_ref in t]
        assert len(cards) == 2
        masked = {card.replace(telegram_ref, "REF").replace(web_ref, "REF") for card in cards}
        masked = {re.sub(r"\d{1,2}:\d{2}", "TIME", card) for card in masked}
        assert len(masked) == 1, masked
    finally:
        await client.close()


async def test_a_web_person_can_ask_to_be_phoned_with_the_pages_own_button(
    harness: Harness,
) -> None:
    await join_as_mentor(harness, SAM, "Sam", office_id=OFFICE)
    client = await web_client(harness)
    try:
        person = WebPerson(client, harness)
        await person.open_chat()
        await person.send(f"/start jc_{OFFICE}")
        await person.press(texts.BTN_CONTINUE)
        await person.press(texts.BTN_MENTOR)
        await person.press(texts.BTN_THIS_OFFICE)
        await person.press(texts.BTN_CONTACT_PHONE)
        await person.share_phone(texts.BTN_SEND_PHONE, "07700 900123")
        await person.press(texts.MENTOR_TIME_LABELS["afternoon"])
        assert texts.MENTOR_CONTACT_LABELS["phone"] in person.last_text()
        await person.press(texts.BTN_SEND_REQUEST)
        found = re.search(REF_PATTERN, person.last_text())
        assert found is not None
        await drain(harness)
        await harness.press(SAM, texts.BTN_ACCEPT)
        await drain(harness)
        assert "07700900123" in harness.all_text(SAM)
    finally:
        await client.close()
