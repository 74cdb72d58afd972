"""Every sentence the bot says, in one place (rules-bot's const.py style).

Plain text only (no parse mode), so nothing a person types can be read as markup.
Short sentences and everyday words: tests/test_texts.py checks each text scores at least
60 on the Flesch reading-ease scale. Values are filled in with str.format; a newcomer
looking for a sentence the bot said finds it here with one search.
"""

from __future__ import annotations

# ---------------------------------------------------------------------------
# Crisis: shown first whenever free text signals danger, then the chat goes on.
# ---------------------------------------------------------------------------
CRISIS = (
    "🚨 If you or someone with you is in danger right now, call 999.\n"
    "\n"
    "• Someone won't wake up, or has trouble breathing: call 999. "
    "Put them on their side. Use naloxone if you have it.\n"
    "• You feel you can't go on: call Samaritans free on 116 123, any time.\n"
    "• If you'd rather text: send SHOUT to 85258.\n"
    "• For urgent advice that is not an emergency: call NHS 111.\n"
    "\n"
    "This chat is not watched by a person, so we can't send help to you."
)
CRISIS_NOT_SAVED = "I have not saved that message. You can carry on whenever you are ready."

# ---------------------------------------------------------------------------
# Start and the privacy notice (nothing is kept until the person taps Continue).
# ---------------------------------------------------------------------------
WELCOME = (
    "Hello. This is First Step. 👋\n"
    "\n"
    "You can tell us about drink or drugs here without giving your name. "
    "We can point you to support, and you can ask to talk to a peer mentor. "
    "A peer mentor has been through it too."
)
NOTICE = (
    "Before you tell us anything:\n"
    "\n"
    "• We don't see your phone number. We don't keep your name or username.\n"
    "• We lock what you tell us with a key only this service has. You can wipe it any time "
    "with /forget.\n"
    "• {work_coach_policy}\n"
    "• This chat runs on Telegram. Telegram is a separate company. Chats with bots are "
    "stored on its servers and are not end-to-end encrypted.\n"
    "• Anyone who can open your Telegram can read this chat. /clear deletes the messages here.\n"
    "• Nobody watches this chat live. In danger, call 999. Samaritans: 116 123."
)
NOTICE_MORE = (
    "More about your data:\n"
    "\n"
    "• We keep a code made from your Telegram account, so we know you if you come back. "
    "Nobody can turn the code back into your account without our secret key.\n"
    "• We keep your answers for {inactive_days} days after your last message. "
    "If you ask for a mentor, we keep them until {after_close_days} days after that ends.\n"
    "• A mentor gets a reference code, never your name or Telegram details.\n"
    "• /forget wipes everything at once. Our backups lose it within {backup_days} days.\n"
    "• We count how many people use this service, but never who they are.\n"
    "• We never use what you say for research or anything else without asking you first."
)
NOTICE_DECLINED = (
    "That's fine. We have not kept anything. "
    "If you change your mind, send /start. In danger, call 999."
)
NOTICE_FIRST = (
    "Thank you. Before we keep anything, please read this first. "
    "I have not saved what you wrote. Once you tap Continue, you can send it again."
)
NOTICE_ACCEPTED = "✅ Thank you. You can stop at any time, and /forget wipes everything."
RESEND_NOW = (
    "Please send your message again now, and I'll keep it safe. Or tap Skip to go on without it."
)
WELCOME_BACK = "Welcome back. 👋"
OFFICE_PRESELECTED = "You came from a poster at {office}. I'll suggest that Jobcentre later."

# ---------------------------------------------------------------------------
# Main menu and help
# ---------------------------------------------------------------------------
MENU = "What would you like to do? Pick one below, or type /help."
MENU_TYPED = (
    "Thank you for writing. To tell us what's going on, tap the first button below. "
    "At the end you can write in your own words."
)
HELP = (
    "Here is what I can do:\n"
    "\n"
    "/menu – the main choices\n"
    "/tell – tell us what's going on\n"
    "/support – find support\n"
    "/mentor – talk to a peer mentor\n"
    "/jobcentre – find your nearest pilot Jobcentre\n"
    "/mydata – see what we keep about you\n"
    "/forget – wipe everything we keep\n"
    "/clear – delete the messages in this chat\n"
    "/cancel – stop what you're doing\n"
    "\n"
    "In danger now? Call 999. Samaritans: 116 123."
)
CANCELLED = "Okay, stopped. You can see what we keep with /mydata."

