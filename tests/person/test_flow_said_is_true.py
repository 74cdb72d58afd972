"""What the bot and its notice say about keys, mentors, confidentiality, /mydata and /clear
is what the code does (issue 14, items 5 to 9), shown through the real Application."""

from __future__ import annotations

import re
from pathlib import Path

from conversations import texts
from storage.crypto import KeyRing
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
