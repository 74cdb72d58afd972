"""What the web chat says where it differs from Telegram (conversations/door.py), in
British English: no Telegram, no /clear, the quick exit instead.

Kept apart from conversations/texts.py only for size; they are catalog texts all the same
(conversations/catalogs.py TEXT_MODULES): each is a msgid, said through `_()`, scored for
reading ease (tests/person/test_texts.py) and checked against the promise ledger
(docs/promises.md). After changing one, run `make texts`.
"""

from __future__ import annotations

# The notice, in place of texts.NOTICE.
NOTICE_WEB = (
    "Before you tell us anything:\n\n• We don't ask for your name or phone number.\n"
    "• We lock what you tell us with a key only this service has. You can wipe it any time "
    "with /forget.\n• {work_coach_policy}\n• {safeguarding_policy}\n"
    "• This page keeps nothing once you close the tab. On a shared phone, use a private "
    "window. Quick exit, or Esc twice, leaves at once.\n"
    "• Nobody watches this chat live. In danger, call 999. Samaritans: 116 123."
)
# /help, in place of texts.HELP.
HELP_WEB = (
    "Here is what I can do:\n\n/menu – the main choices\n/tell – tell us what's going on\n"
    "/support – find support\n/mentor – talk to a peer mentor\n"
    "/jobcentre – is your Jobcentre in the pilot?\n"
    "/about – who runs this service, and what a peer mentor does\n"
    "/mydata – see what we keep about you\n/forget – wipe everything we keep\n"
    "/cancel – stop what you're doing\nQuick exit (or Esc twice) – leave this page at once\n"
    "\nIn danger now? Call 999. Samaritans: 116 123."
)
# /clear: there is none on the web.
CLEAR_WEB = (
    "There is no /clear here. This page keeps nothing once you close the tab, "
    "and Quick exit leaves at once. What we keep is not changed: use /forget for that."
)
