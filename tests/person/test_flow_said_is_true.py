"""What the bot and its notice say about keys, mentors, confidentiality, /mydata and /clear
is what the code does (issue 14, items 5 to 9), shown through the real Application."""

from __future__ import annotations

import re
from pathlib import Path

from bot.sandbox.emulator import ChatMessage, ManualClock
from bot.sandbox.emulator.rules import DELETE_WINDOW
from conversations import texts
from conversations.person.privacy import CLEAR_SPAN
from storage.crypto import KeyRing
from tests.support.handoff import close_chat, drain, join_as_mentor, request_mentor
from tests.support.harness import Harness

DOCS = Path(__file__).resolve().parents[2] / "docs"
ALEX = 7_700_014_001


def published_notice() -> str:
    """Part 2 of docs/privacy-notice.md, the notice the operator publishes, one line."""
    notice = (DOCS / "privacy-notice.md").read_text("utf-8").split("## 2. The full notice")[1]
    return " ".join(notice.split())


# --- item 5: the key is the service's, not the person's --------------------------------


async def test_the_published_notice_says_whose_key_it_is(
    database_url: str, ring: KeyRing, tmp_path: Path
) -> None:
    harness = Harness(database_url, ring, tmp_path)
    await harness.start()
    try:
        await harness.send(ALEX, "/start")
        assert "a key only this service has" in harness.all_text(ALEX)
        await harness.press(ALEX, texts.BTN_CONTINUE)
        await harness.press(ALEX, texts.BTN_TELL)
        await harness.press(ALEX, texts.OPTION_LABELS["alcohol"])
        await harness.press(ALEX, texts.BTN_DONE)
    finally:
        await harness.stop()
    # A new Application with nothing from the person but the service's own key ring
    # opens what they said: the key is not "theirs alone".
    later = Harness(database_url, KeyRing.from_json(ring.to_json()), tmp_path)
    await later.start()
    try:
        assert await later.answers(ALEX) == {"substances": "alcohol"}
    finally:
        await later.stop()
    published = published_notice()
    assert "a key only this service has" in published
    assert "yours alone" not in published
    assert not re.search(r"Only you \(with `/mydata`\)", published)


# --- item 9: /clear removes only the last 48 hours, and at most 500 messages -----------

BEA = 7_700_014_009


def visible(harness: Harness, chat_id: int) -> list[ChatMessage]:
    return [message for message in harness.emu.chat(chat_id) if not message.deleted]


async def test_clear_says_it_reaches_back_only_48_hours_and_500_messages(
    database_url: str, ring: KeyRing, tmp_path: Path
) -> None:
    harness = Harness(database_url, ring, tmp_path, rate_limit_messages=10 * CLEAR_SPAN)
    clock = ManualClock()
    harness.emu.clock = clock
    await harness.start()
    try:
        await clear_after_many(harness, clock)
    finally:
        await harness.stop()


async def clear_after_many(harness: Harness, clock: ManualClock) -> None:
    """An old message, then more than CLEAR_SPAN recent ones, then /clear."""
    await harness.onboard(BEA)
    await harness.send(BEA, "an old message")
    clock.advance(DELETE_WINDOW + 60)
    for n in range(CLEAR_SPAN):  # more than CLEAR_SPAN messages in 48 hours
        harness.emu.user_sends(BEA, f"recent {n}")
    await harness.settle(timeout=120)
    newest = max(message.message_id for message in harness.emu.chat(BEA))
    assert newest > CLEAR_SPAN + 20
    await harness.send(BEA, "/clear")
    done = harness.last_text(BEA)
    assert done == texts.CLEAR_DONE
    left = visible(harness, BEA)
    # Older than 48 hours: still there, as the person was told.
    assert any(message.text == "an old message" for message in left)
    # Recent, but more than 500 back: still there, as the person was told.
    assert any(message.text == "recent 0" for message in left)
    assert [message.text for message in left][-1] == done
    clear_command = newest + 1
    assert all(message.message_id < clear_command - CLEAR_SPAN for message in left[:-1])
    # Every text that describes /clear says both limits.
    for text in (done, texts.NOTICE, texts.FORGET_DONE):
        assert f"{DELETE_WINDOW // 3600:.0f} hours" in text and f"{CLEAR_SPAN}" in text, text
    assert "48 hours" in texts.HELP.split("/clear")[1].splitlines()[0]
    assert "48 hours" in dict(texts.COMMANDS)["clear"]


