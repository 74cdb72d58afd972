"""A whole handoff through the real Application and the emulator: request → card →
accept → two messages each way → close → feedback."""

from __future__ import annotations

import re

from sqlalchemy import select

from conversations import texts
from storage.repositories.referrals import REF_PATTERN
from tests.support.handoff import close_chat, drain, join_as_mentor, services_of
from tests.support.harness import Harness
from tests.support.tables import REFERRALS

ALEX = 7_700_100_001
SAM = 8_800_100_001
JO = 8_800_100_002
OFFICE = "portsmouth-arundel-street"


async def ask_for_mentor(harness: Harness, user_id: int, *, share_answers: bool) -> str:
    """Poster link → notice → disclose → request; returns the reference."""
    await harness.send(user_id, f"/start jc_{OFFICE}")
    await harness.press(user_id, texts.BTN_CONTINUE)
    await harness.press(user_id, texts.BTN_TELL)
    await harness.press(user_id, texts.OPTION_LABELS["alcohol"])
    await harness.press(user_id, texts.BTN_DONE)
    await harness.press(user_id, texts.OPTION_LABELS["1_to_5y"])
    await harness.press(user_id, texts.BTN_SKIP)
    await harness.press(user_id, texts.BTN_SKIP)
    await harness.send(user_id, "I drink at weekends and my name is Alex Canary")
    await harness.press(user_id, texts.BTN_MENTOR)
    assert texts.MENTOR_ASK_OFFICE.format(office="Portsmouth Jobcentre") in harness.all_text(
        user_id
    )
    await harness.press(user_id, texts.BTN_THIS_OFFICE)
    assert "Alcohol" in harness.all_text(user_id)  # the preview of what may be shared
    await harness.press(
        user_id, texts.BTN_SHARE_ANSWERS if share_answers else texts.BTN_SHARE_NOTHING
    )
    await harness.press(user_id, texts.BTN_CONTACT_BOT)
    await harness.press(user_id, texts.MENTOR_TIME_LABELS["morning"])
    assert "• Best time: Mornings" in harness.last_text(user_id)
    await harness.press(user_id, texts.BTN_SEND_REQUEST)
    sent = harness.last_text(user_id)
    assert sent.startswith("✅ Sent. Your reference is R-")
    found = re.search(REF_PATTERN, sent)
    assert found is not None
    return found.group(0)


async def test_full_handoff_request_accept_relay_close_feedback(harness: Harness) -> None:
    await join_as_mentor(harness, SAM, "Sam", office_id=OFFICE)
    assert "You're all set" in harness.last_text(SAM)
    await join_as_mentor(harness, JO, "jo", office_id=OFFICE)
    assert harness.last_text(JO).startswith("Thanks, Jo.")

    ref = await ask_for_mentor(harness, ALEX, share_answers=True)
    assert "within 4 hours" in harness.last_text(ALEX)  # honest timing from the settings

    delivered = await drain(harness)
    assert sorted(kind for kind, _ in delivered.sent) == ["card", "card"]
    for mentor in (SAM, JO):
        card = harness.emu.last_bot_message(mentor)
        assert card is not None and card.protect_content
        assert card.text is not None
        assert ref in card.text and "Portsmouth Jobcentre" in card.text
        assert "Alcohol" in card.text and "1 to 5 years" in card.text
        assert "weekends" not in card.text  # own words are never on a card
        assert card.button_texts == [texts.BTN_ACCEPT, texts.BTN_DECLINE]

    await harness.press(SAM, texts.BTN_ACCEPT)
    assert harness.emu.callback_answers()  # every press is answered
    assert texts.TOAST_ACCEPTED in [a.text for a in harness.emu.callback_answers().values()]
    assert harness.last_text(SAM) == texts.CARD_YOURS.format(ref=ref)
    assert harness.emu.buttons(SAM) == []

    delivered = await drain(harness)
    assert sorted(kind for kind, _ in delivered.sent) == ["accepted", "card_update"]
    assert harness.last_text(JO) == texts.CARD_TAKEN.format(ref=ref)
    assert harness.emu.buttons(JO) == []
    accepted = harness.last_text(ALEX)
    assert accepted.startswith("🤝 Good news. Sam, a peer mentor at Portsmouth Jobcentre")

    # Person → mentor, twice; the first is confirmed to the person.
    await harness.send(ALEX, "Hi Sam, thanks for taking this.")
    await drain(harness)
    assert harness.last_text(SAM) == f"{ref}: Hi Sam, thanks for taking this."
    assert harness.last_text(ALEX) == texts.RELAY_SENT_FIRST.format(name="Sam")
    relayed = harness.emu.last_bot_message(SAM)
    assert relayed is not None and relayed.protect_content
    await harness.send(ALEX, "Can we meet on Tuesday?")
    await drain(harness)
    assert harness.last_text(SAM) == f"{ref}: Can we meet on Tuesday?"
    assert harness.last_text(ALEX) == texts.RELAY_SENT_FIRST.format(name="Sam")  # not again

    # Mentor → person: by replying to a relayed message, then with /to.
    harness.emu.user_sends(
        SAM, "Hello! Glad you reached out.", reply_to_message_id=relayed.message_id
    )
    await harness.settle()
    await drain(harness)
    assert harness.last_text(ALEX) == "Sam: Hello! Glad you reached out."
    await harness.send(SAM, f"/to {ref} Tuesday at 10 works for me.")
    await drain(harness)
    assert harness.last_text(ALEX) == "Sam: Tuesday at 10 works for me."
    assert not harness.emu.calls("forwardMessage") and not harness.emu.calls("copyMessage")

    # Jo, who did not accept, cannot write to Alex.
    await harness.send(JO, f"/to {ref} hello")
    assert harness.last_text(JO) == texts.MENTOR_NO_CHAT.format(ref=ref)
    assert harness.last_text(ALEX) == "Sam: Tuesday at 10 works for me."

    # Close, then feedback.
    await close_chat(harness, SAM, ref)
    assert harness.last_text(SAM) == texts.MENTOR_CLOSED.format(ref=ref)
    delivered = await drain(harness)
    assert [kind for kind, _ in delivered.sent] == ["closed"]
    assert harness.last_text(ALEX).startswith("Sam has closed your chat")
    await harness.send(ALEX, "one more thing")
    assert texts.FEEDBACK_HELPED in harness.all_text(ALEX)
    assert harness.last_text(SAM) == texts.MENTOR_CLOSED.format(ref=ref)  # not passed on
    await harness.press(ALEX, texts.FEEDBACK_HELPED_LABELS["yes"])
    assert harness.last_text(ALEX) == texts.FEEDBACK_NEXT
    await harness.press(ALEX, texts.FEEDBACK_NEXT_LABELS["work"])
    assert texts.FEEDBACK_THANKS in harness.all_text(ALEX)

    async with services_of(harness).database.transaction() as connection:
        row = (
            await connection.execute(
                select(
                    REFERRALS.c.status, REFERRALS.c.feedback_helped, REFERRALS.c.feedback_next_step
                ).where(REFERRALS.c.public_ref == ref)
            )
        ).one()
    assert tuple(row) == ("closed", "yes", "work")