# ---------------------------------------------------------------------------
# Guards: what every update meets first
# ---------------------------------------------------------------------------
ONLY_TEXT = "Sorry, I can only read text and button presses. I didn't open or keep what you sent."
TOO_LONG = (
    "That message is too long for me. It has {length} characters, and I can take up to "
    "{limit}. Please make it shorter and send it again. I didn't save it."
)
SLOW_DOWN = (
    "You're sending messages very fast. For about a minute, I won't read what you send. "
    "Please wait, then send it again."
)
SLOW_DOWN_TOAST = "Please wait a moment, then try again."
EDITS_IGNORED = (
    "I can't see changes to a message once it's sent. "
    "If it matters, please send it again as a new message."
)
STALE_BUTTON = "That button is from an earlier step. Here is where you are now."
UNKNOWN_BUTTON = "Sorry, that button doesn't work any more."
UNKNOWN_COMMAND = "Sorry, I don't know that command. Here are the main choices."
NOT_UNDERSTOOD = "Sorry, I didn't follow that. Pick a choice below, or type /menu."
USE_BUTTONS = "Please tap a button for this question. You can write in your own words at the end."
SOMETHING_WENT_WRONG = (
    "Sorry, something went wrong on our side. What you told us before is safe, "
    "but I may have missed your last message. Please try again in a moment."
)

# ---------------------------------------------------------------------------
# Buttons (labels are short; each is also reachable by a command)
# ---------------------------------------------------------------------------
BTN_CONTINUE = "✅ Continue"
BTN_MORE = "ℹ️ Tell me more"
BTN_NOT_NOW = "Not now"
BTN_TELL = "💬 Tell us what's going on"
BTN_SUPPORT = "🧭 Find support"
BTN_MENTOR = "🤝 Talk to a peer mentor"
BTN_JOBCENTRE = "📍 Nearest pilot Jobcentre"
BTN_MYDATA = "🔒 My data"
BTN_HELP_NOW = "🚨 Help now"
BTN_MENU = "↩️ Menu"
BTN_SKIP = "Skip"
BTN_PREFER_NOT = "Prefer not to say"
BTN_DONE = "Done ➡️"
BTN_YES = "Yes"
BTN_NO = "No"
BTN_BACK = "⬅️ Back"

# ---------------------------------------------------------------------------
# Disclosure (every question skippable; "prefer not to say" everywhere)
# ---------------------------------------------------------------------------
DISCLOSE_INTRO = (
    "You can tell us as much or as little as you like. "
    "Every question has Skip and Prefer not to say. You can stop with /cancel."
)
Q_SUBSTANCES = "What are you dealing with? Tap all that fit, then Done."
Q_DURATION = "How long has it been a problem?"
Q_SUPPORT = "Do you get any support now? Tap all that fit, then Done."
Q_NEEDS = "What would help you most? Tap all that fit, then Done."
Q_OWN_WORDS = (
    "Is there anything you'd like to add in your own words? "
    "Type it below, or tap Skip. Please don't put names or addresses in it."
)
DISCLOSE_SAVED = "✅ Saved. Here is what you told us:\n\n{summary}"
DISCLOSE_NOTHING = "✅ Done. You didn't share anything, and that's fine."
DISCLOSE_NEXT = "What next? You can change your answers any time with /tell."
SUMMARY_LINE = "• {question}: {answer}"
SUMMARY_SKIPPED = "skipped"
SUMMARY_PREFER_NOT = "prefer not to say"
SUMMARY_OWN_WORDS = "Your own words"
PICK_ONE_FIRST = "Tap at least one, or Skip."

