"""Taking requests from the /referrals list, one button after another.

The list is one message with an Accept button per waiting request. Taking one from it
confirms that request in a message of its own and redraws the list as it stands now:
the other requests keep their buttons. A button for a request someone else took in the
meantime is answered kindly, and the list loses it. A request card (Accept and "Can't
take this") behaves as before. Nothing a mentor sees names the person.
"""

from __future__ import annotations

from telegram import InlineKeyboardButton

from conversations import keyboards, texts
from storage.repositories.outbox import Kind
from tests.support.handoff import drain, join_as_mentor, request_mentor
from tests.support.harness import Harness

OFFICE = "portsmouth-arundel-street"
SAM, JO = 8_800_950_001, 8_800_950_002
ALEX, BEA, CAL = 7_700_950_001, 7_700_950_002, 7_700_950_003
PERSON_NAME = "Alex"  # the harness's first name for every person
LIST_HEADING = texts.MENTOR_WAITING_LIST.split("{")[0]


def the_list(harness: Harness, chat: int, message_id: int) -> tuple[str, list[str]]:
    """What the /referrals list message reads now, and its buttons."""
    (found,) = [m for m in harness.emu.bot_messages(chat) if m.message_id == message_id]
    return found.text or "", found.button_texts


def last_toast(harness: Harness) -> str | None:
    return list(harness.emu.callback_answers().values())[-1].text


async def cards_for(harness: Harness, refs: list[str], mentor: int) -> dict[str, int]:
    """The message id of the mentor's card for each reference."""
    found = {}
    for message in harness.emu.bot_messages(mentor):
        for ref in refs:
            if (message.text or "").startswith(f"🤝 New request {ref}"):
                found[ref] = message.message_id
    assert sorted(found) == sorted(refs)
    return found


async def test_taking_requests_one_by_one_from_the_list(harness: Harness) -> None:
    await join_as_mentor(harness, SAM, "Sam", office_id=OFFICE)
    await join_as_mentor(harness, JO, "Jo", office_id=OFFICE)
    refs = [await request_mentor(harness, person, OFFICE) for person in (ALEX, BEA, CAL)]
    first, second, third = refs
    await drain(harness)
    sam_cards = await cards_for(harness, refs, SAM)
    jo_cards = await cards_for(harness, refs, JO)

    await harness.send(SAM, "/referrals")
    listed = harness.emu.last_bot_message(SAM)
    assert listed is not None and (listed.text or "").startswith(LIST_HEADING)
    list_id = listed.message_id
    accept = [texts.BTN_ACCEPT_REF.format(ref=ref) for ref in refs]
    assert listed.button_texts == accept

    # Sam takes the first: it is confirmed as Sam's; the others can still be taken.
    await harness.press(SAM, accept[0])
    assert last_toast(harness) == texts.TOAST_ACCEPTED
    text, buttons = the_list(harness, SAM, list_id)
    assert buttons == accept[1:]
    assert first not in text and second in text and third in text
    confirmation = harness.emu.last_bot_message(SAM)
    assert confirmation is not None and confirmation.message_id != list_id
    assert confirmation.text == texts.CARD_YOURS.format(ref=first)

    # And the second, from the same list.
    await harness.press(SAM, accept[1])
    assert last_toast(harness) == texts.TOAST_ACCEPTED
    assert the_list(harness, SAM, list_id)[1] == accept[2:]
    assert harness.last_text(SAM) == texts.CARD_YOURS.format(ref=second)

    # Jo takes the third from a card; Sam's list still shows its button, now stale.
    harness.emu.user_presses(JO, jo_cards[third], f"mc:acc:{third}")
    await harness.settle()
    assert the_list(harness, SAM, list_id)[1] == accept[2:]
    sent_before = len(harness.emu.bot_messages(SAM))
    await harness.press(SAM, accept[2])
    assert last_toast(harness) == texts.TOAST_TAKEN
    assert the_list(harness, SAM, list_id) == (texts.MENTOR_NONE_WAITING, [])
    assert len(harness.emu.bot_messages(SAM)) == sent_before  # no message, just the toast

    # Every card agrees: Sam has the first two, Jo the third.
    sent = (await drain(harness)).sent
    assert (Kind.ACCEPTED, ALEX) in sent and (Kind.ACCEPTED, BEA) in sent
    mine = {ref: texts.CARD_YOURS.format(ref=ref) for ref in refs}
    taken = {ref: texts.CARD_TAKEN.format(ref=ref) for ref in refs}
    for mentor, cards, expected in (
        (SAM, sam_cards, [mine[first], mine[second], taken[third]]),
        (JO, jo_cards, [taken[first], taken[second], mine[third]]),
    ):
        shown = [
            (m.text, m.button_texts)
            for ref in refs
            for m in harness.emu.bot_messages(mentor)
            if m.message_id == cards[ref]
        ]
        assert shown == [(text, []) for text in expected]
        assert PERSON_NAME not in harness.all_text(mentor)


