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
# "Tell me more", in place of texts.NOTICE_MORE. A web chat has no account: its number is
# drawn at random when the page opens (conversations/door.py). What the bot sent is kept
# sealed for the page to replay (storage/models.py WebEvent); that chat's key lives in the
# main tables, so the main backups' clock is the one that counts for it.
NOTICE_MORE_WEB = (
    "More about your data:\n"
    "\n"
    "• This chat has a random number. We keep a code made from it, so we know this chat "
    "if you come back to it. Nobody can turn the code back into the number without our "
    "secret key.\n"
    "• We keep what the bot sent you here, locked, so the page can show it again if the "
    "connection drops.\n"
    "• We keep your answers for {inactive_days} days after your last message. "
    "If you ask for a mentor, we keep them until {after_close_days} days after that ends, "
    "or longer if you still write to us. A chat with a mentor that has no messages "
    "for {idle_days} days ends then.\n"
    "• If you give a phone number for a mentor but don't send the request, "
    "we delete the number after {draft_delay}.\n"
    "• A mentor gets a reference code, never your name. "
    "What we pass on to a mentor stays with them, even after /forget. "
    "If you give them your phone number, anyone with it could look you up in other apps.\n"
    "• /forget wipes everything at once. Our backups keep a locked copy. "
    "It is gone from them within {main_backup_days} days.\n"
    "• We count how many people use this service, but never who they are.\n"
    "• We never use what you say for research or anything else without asking you first."
)
# /mydata's first lines, in place of texts.MYDATA_ALWAYS.
MYDATA_ALWAYS_WEB = (
    "• A code made from this chat's random number, so we know this chat when you come back.\n"
    "• This chat's number, locked, so we can send you a reply later.\n"
    "• What the bot sent you here, locked, so the page can show it again.\n"
    "• A scrambled form of this tab's key, and of a code to come back, if you asked for one.\n"
    "• Which step of the chat you are on.\n"
    "• When you first came, when you said yes to our notice, and when you last wrote. "
    "We use these to know when to delete it all. They and the scrambled keys are the only "
    "things we keep that we don't show you in full here."
)
# After /forget, in place of texts.FORGET_DONE.
FORGET_DONE_WEB = (
    "🗑️ Done. We wiped everything we kept about you.\n"
    "\n"
    "• Answers wiped: {disclosures}\n"
    "• Requests for a mentor stopped: {referrals}\n"
    "• Messages not yet sent, cancelled: {cancelled}\n"
    "\n"
    "The key that locked your answers is gone. "
    "Our backups keep a copy of that key for up to {backup_days} days. "
    "The backups still hold your data, locked, with the code we knew you by, "
    "for up to {main_backup_days} days. "
    "Then the last trace is gone. "
    "What we passed on to a mentor, like your messages, stays with them. "
    "We can't wipe that. "
    "This page still shows the chat until you close the tab or use Quick exit."
)
# The mentor's side is Telegram; the person's is not: in place of texts.MENTOR_ABOUT,
# MENTOR_ASK_SHARE and MENTOR_ACCEPTED.
MENTOR_ABOUT_WEB = (
    "🤝 A peer mentor has been through drink or drug problems too. "
    "They work from a Jobcentre, but they are not your work coach. "
    "They see a reference code, never your name. "
    "What you send them stays with them, even after /forget."
)
MENTOR_ASK_SHARE_WEB = "What may the mentor see? They never see your name."
MENTOR_ACCEPTED_WEB = (
    "🤝 Good news. {name}, a peer mentor at {office}, has taken your request {ref}.\n"
    "\n"
    "Type a message here and I'll pass it on to {name}. "
    "{name} sees your reference code, never your name."
)