OPTION_LABELS = {
    # substances
    "alcohol": "Alcohol",
    "opioids": "Heroin or other opioids",
    "crack_cocaine": "Crack or cocaine",
    "cannabis": "Cannabis",
    "prescription": "Prescription medicines",
    "other": "Something else",
    # how long
    "under_1y": "Less than a year",
    "1_to_5y": "1 to 5 years",
    "over_5y": "More than 5 years",
    # support now
    "treatment_service": "A drug or alcohol service",
    "gp": "My GP",
    "mutual_aid": "A group like AA, NA or SMART",
    "none": "None right now",
    # what would help
    "peer_mentor": "Talking to a peer mentor",
    "treatment": "Getting treatment",
    "work": "Training, volunteering or work",
    "information": "Just information",
}
QUESTION_NAMES = {
    "substances": "What you're dealing with",
    "duration": "How long",
    "support": "Support now",
    "needs": "What would help",
}

# ---------------------------------------------------------------------------
# Support (signposting)
# ---------------------------------------------------------------------------
SUPPORT_INTRO = "🧭 Here is who can help. All of these are free and private."
SUPPORT_INTRO_MATCHED = (
    "🧭 Here is who can help, picked from what you told us. All of these are free and private."
)
SUPPORT_SAFETY_NET = "Any time, day or night:"
SUPPORT_NATIONAL = "Help for what you're dealing with:"
SUPPORT_LOCAL = "Near {area}:"
SUPPORT_LOCAL_UNCHECKED = (
    "(We haven't checked these details yet. Please look at the website first.)"
)
SUPPORT_SERVICE = "• {name}{contact}{hours}"
SUPPORT_NO_AREA = (
    "Want a service near you too? Find your nearest pilot Jobcentre, then ask here again."
)
SUPPORT_TELL_MORE = "Tell us a bit about what's going on, and this list gets more useful."
SUPPORT_CONTACT_PHONE = " – call {phone}"
SUPPORT_CONTACT_TEXT = " – {text}"
SUPPORT_TEXT_KEYWORD = "text {keyword} to {number}"
SUPPORT_TEXT_NUMBER = "text {number}"
SUPPORT_CONTACT_WEB = " – {url}"
SUPPORT_HOURS = " ({hours})"
SUPPORT_IPS = (
    "If you're in treatment and want work, ask your keyworker or work coach about "
    "Individual Placement and Support (IPS). It helps people in treatment find a job."
)

# ---------------------------------------------------------------------------
# Jobcentre finder
# ---------------------------------------------------------------------------
FINDER_ASK = (
    "Where are you? Type a postcode, like PO1 2AB, or just the first part, like PO1. "
    "A town name works too. Or tap the button to share your location. "
    "We use it to find offices, then forget it."
)
FINDER_BROWSE = "You can also pick a region from a list."
FINDER_CLOSED = "Okay, I've stopped the search."
FINDER_RESULTS = "📍 The nearest pilot Jobcentres to {place}:"
FINDER_RESULTS_HERE = "📍 These pilot Jobcentres are the nearest to you:"
FINDER_OFFICE = "{number}. {name}\n{address}\nAbout {miles} miles away\nMap: {map_url}"
FINDER_OFFICE_IN_REGION = "{number}. {name}\n{address}\nMap: {map_url}"
FINDER_CORRECTED = "I took that to mean {place}. If that's wrong, type it again."
FINDER_CHECK = (
    "Please check the office before you go. Our list is from DWP data and may be out of date."
)
FINDER_UNVERIFIED_AREA = (
    "We don't have a checked address for the office in {area}. These are the nearest ones we know."
)
FINDER_OUTSIDE = (
    "I'm sorry: the peer mentor pilot isn't near you yet. "
    "The nearest pilot Jobcentre is {name}, about {miles} miles away.\n"
    "Map: {map_url}"
)
FINDER_OUTSIDE_NEXT = (
    "You can still get free, private help, wherever you are. "
    "Tap Find support to see who can help now."
)
FINDER_NEXT = "Would you like a peer mentor at one of these?"
FINDER_REGIONS = "Pick a region:"
FINDER_REGION_OFFICES = "Pilot Jobcentres in {region}:"
FINDER_ERROR = {
    "empty": "Please type a postcode or a town, like PO1 2AB or Hull.",
    "too_long": "That's a bit long. Please type just a postcode or a town.",
    "not_recognised": (
        "Sorry, I couldn't read that as a postcode or a town. Try one like PO1 2AB, PO1 or Hull."
    ),
    "unknown_postcode": (
        "I couldn't find that postcode. Please check it, or type just the first part, like PO1."
    ),
    "unknown_place": (
        "I don't know that place yet. Try a postcode, or pick your region from the list."
    ),
    "too_broad": "That covers a big area. Please add a bit more, like PO1 or PO1 2.",
}
BTN_SHARE_LOCATION = "📍 Share my location"
BTN_REGIONS = "🗺️ Pick a region"
BTN_MENTOR_AT = "🤝 Mentor at {name}"
BTN_TRY_AGAIN = "🔎 Search again"
BTN_SUPPORT_NEAR = "🧭 Support near there"

