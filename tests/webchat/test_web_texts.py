"""What a web person is told is true for the web: a whole journey through the real web
server (notice and "Tell me more", /help, /mydata, a disclosure, a mentor request, the
mentor accepting on Telegram, messages both ways, /clear, /forget), and no text the page
receives talks about a Telegram account, Telegram details or a Telegram app the person
does not have. The mentor is on Telegram, and the texts the mentor gets still say so."""

from __future__ import annotations

import re
from typing import Any

from conversations import texts, web_texts
from storage.repositories.referrals import REF_PATTERN
from tests.support.handoff import drain, join_as_mentor
from tests.support.harness import Harness
from tests.support.webchat import WebPerson, web_client

OFFICE = "portsmouth-arundel-street"
SAM = 8_800_700_101


class RecordingPerson(WebPerson):
    """A tab that also remembers every text it was ever shown (edits and deletes too)."""

    def __init__(self, *args: Any) -> None:
        super().__init__(*args)
        self.ever: list[str] = []

    async def events(self, after: int) -> list[tuple[int, dict[str, Any]]]:
        got = await super().events(after)
        for _, event in got:
            for key in ("text", "toast"):
                if isinstance(event.get(key), str):
                    self.ever.append(event[key])
            for row in [*event.get("inline", []), *event.get("keyboard", [])]:
                for button in row:
                    label = button if isinstance(button, str) else button.get("text", "")
                    self.ever.append(label)
        return got


async def test_nothing_the_web_person_is_told_speaks_of_their_telegram(
    harness: Harness,
) -> None:
    await join_as_mentor(harness, SAM, "Sam", office_id=OFFICE)
    client = await web_client(harness)
    try:
        person = RecordingPerson(client, harness)
        await person.open_chat()
        await person.send(f"/start jc_{OFFICE}")
        await person.press(texts.BTN_MORE)
        await person.press(texts.BTN_CONTINUE)
        await person.send("/help")
        await person.press(texts.BTN_TELL)
        await person.press(texts.OPTION_LABELS["alcohol"])
        await person.press(texts.BTN_DONE)
        await person.press(texts.OPTION_LABELS["1_to_5y"])
        await person.press(texts.BTN_SKIP)
        await person.press(texts.BTN_SKIP)
        await person.send("I drink at weekends")
        await person.send("/mydata")
        await person.send("/mentor")
        await person.press(texts.BTN_THIS_OFFICE)
        await person.press(texts.BTN_SHARE_ANSWERS)
        await person.press(texts.BTN_CONTACT_BOT)
        await person.press(texts.MENTOR_TIME_LABELS["any"])
        await person.press(texts.BTN_SEND_REQUEST)
        found = re.search(REF_PATTERN, person.last_text())
        assert found is not None, person.last_text()
        await drain(harness)
        await harness.press(SAM, texts.BTN_ACCEPT)
        await drain(harness)
        await person.sync()
        await person.send("hello from the web")
        await drain(harness)
        await harness.send(SAM, "Hi, I'm Sam.")
        await drain(harness)
        await person.sync()
        await person.send("/clear")
        await person.send("/forget")
        await person.press(texts.BTN_FORGET_YES)
        await drain(harness)
        await person.sync()
    finally:
        await client.close()

    said = "\n".join(person.ever)
    telegram = [line for line in said.split("\n") if "telegram" in line.lower()]
    assert telegram == [], telegram
    # The journey reached each text that once spoke of the person's Telegram.
    for name in (
        "NOTICE_MORE_WEB",
        "HELP_WEB",
        "MYDATA_ALWAYS_WEB",
        "MENTOR_ABOUT_WEB",
        "MENTOR_ASK_SHARE_WEB",
        "CLEAR_WEB",
    ):
        head = str(getattr(web_texts, name)).split("{")[0][:60]
        assert head in said, name
    assert "Sam: Hi, I'm Sam." in said
    assert web_texts.MENTOR_ACCEPTED_WEB.format(name="Sam", office="", ref="").split(",")[0] in said
    assert web_texts.FORGET_DONE_WEB.split("\n")[0] in said
    assert web_texts.FORGET_DONE_WEB.split("}")[-1].strip()[-40:] in said
