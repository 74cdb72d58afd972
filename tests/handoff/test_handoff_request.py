"""Asking for a mentor, the person's side: from the finder, without an office, going
back, stale buttons, and stopping half way (a shared number does not linger)."""

from __future__ import annotations

import re
from typing import Any

import pytest

from conversations import texts
from conversations.person.ask_mentor import REQUEST_STEPS
from conversations.steps import Step
from storage.repositories.people import person_transaction
from storage.repositories.referrals import REF_PATTERN
from tests.support.dbscan import all_rows, cells_containing, files_containing, sqlite_files
from tests.support.handoff import close_chat, drain, join_as_mentor, services_of
from tests.support.harness import Harness

SAM = 8_800_900_001
ALEX, BEA, CAL, DAN = 7_700_900_001, 7_700_900_002, 7_700_900_003, 7_700_900_004
OFFICE = "portsmouth-arundel-street"


async def draft_of(harness: Harness, user_id: int) -> dict[str, object]:
    """The person's draft as it is stored (the record's own repr never shows a value)."""
    services = services_of(harness)
    async with person_transaction(
        services.database, services.ring, user_id, services.clock()
    ) as tx:
        assert tx.person is not None
        return tx.person.draft.to_stored()


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
    assert texts.FINDER_ASK_OFFICE in harness.all_text(BEA)
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


PHONE = "+447700900555"
FAY = 7_700_900_006


async def share_phone(harness: Harness, user_id: int) -> None:
    """A new person at the poster's office shares their number and stops at the time step."""
    await harness.send(user_id, f"/start jc_{OFFICE}")
    await harness.press(user_id, texts.BTN_CONTINUE)
    await harness.press(user_id, texts.BTN_MENTOR)
    await harness.press(user_id, texts.BTN_THIS_OFFICE)
    await harness.press(user_id, texts.BTN_CONTACT_PHONE)
    harness.emu.tap_reply_button(user_id, texts.BTN_SEND_PHONE, phone_number=PHONE)
    await harness.settle()
    assert harness.last_text(user_id) == texts.MENTOR_ASK_TIME
    assert PHONE in repr(await draft_of(harness, user_id))  # sealed, until confirm


async def press_menu(harness: Harness, user_id: int) -> None:
    await harness.press(user_id, texts.BTN_MENU)


async def start_again(harness: Harness, user_id: int) -> None:
    await harness.send(user_id, "/start")


async def poster_link(harness: Harness, user_id: int) -> None:
    await harness.send(user_id, f"/start jc_{OFFICE}")


async def menu_command(harness: Harness, user_id: int) -> None:
    await harness.send(user_id, "/menu")


async def find_jobcentre(harness: Harness, user_id: int) -> None:
    await harness.send(user_id, "/jobcentre")


async def forget_then_no(harness: Harness, user_id: int) -> None:
    await harness.send(user_id, "/forget")
    await harness.press(user_id, texts.BTN_FORGET_NO)


@pytest.mark.parametrize(
    "leave",
    [press_menu, start_again, poster_link, menu_command, find_jobcentre, forget_then_no],
    ids=lambda leave: leave.__name__,
)
async def test_leaving_the_request_unsent_drops_the_shared_number(
    harness: Harness, leave: Any
) -> None:
    await share_phone(harness, FAY)
    await leave(harness, FAY)
    assert await harness.state(FAY) not in REQUEST_STEPS
    draft = await draft_of(harness, FAY)
    assert PHONE not in repr(draft) and "mentor" not in draft
    assert draft.get("office") == OFFICE  # where they want help is kept
    # Asking again starts from the beginning: nothing of the old request comes back.
    await harness.send(FAY, "/mentor")
    await harness.press(FAY, texts.BTN_THIS_OFFICE)
    assert harness.last_text(FAY) == texts.MENTOR_ASK_CONTACT