# ---------------------------------------------------------------------------
# My data, forget, clear
# ---------------------------------------------------------------------------
MYDATA_HEADER = "🔒 This is everything we keep about you. Only you can see it here."
MYDATA_ALWAYS = (
    "• A code made from your Telegram account, so we know you when you come back.\n"
    "• Your chat number, locked, so we can send you a reply later.\n"
    "• Which step of the chat you are on."
)
MYDATA_OFFICE = "We keep the Jobcentre you chose: {office}."
MYDATA_ANSWERS = "What you told us:\n{summary}"
MYDATA_NO_ANSWERS = "You haven't told us anything about drink or drugs."
MYDATA_REFERRALS = "Your requests for a peer mentor:\n{lines}"
MYDATA_REFERRAL_LINE = "• {ref} at {office}: {status}"
MYDATA_FOOTER = "To wipe all of this now, tap the button or type /forget."
REFERRAL_STATUS = {
    "pending": "waiting for a mentor",
    "accepted": "a mentor is in touch",
    "closed": "finished",
    "withdrawn": "stopped",
}
FORGET_ASK = (
    "This wipes everything we keep about you: your answers, any request for a mentor, "
    "and the code we know you by. It can't be undone. Are you sure?"
)
FORGET_DONE = (
    "🗑️ Done. We wiped everything we kept about you.\n"
    "\n"
    "• Answers wiped: {disclosures}\n"
    "• Requests for a mentor stopped: {referrals}\n"
    "• Messages not yet sent, cancelled: {cancelled}\n"
    "\n"
    "The key that locked your data is gone, so no copy can be read. "
    "Our backups lose the last trace within {backup_days} days. "
    "This chat still shows in your Telegram app: you can delete it there, or use /clear."
)
FORGET_NOTHING = "We don't keep anything about you. There is nothing to wipe."
FORGET_KEPT = "Okay, nothing was wiped."
CLEAR_DONE = (
    "🧹 I removed the messages I could from this chat. "
    "Telegram only lets me remove ones from the last 48 hours. "
    "What we keep is not changed: use /forget for that."
)
BTN_FORGET = "🗑️ Wipe everything"
BTN_FORGET_YES = "Yes, wipe it all"
BTN_FORGET_NO = "No, keep it"

# ---------------------------------------------------------------------------
# Asking for a peer mentor (person side)
# ---------------------------------------------------------------------------

# ---------------------------------------------------------------------------
# Mentor side: join, cards, claim, relay, close
# ---------------------------------------------------------------------------

# ---------------------------------------------------------------------------
# Feedback after a referral closes
# ---------------------------------------------------------------------------

# ---------------------------------------------------------------------------
# Command list shown in Telegram's menu (setMyCommands)
# ---------------------------------------------------------------------------
COMMANDS: tuple[tuple[str, str], ...] = (
    ("start", "Start or restart"),
    ("menu", "Main choices"),
    ("help", "What I can do"),
    ("tell", "Tell us what's going on"),
    ("support", "Find support"),
    ("jobcentre", "Find a pilot Jobcentre near you"),
    ("mydata", "See what we keep"),
    ("forget", "Wipe everything we keep"),
    ("clear", "Delete the messages in this chat"),
    ("cancel", "Stop what you're doing"),
)
