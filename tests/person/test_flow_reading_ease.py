"""Reading ease of what a person is told about keeping, sharing and wiping (issue 14
items 5 to 9), as they see it: every message of a real journey through the Application,
with the operator's policy lines, a Jobcentre's name, a phone number in an unfinished
request and the answers they gave filled in, scored as a whole (at least 60, as
tests/person/test_texts.py asks of the catalog's templates)."""

from __future__ import annotations

from conversations import texts
from tests.support.harness import Harness
from tests.support.reading import LABEL_WORDS, MIN_READING_EASE, prose, reading_ease

EVE = 7_700_014_201
OFFICE = "portsmouth-arundel-street"
PHONE = "+447700900614"  # Ofcom's drama range: never a real line


async def test_what_a_person_is_told_about_their_data_reads_easily(harness: Harness) -> None:
    seen: dict[str, None] = {}

    def keep() -> None:  # /clear deletes what the chat shows: keep what was seen
        seen.update(dict.fromkeys(harness.texts(EVE)))

    await harness.send(EVE, f"/start jc_{OFFICE}")  # the notice, with the policy lines
    await harness.press(EVE, texts.BTN_CONTINUE)
    await harness.press(EVE, texts.BTN_MENTOR)
    await harness.press(EVE, texts.BTN_THIS_OFFICE)
    await harness.press(EVE, texts.BTN_CONTACT_PHONE)  # what sharing a number means
    harness.emu.tap_reply_button(EVE, texts.BTN_SEND_PHONE, phone_number=PHONE)
    await harness.settle()
    await harness.send(EVE, "/mydata")  # with the number of the unfinished request
    await harness.send(EVE, "/help")
    keep()
    await harness.send(EVE, "/clear")
    keep()
    await harness.send(EVE, "/forget")
    await harness.press(EVE, texts.BTN_FORGET_YES)  # FORGET_DONE
    keep()
    said = "\n".join(seen)
    assert PHONE in said and "Portsmouth Jobcentre" in said  # real values were filled in
    assert texts.FORGET_DONE.split("\n")[0] in said
    scored = [text for text in seen if len(prose(text).split()) > LABEL_WORDS]
    assert len(scored) >= 8
    low = {text: reading_ease(prose(text), "en_GB") for text in scored}
    assert {t: s for t, s in low.items() if s < MIN_READING_EASE} == {}