# --- item 7: when confidentiality would be broken is the operator's setting ------------

CAL = 7_700_014_007
SAFEGUARDING = (
    "A mentor tells someone only if your life or someone else's is at risk, "
    "and tells you first if they can."
)


async def test_the_notice_says_when_confidentiality_would_be_broken(
    database_url: str, ring: KeyRing, tmp_path: Path
) -> None:
    harness = Harness(database_url, ring, tmp_path, safeguarding_policy=SAFEGUARDING)
    await harness.start()
    try:
        await harness.send(CAL, "/start")
        notice = harness.last_text(CAL)
    finally:
        await harness.stop()
    lines = notice.splitlines()
    work_coach = lines.index(f"• {harness.settings.work_coach_policy}")
    assert lines[work_coach + 1] == f"• {SAFEGUARDING}", "next to the work-coach line"
    assert "• " not in [line.strip() for line in lines]
    # The doc says where the line comes from, and that a real run needs it.
    doc = (DOCS / "privacy-notice.md").read_text("utf-8")
    assert "> • {safeguarding_policy}" in doc and "FIRSTSTEP_SAFEGUARDING_POLICY" in doc
    assert "when confidentiality would be broken (risk to life)" not in doc  # the old gap


# --- item 6: what a mentor was sent stays with the mentor -----------------------------

DAN, SAM = 7_700_014_006, 8_800_014_006
OFFICE = "portsmouth-arundel-street"
PHONE = "+447700900614"


async def test_what_a_mentor_was_sent_stays_after_forget_and_people_are_told(
    harness: Harness,
) -> None:
    await join_as_mentor(harness, SAM, "Sam", office_id=OFFICE)
    await harness.send(DAN, f"/start jc_{OFFICE}")
    await harness.press(DAN, texts.BTN_CONTINUE)
    await harness.press(DAN, texts.BTN_MENTOR)
    asking = harness.all_text(DAN)
    await harness.press(DAN, texts.BTN_THIS_OFFICE)
    before = len(harness.texts(DAN))
    await harness.press(DAN, texts.BTN_CONTACT_PHONE)
    phone_step = "\n".join(harness.texts(DAN)[before - 1 :])
    harness.emu.tap_reply_button(DAN, texts.BTN_SEND_PHONE, phone_number=PHONE)
    await harness.settle()
    await harness.press(DAN, texts.MENTOR_TIME_LABELS["any"])
    await harness.press(DAN, texts.BTN_SEND_REQUEST)
    await drain(harness)
    await harness.press(SAM, texts.BTN_ACCEPT)
    await drain(harness)
    await harness.send(DAN, "I drink every day and my name is on the card")
    await drain(harness)
    await harness.send(DAN, "/forget")
    await harness.press(DAN, texts.BTN_FORGET_YES)
    forget_done = harness.last_text(DAN)
    await drain(harness)
    assert await harness.record(DAN) is None

    # The number reached the mentor's Telegram (on the card, in its notification), and
    # the message they were passed is still in their chat: /forget can't reach either.
    to_mentor = [call.params for call in harness.emu.calls("sendMessage")]
    assert any(p.get("chat_id") == SAM and PHONE in str(p.get("text")) for p in to_mentor)
    assert "R-" in harness.all_text(SAM) and "I drink every day" in harness.all_text(SAM)

    # ... and the person was told so: at the phone step, in the notice, after /forget.
    assert "/forget can't take it back" in phone_step and "look you up" in phone_step
    assert "stays in their Telegram, even after /forget" in texts.NOTICE_MORE
    assert "look you up" in texts.NOTICE_MORE
    assert "stays in their Telegram" in forget_done
    assert "stays in their Telegram, even after /forget" in asking  # asking for a mentor
    published = published_notice()
    assert "stays in the mentor's Telegram" in published and "look you up" in published


