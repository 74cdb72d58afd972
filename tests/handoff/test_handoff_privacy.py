"""Mentors never learn who a person is: canary values never reach a mentor's or a
coordinator's chat, and no message is ever forwarded or copied.

The canary person has a distinctive first name, last name, username and id. Every Bot
API request the bot makes to a mentor or coordinator chat, through a whole handoff
(cards, reminder, area offer, alert, accept, relay both ways, close, withdrawal,
erasure), is checked for any of them.
"""

from __future__ import annotations

import json
from pathlib import Path

from sqlalchemy.engine import make_url

from conversations import texts
from conversations.mentor.ladder import run_ladder
from storage.db import keystore_path
from storage.models import MentorRole
from tests.support.dbscan import all_rows, cells_containing
from tests.support.handoff import close_chat, drain, join_as_mentor, services_of
from tests.support.harness import Harness

CANARY_ID = 7_781_000_001
CANARY_VALUES = ("CANARY_FN_7781", "CANARY_LN_7781", "canary_un_7781", str(CANARY_ID))
SAM, JO, CORA = 8_800_600_001, 8_800_600_002, 8_800_600_003
DUKE_STREET, WEST_DERBY = "liverpool-duke-street", "west-derby-eaton-road"


def requests_to(harness: Harness, chats: set[int]) -> list[str]:
    return [
        json.dumps(call.params, ensure_ascii=False)
        for call in harness.emu.calls()
        if call.params.get("chat_id") in chats or str(call.params.get("chat_id")) in map(str, chats)
    ]


async def test_no_request_to_a_mentor_or_coordinator_names_the_person(harness: Harness) -> None:
    await join_as_mentor(harness, SAM, "Sam", office_id=DUKE_STREET)
    await join_as_mentor(harness, JO, "Jo", office_id=WEST_DERBY)
    await join_as_mentor(harness, CORA, "Cora", area="Liverpool", role=MentorRole.COORDINATOR)
    harness.emu.register_user(
        CANARY_ID, "CANARY_FN_7781", last_name="CANARY_LN_7781", username="canary_un_7781"
    )

    await harness.send(CANARY_ID, f"/start jc_{DUKE_STREET}")
    await harness.press(CANARY_ID, texts.BTN_CONTINUE)
    await harness.press(CANARY_ID, texts.BTN_TELL)
    await harness.press(CANARY_ID, texts.OPTION_LABELS["opioids"])
    await harness.press(CANARY_ID, texts.BTN_DONE)
    await harness.press(CANARY_ID, texts.BTN_SKIP)
    await harness.press(CANARY_ID, texts.BTN_SKIP)
    await harness.press(CANARY_ID, texts.BTN_SKIP)
    await harness.press(CANARY_ID, texts.BTN_SKIP)
    await harness.press(CANARY_ID, texts.BTN_MENTOR)
    await harness.press(CANARY_ID, texts.BTN_THIS_OFFICE)
    await harness.press(CANARY_ID, texts.BTN_SHARE_ANSWERS)
    await harness.press(CANARY_ID, texts.BTN_CONTACT_BOT)
    await harness.press(CANARY_ID, texts.MENTOR_TIME_LABELS["any"])
    await harness.press(CANARY_ID, texts.BTN_SEND_REQUEST)
    await drain(harness)

    # The whole ladder, so reminders, area cards and the coordinator alert are covered.
    services = services_of(harness)
    for minutes in (240, 1440 - 240, 2880 - 1440):
        harness.clock.advance(minutes=minutes)
        await run_ladder(services.database, services.ring, services.settings, services.clock())
        await drain(harness)
    assert any("Heroin or other opioids" in t for t in harness.texts(JO))
    assert any("⚠️" in t for t in harness.texts(CORA))

    await harness.press(SAM, texts.BTN_ACCEPT)
    await drain(harness)
    await harness.send(CANARY_ID, "hello, it's me")
    await harness.send(SAM, "Hi! How are you doing today?")
    await harness.send(CANARY_ID, "ok thanks")
    await drain(harness)  # the relayed messages go through the outbox
    ref_message = harness.emu.last_bot_message(SAM)
    assert ref_message is not None and ref_message.text is not None
    ref = ref_message.text.split(":", 1)[0]
    assert ref_message.text == f"{ref}: ok thanks"
    await harness.send(SAM, f"/to {ref} Speak soon.")
    await close_chat(harness, SAM, ref)
    await drain(harness)
    person = await harness.record(CANARY_ID)
    assert person is not None
    before = await all_rows(services.database)
    assert {"outbox.recipient_id", "outbox.payload_subject"} <= set(
        cells_containing(before, person.id)
    )
    await harness.send(CANARY_ID, "/forget")
    await harness.press(CANARY_ID, texts.BTN_FORGET_YES)
    await drain(harness)
    # Erased means no row points at them: not the referral, not a message sent to them
    # or about them; only the erasure journal keeps the id (to erase a restored copy).
    after = await all_rows(services.database)
    assert cells_containing(after, person.id) == ["keystore.erasure_journal.subject_id"]
    cards = [row for row in after["outbox"] if row["kind"] == "card"]
    assert cards and all(row["sent_message_id"] for row in cards)  # kept for later edits

    outbound = requests_to(harness, {SAM, JO, CORA})
    assert len(outbound) > 15  # the test saw real traffic
    leaks = [(value, body) for body in outbound for value in CANARY_VALUES if value in body]
    assert leaks == []
    # The person did get Sam's messages (so the canary check was not vacuous).
    assert "Sam: Hi! How are you doing today?" in harness.all_text(CANARY_ID)
    assert harness.emu.calls("forwardMessage") == []
    assert harness.emu.calls("copyMessage") == []
    # Cards and relayed messages can't be forwarded out of the mentor's chat either.
    card = next(m for m in harness.emu.bot_messages(SAM) if ref in (m.text or ""))
    assert card.protect_content


async def test_no_canary_value_is_kept_in_the_database_files(harness: Harness) -> None:
    await join_as_mentor(harness, SAM, "Samwise", office_id=DUKE_STREET)
    harness.emu.register_user(
        CANARY_ID, "CANARY_FN_7781", last_name="CANARY_LN_7781", username="canary_un_7781"
    )
    await harness.send(CANARY_ID, f"/start jc_{DUKE_STREET}")
    await harness.press(CANARY_ID, texts.BTN_CONTINUE)
    await harness.press(CANARY_ID, texts.BTN_MENTOR)
    await harness.press(CANARY_ID, texts.BTN_THIS_OFFICE)
    await harness.press(CANARY_ID, texts.BTN_CONTACT_BOT)
    await harness.press(CANARY_ID, texts.MENTOR_TIME_LABELS["any"])
    await harness.press(CANARY_ID, texts.BTN_SEND_REQUEST)
    await drain(harness)
    await harness.press(SAM, texts.BTN_ACCEPT)
    await drain(harness)
    await harness.send(CANARY_ID, "a message that is relayed, never stored")
    await harness.stop()
    url = make_url(harness.settings.database_url)
    if url.get_backend_name() != "sqlite":
        return  # the byte scan is of the SQLite files; PostgreSQL is covered by the above
    main = Path(str(url.database))
    blobs = b"".join(
        path.read_bytes()
        for base in (main, keystore_path(main))
        for path in base.parent.glob(base.name + "*")
    )
    for value in (*CANARY_VALUES, "never stored", "Samwise"):
        assert value.encode() not in blobs, value