async def test_a_look_aside_keeps_the_request_and_its_number(harness: Harness) -> None:
    """/help and /mydata do not leave the step: the request can still be sent as it was."""
    await join_as_mentor(harness, SAM, "Sam", office_id=OFFICE)
    await share_phone(harness, FAY)
    await harness.send(FAY, "/help")
    await harness.send(FAY, "/mydata")
    assert await harness.state(FAY) == Step.MENTOR_TIME
    await harness.press(FAY, texts.MENTOR_TIME_LABELS["any"])
    await harness.press(FAY, texts.BTN_SEND_REQUEST)
    # (The question they answered, above what they looked at, became the next step.)
    assert [shown for shown in harness.texts(FAY) if shown.startswith("✅ Sent.")]
    await drain(harness)
    card = harness.last_text(SAM)
    assert PHONE in card


# --------------------------------------------------------------------- urgent help

CRISIS_WORDS = "I took all my pills and my mate won't wake up"
MENTOR_STEPS = (
    Step.MENTOR_OFFICE,
    Step.MENTOR_SHARE,
    Step.MENTOR_CONTACT,
    Step.MENTOR_TIME,
    Step.MENTOR_CONFIRM,
    Step.WAITING_FOR_MENTOR,
    Step.WITH_MENTOR,
    Step.FEEDBACK_HELPED,
)
EVE = 7_700_900_005


async def reach_mentor_step(harness: Harness, user_id: int, step: Step) -> str | None:
    """Tap a new person to a step of the mentor request; returns the reference once made."""
    await harness.send(user_id, f"/start jc_{OFFICE}")
    await harness.press(user_id, texts.BTN_CONTINUE)
    if step == Step.MENTOR_SHARE:
        await harness.press(user_id, texts.BTN_TELL)
        await harness.press(user_id, texts.OPTION_LABELS["cannabis"])
        await harness.press(user_id, texts.BTN_DONE)
        await harness.send(user_id, "/menu")
    await harness.press(user_id, texts.BTN_MENTOR)
    taps = {
        Step.MENTOR_SHARE: [texts.BTN_THIS_OFFICE],
        Step.MENTOR_CONTACT: [texts.BTN_THIS_OFFICE],
        Step.MENTOR_TIME: [texts.BTN_THIS_OFFICE, texts.BTN_CONTACT_BOT],
    }
    to_confirm = [texts.BTN_THIS_OFFICE, texts.BTN_CONTACT_BOT, texts.MENTOR_TIME_LABELS["any"]]
    for label in taps.get(step, to_confirm if step != Step.MENTOR_OFFICE else []):
        await harness.press(user_id, label)
    ref = None
    if step in (Step.WAITING_FOR_MENTOR, Step.WITH_MENTOR, Step.FEEDBACK_HELPED):
        await harness.press(user_id, texts.BTN_SEND_REQUEST)
        found = re.search(REF_PATTERN, harness.last_text(user_id))
        assert found is not None
        ref = found.group(0)
    if step in (Step.WITH_MENTOR, Step.FEEDBACK_HELPED):
        await drain(harness)
        await harness.press(SAM, texts.BTN_ACCEPT)
        await drain(harness)
    if step == Step.FEEDBACK_HELPED:
        assert ref is not None
        await close_chat(harness, SAM, ref)
        await drain(harness)
    assert await harness.state(user_id) == step
    return ref


@pytest.mark.parametrize("step", MENTOR_STEPS, ids=str)
async def test_urgent_help_first_at_every_mentor_step(
    harness: Harness, database_url: str, step: Step
) -> None:
    await join_as_mentor(harness, SAM, "Sam", office_id=OFFICE)
    ref = await reach_mentor_step(harness, EVE, step)
    sent = harness.emu.user_sends(EVE, CRISIS_WORDS)
    await harness.settle()
    after = [m.text for m in harness.emu.bot_messages(EVE) if m.message_id > (sent.message_id or 0)]
    assert after and after[0] == texts.CRISIS
    assert await harness.state(EVE) == step
    if step == Step.WITH_MENTOR:
        # Talking to a person who can help: it is passed on, and still kept nowhere.
        await drain(harness)
        assert harness.last_text(SAM) == f"{ref}: {CRISIS_WORDS}"
    else:
        assert texts.CRISIS_NOT_SAVED in after
        assert CRISIS_WORDS not in harness.all_text(SAM)
    rows = await all_rows(harness.services.database)
    assert cells_containing(rows, CRISIS_WORDS) == []
    assert files_containing(sqlite_files(database_url), CRISIS_WORDS) == []
