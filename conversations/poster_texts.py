"""What a printed Jobcentre poster says (`firststep poster`, bot/poster.py), in British English.

Texts on paper, not said by the bot, so they are kept apart from conversations/texts.py;
they are catalog texts all the same (conversations/catalogs.py TEXT_MODULES): each is a
msgid, said through `_()`, scored for reading ease (tests/person/test_texts.py) and
checked against the promise ledger (docs/promises.md). After changing one, run
`make texts`.

Someone reads them standing at a Jobcentre wall: short sentences, everyday words.
"""

from __future__ import annotations

POSTER_HEADLINE = "Worried about drink or drugs?"
POSTER_ABOUT = (
    "First Step is a private chat for people who go to {office}. You can find support "
    "near you, or ask to talk to a peer mentor. A peer mentor has been through it too."
)
POSTER_PRIVATE = (
    "It is confidential. You don't need to give your name. {work_coach_policy} "
    "Before you tell us anything, the chat says what happens to what you write."
)
POSTER_LEAVE = "You can stop at any time. To wipe all you told us, send /forget."
POSTER_TELEGRAM = "Have Telegram? Scan this code with your phone camera."
POSTER_WEB = (
    "No Telegram? Scan this code to chat in your web browser. "
    "There is no app to get and no sign-up."
)