async def test_a_card_still_reads_as_before(harness: Harness) -> None:
    """Accept on a request card turns that card into the confirmation, as it always has;
    the list sent before it loses that request's button when next pressed."""
    await join_as_mentor(harness, SAM, "Sam", office_id=OFFICE)
    refs = [await request_mentor(harness, person, OFFICE) for person in (ALEX, BEA)]
    await drain(harness)
    cards = await cards_for(harness, refs, SAM)
    card = next(m for m in harness.emu.bot_messages(SAM) if m.message_id == cards[refs[0]])
    assert card.button_texts == [texts.BTN_ACCEPT, texts.BTN_DECLINE]
    await harness.send(SAM, "/referrals")
    listed = harness.emu.last_bot_message(SAM)
    assert listed is not None
    harness.emu.user_presses(SAM, cards[refs[0]], f"mc:acc:{refs[0]}")
    await harness.settle()
    assert the_list(harness, SAM, cards[refs[0]]) == (texts.CARD_YOURS.format(ref=refs[0]), [])
    # Pressing the now-stale list button: kindly told, and the list catches up.
    await harness.press(SAM, texts.BTN_ACCEPT_REF.format(ref=refs[0]))
    assert last_toast(harness) == texts.TOAST_YOURS_ALREADY
    text, buttons = the_list(harness, SAM, listed.message_id)
    assert buttons == [texts.BTN_ACCEPT_REF.format(ref=refs[1])]
    assert refs[0] not in text


async def test_a_list_sent_before_list_buttons_had_their_own_data_works_the_same(
    harness: Harness,
) -> None:
    """A list the previous release sent carries `mc:acc:<ref>` (the card's data): it is
    told from a card by having no "Can't take this", and is redrawn, not replaced."""
    await join_as_mentor(harness, SAM, "Sam", office_id=OFFICE)
    refs = [await request_mentor(harness, person, OFFICE) for person in (ALEX, BEA)]
    await drain(harness)
    # The wire data exactly as the previous release wrote it (not built by today's code).
    old_list = keyboards.rows(
        InlineKeyboardButton(texts.BTN_ACCEPT_REF.format(ref=ref), callback_data=f"mc:acc:{ref}")
        for ref in refs
    )
    assert harness.app is not None
    sent = await harness.app.bot.send_message(SAM, LIST_HEADING, reply_markup=old_list)
    await harness.press(SAM, texts.BTN_ACCEPT_REF.format(ref=refs[0]))
    assert last_toast(harness) == texts.TOAST_ACCEPTED
    text, buttons = the_list(harness, SAM, sent.message_id)
    assert text.startswith(LIST_HEADING) and refs[1] in text and refs[0] not in text
    assert buttons == [texts.BTN_ACCEPT_REF.format(ref=refs[1])]
    assert harness.last_text(SAM) == texts.CARD_YOURS.format(ref=refs[0])


async def test_a_forged_list_press_on_another_message_leaves_that_message_alone(
    harness: Harness,
) -> None:
    """List data sent on a message without that button (no honest client does) is
    answered and acted on only as far as the mentor's rights go; the message stays."""
    await join_as_mentor(harness, SAM, "Sam", office_id=OFFICE)
    await join_as_mentor(harness, JO, "Jo", office_id="hull-britannia-house")
    ref = await request_mentor(harness, ALEX, OFFICE)
    await drain(harness)
    await harness.send(JO, "/referrals")
    shown = harness.emu.last_bot_message(JO)
    assert shown is not None
    harness.emu.forge_callback(JO, shown.message_id, f"mc:take:{ref}")  # not Jo's office
    await harness.settle()
    assert last_toast(harness) == texts.TOAST_NOT_YOURS
    assert the_list(harness, JO, shown.message_id) == (shown.text, shown.button_texts)
    await harness.send(SAM, "/help")
    help_message = harness.emu.last_bot_message(SAM)
    assert help_message is not None
    harness.emu.forge_callback(SAM, help_message.message_id, f"mc:take:{ref}")
    await harness.settle()
    assert last_toast(harness) == texts.TOAST_ACCEPTED  # Sam may take it: it is taken
    assert the_list(harness, SAM, help_message.message_id)[0] == help_message.text
    assert harness.last_text(SAM) == texts.CARD_YOURS.format(ref=ref)