# --- item 8: /mydata shows everything kept ---------------------------------------------

EVE, FRED, JO = 7_700_014_081, 7_700_014_082, 8_800_014_008


async def test_mydata_shows_an_unsent_number_and_feedback_answers(harness: Harness) -> None:
    await join_as_mentor(harness, JO, "Jo", office_id=OFFICE)
    # A request put together up to the time step, with a phone number: not sent.
    await harness.send(EVE, f"/start jc_{OFFICE}")
    await harness.press(EVE, texts.BTN_CONTINUE)
    await harness.press(EVE, texts.BTN_MENTOR)
    await harness.press(EVE, texts.BTN_THIS_OFFICE)
    await harness.press(EVE, texts.BTN_CONTACT_PHONE)
    harness.emu.tap_reply_button(EVE, texts.BTN_SEND_PHONE, phone_number=PHONE)
    await harness.settle()
    before = len(harness.texts(EVE))
    await harness.send(EVE, "/mydata")
    shown = "\n".join(harness.texts(EVE)[before:])
    assert PHONE in shown
    assert texts.MENTOR_CONTACT_LABELS["phone"] in shown

    # A request that ended, and the two answers about how it went.
    ref = await request_mentor(harness, FRED, OFFICE)
    await drain(harness)
    await harness.press(JO, texts.BTN_ACCEPT)
    before = len(harness.texts(FRED))
    await harness.send(FRED, "/mydata")  # the news of the mentor is not sent yet
    waiting = "\n".join(harness.texts(FRED)[before:])
    assert texts.MYDATA_WAITING.format(count=1) in waiting
    await drain(harness)
    await close_chat(harness, JO, ref)
    await drain(harness)
    await harness.press(FRED, texts.FEEDBACK_HELPED_LABELS["a_bit"])
    await harness.press(FRED, texts.FEEDBACK_NEXT_LABELS["training"])
    before = len(harness.texts(FRED))
    await harness.send(FRED, "/mydata")
    shown = "\n".join(harness.texts(FRED)[before:])
    assert texts.MYDATA_HEADER in shown
    assert f"{ref} at Portsmouth Jobcentre: {texts.REFERRAL_STATUS['closed']}" in shown
    assert f"Did it help? {texts.FEEDBACK_HELPED_LABELS['a_bit']}." in shown
    assert f"What next? {texts.FEEDBACK_NEXT_LABELS['training']}." in shown
    assert texts.MYDATA_FEEDBACK_KEPT in shown
    assert texts.MYDATA_WAITING.split(":")[0] not in shown  # nothing waits now


# --- a mentor is seen by the first name they chose, never their Telegram details -------

GIL, KIM = 7_700_014_131, 8_800_014_131
MENTOR_TELEGRAM = ("Kimberleyquist", "Zoltanovic", "kim_zq_real_account")


async def test_people_see_a_mentors_chosen_name_never_their_telegram_details(
    harness: Harness,
) -> None:
    first, last, username = MENTOR_TELEGRAM
    harness.person(KIM, first, last_name=last, username=username)
    await join_as_mentor(harness, KIM, "Kit", office_id=OFFICE)
    await request_mentor(harness, GIL, OFFICE)
    await drain(harness)
    await harness.press(KIM, texts.BTN_ACCEPT)
    await drain(harness)
    await harness.send(GIL, "hello")
    await harness.send(KIM, "Hi, I'm Kit.")
    await drain(harness)  # relays go through the outbox
    assert harness.last_text(GIL) == "Kit: Hi, I'm Kit."
    to_person = [
        str(call.params) for call in harness.emu.calls() if call.params.get("chat_id") == GIL
    ]
    assert to_person
    for detail in (*MENTOR_TELEGRAM, str(KIM)):
        assert not any(detail in params for params in to_person), detail
