"""Every sentence the bot says, in one place (rules-bot's const.py style), in British English.

Each text is its own gettext msgid: code says it through `_()` from conversations/i18n.py
when it is sent (`_(texts.MENU)`, `_(texts.NOTICE).format(…)`), so it comes out in the
person's language; a text with a count is a `Plural`, said with `_n(texts.X, n)`.
Every language's catalog (conversations/locales/<locale>/LC_MESSAGES/firststep.po) lists
these texts as msgids: after changing or adding one here, run `make texts`.

Plain text only (no parse mode), so nothing a person types can be read as markup.
Short sentences and everyday words: tests/person/test_texts.py checks each text scores at
least 60 on the Flesch reading-ease scale. Values are filled in with str.format; a
whole sentence is one text (code never joins pieces of a sentence). A newcomer looking
for a sentence the bot said finds it here, and in each catalog, with one search.
"""

from __future__ import annotations

from conversations.i18n import Plural

# ---------------------------------------------------------------------------
# Crisis: shown first whenever free text signals danger, then the chat goes on.
# Which reply for which message: conversations/safety/replies.py. Every number here has
# a source (conversations/safety/README.md, "Where each number comes from"): 999, 116 123,
# SHOUT 85258 and NHS 111 from /work/shared/data (SOURCES.md, services.csv); the others
# from the pages named next to them.
# ---------------------------------------------------------------------------
# Urgent: danger now. What to do for someone who has overdosed: 999, on their side,
# naloxone, stay with them (NHS and UK drug-service first-aid guidance).
CRISIS = (
    "🚨 If you or someone with you is in danger right now, call 999.\n"
    "\n"
    "• Someone won't wake up, or has trouble breathing: call 999. "
    "Put them on their side. Use naloxone if you have it. Stay with them until help comes.\n"
    "• You feel you can't go on: call Samaritans free on 116 123, any time.\n"
    "• If you'd rather text: send SHOUT to 85258.\n"
    "• For urgent advice that is not an emergency: call NHS 111.\n"
    "\n"
    "This chat is not watched by a person, so we can't send help to you."
)
# Urgent, a threat to life from another person. National Domestic Abuse Helpline: Refuge
# (refuge.org.uk, "Freephone 24-Hour National Domestic Abuse Helpline: 0808 2000 247").
# Silent Solution, 999 then 55: Thames Valley Police notice; Isle of Wight Council,
# "Immediate danger" (iow.gov.uk).
CRISIS_THREAT = (
    "🚨 If someone is hurting you or you are in danger from them, call 999 now.\n"
    "\n"
    "• If you can't speak on the call, stay on the line. When you are asked, press 55. "
    "The police will know you need help.\n"
    "• National Domestic Abuse Helpline: call free on 0808 2000 247, day or night.\n"
    "• You feel you can't go on: call Samaritans free on 116 123.\n"
    "\n"
    "This chat is not watched by a person, so we can't send help to you."
)
# Urgent, a child at risk. NSPCC: "If you think a child is in immediate danger, call the
# police on 999, or call us on 0808 800 5000" (nspcc.org.uk, "Report abuse"). Childline
# 0800 1111, free, for anyone under 19 (NSPCC's Childline column in the Sunderland Echo,
# 2022; learning.nspcc.org.uk, "Childline": up to the age of 19).
CRISIS_CHILD = (
    "🚨 If a child is in danger, or has taken drugs, drink or medicine, call 999 now. "
    "Stay with them until help comes.\n"
    "\n"
    "• Worried about a child: call the NSPCC on 0808 800 5000.\n"
    "• Are you under 19? Call Childline free on 0800 1111.\n"
    "• For urgent advice that is not an emergency: call NHS 111.\n"
    "\n"
    "This chat is not watched by a person, so we can't send help to you."
)
CRISIS_NOT_SAVED = "I have not saved that message. You can carry on whenever you are ready."
# Check-in: may signal danger. Never blocks: the chat goes on under it.
CHECKIN = "Are you safe right now?"
BTN_CHECKIN_HELP = "🆘 I need help now"
BTN_CHECKIN_OK = "I'm OK"
CHECKIN_OK = (
    "Thank you for telling me. If that changes, tap 🆘 Urgent help in the menu, or call 999."
)
# After "I'm OK", to someone who has started: what they wrote was not kept.
CHECKIN_SEND_AGAIN = (
    "I did not keep the message you sent. If you want it kept, send it again and I will keep it."
)

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
    "Before you tell us anything:\n\n"
    "• We don't see your phone number. We don't keep your name or username.\n"
    "• We lock what you tell us with a key only this service has. You can wipe it any time "
    "with /forget.\n• {work_coach_policy}\n• {safeguarding_policy}\n"
    "• This chat runs on Telegram. Telegram is a separate company. Chats with bots are "
    "stored on its servers and are not end-to-end encrypted.\n"
    "• Anyone who can open your Telegram can read this chat. /clear deletes up to 500 "
    "messages here, but only ones from the last 48 hours.\n"
    "• Nobody watches this chat live. In danger, call 999. Samaritans: 116 123."
)
NOTICE_MORE = (
    "More about your data:\n"
    "\n"
    "• We keep a code made from your Telegram account, so we know you if you come back. "
    "Nobody can turn the code back into your account without our secret key.\n"
    "• We keep your answers for {inactive_days} days after your last message. "
    "If you ask for a mentor, we keep them until {after_close_days} days after that ends, "
    "or longer if you still write to us. A chat with a mentor that has no messages "
    "for {idle_days} days ends then.\n"
    "• If you give a phone number for a mentor but don't send the request, "
    "we delete the number after {draft_delay}.\n"
    "• A mentor gets a reference code, never your name or Telegram details. "
    "What we pass on to a mentor stays in their Telegram, even after /forget. "
    "If you give them your phone number, anyone with it could look you up in other apps.\n"
    "• /forget wipes everything at once. After {backup_days} days, nobody can read it, "
    "not even from our backups. The last locked copy is gone from them within "
    "{main_backup_days} days.\n"
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
    "Here is what I can do:\n\n/menu – the main choices\n/tell – tell us what's going on\n"
    "/support – find support\n/mentor – talk to a peer mentor\n"
    "/jobcentre – is your Jobcentre in the pilot?\n"
    "/about – who runs this service, and what a peer mentor does\n"
    "/mydata – see what we keep about you\n/forget – wipe everything we keep\n"
    "/clear – delete messages here from the last 48 hours\n"
    "/cancel – stop what you're doing\n\nIn danger now? Call 999. Samaritans: 116 123."
)
CANCELLED = "Okay, stopped. You can see what we keep with /mydata."

# ---------------------------------------------------------------------------
# About this service. Each sentence in ABOUT_FACTS says one fact of
# storage/directory/about.csv (keyed by its fact_id; tests/person/test_about.py checks
# each against its source). Facts the operator must confirm are settings, said as set.
# ---------------------------------------------------------------------------
ABOUT_HEADING = "ℹ️ About this service"
ABOUT_FACTS = {
    "runs_pilot": ("The peer mentor pilot is run by the Department for Work and Pensions (DWP)."),
    "providers": (
        "Four groups deliver it: Change Grow Live, The Growth Company, Inclusion and The Wallich."
    ),
    "mentor_lived_experience": (
        "A peer mentor has been through drink or drug problems too. "
        "They give you one-to-one support."
    ),
    "mentor_helps_with": (
        "They help you talk about drink or drugs without fear, find help with it, "
        "and build skills for training, volunteering and work."
    ),
    "referral_route": (
        "Your work coach at your Jobcentre can refer you to a mentor. "
        "Other groups can refer you too."
    ),
    "started": "The pilot opened in May 2023, in 40 Jobcentres.",
    "evaluated": "DWP's report on it covers April 2023 to February 2025.",
}
# The order of the paragraphs: fact ids, and the operator's settings by name.
ABOUT_PARAGRAPHS = (
    ("runs_pilot", "providers", "operator_line"),
    ("mentor_lived_experience", "mentor_helps_with", "mentor_employer"),
    ("voluntary_policy", "referral_route"),
    ("started", "evaluated", "pilot_end"),
)
BTN_ABOUT = "ℹ️ About this service"

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
BTN_JOBCENTRE = "📍 Your Jobcentre"
BTN_MYDATA = "🔒 My data"
BTN_URGENT_HELP = "🆘 Urgent help"
BTN_MENU = "↩️ Menu"
BTN_SKIP = "Skip"
BTN_PREFER_NOT = "Prefer not to say"
BTN_DONE = "Done ➡️"

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
SUMMARY_PREFER_NOT = "prefer not to say"
SUMMARY_OWN_WORDS = "Your own words"
PICK_ONE_FIRST = "Tap at least one, or Skip."
OPTION_TICKED = "✓ {label}"

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
# Support (signposting). Each number says what a call costs; a number found only in
# other lists says so; a service with no number or website says what to do instead.
# ---------------------------------------------------------------------------
SUPPORT_INTRO = "🧭 Here is who can help. Each number says what a call costs."
SUPPORT_INTRO_MATCHED = (
    "🧭 Here is who can help, picked from what you told us. Each number says what a call costs."
)
SUPPORT_SAFETY_NET = "Any time, day or night:"
SUPPORT_NATIONAL = "Help for what you're dealing with:"
SUPPORT_LOCAL = "Near {area}:"
SUPPORT_LOCAL_UNCHECKED = (
    "We could not check these details with the service, so please check first."
)
SUPPORT_LOCAL_NONE = (
    "We don't know a local drug and alcohol service for {area}. "
    "Ask your GP, or call FRANK on {phone} ({cost}). FRANK can tell you what is near you."
)
SUPPORT_SERVICE = "• {name} – {ways}"
SUPPORT_SERVICE_HOURS = "• {name} – {ways} ({hours})"
SUPPORT_NO_AREA = (
    "Want help near you too? Tell us your Jobcentre or where you live, then ask here again."
)
SUPPORT_TELL_MORE = "Tell us a bit about what's going on, and this list gets more useful."
# The ways to reach a service, joined by " – " into {ways} above.
SUPPORT_CALL = "call {phone} ({cost})"
SUPPORT_CALL_OFFICE = "office line {phone} ({cost})"
SUPPORT_TEXT_KEYWORD = "text {keyword} to {number}"
SUPPORT_TEXT_NUMBER = "text {number}"
SUPPORT_ASK_GP_OR_FRANK = "ask your GP, or call FRANK on {phone} ({cost})"
SUPPORT_COST = {
    "free": "free to call",
    "standard_rate": "costs the same as a normal call",
}
# Notes under a service's line.
SUPPORT_OFFICE_LINE = "This is their office line for general questions. It is not a helpline."
SUPPORT_SECONDARY = "We found this number only in other lists, so please check it first."
SUPPORT_IPS = (
    "If you're in treatment and want work, ask your keyworker or work coach about "
    "Individual Placement and Support (IPS). It helps people in treatment find a job."
)
SUPPORT_MORE_TOPICS = "We can also point you to help with these:"
SUPPORT_TOPIC_LABELS = {
    "benefits": "💷 Benefits and sanctions",
    "legal": "⚖️ Drugs and the law",
    "families": "👪 Family and friends",
    "naloxone": "💉 Naloxone",
    "gambling": "🎲 Gambling",
    "domestic_abuse": "🏠 Abuse at home",
}
SUPPORT_TOPIC_INTRO = {
    "benefits": "Help and advice if you get a sanction, or with benefits, debt or money:",
    "legal": "Advice on drugs and the law, for you or your family:",
    "families": "Support for family and friends of someone who drinks or uses drugs:",
    "naloxone": (
        "Naloxone can save a life in an opioid overdose, like one from heroin. "
        "Drug services give free naloxone kits without a prescription. "
        "Some pharmacies with a needle exchange give them too."
    ),
    "gambling": "Help with gambling, yours or someone else's:",
    "domestic_abuse": "If someone close to you hurts, scares or controls you:",
}

# ---------------------------------------------------------------------------
# Your Jobcentre: which one the person goes to, or else where they live.
# Who is in the pilot is decided by their Jobcentre or their council area, never by
# distance; a distance is given only from a postcode or a shared location.
# ---------------------------------------------------------------------------
FINDER_ASK_OFFICE = (
    "Which Jobcentre do you go to? Type its name, like Bootle, or pick your area below. "
    "The peer mentor pilot works through these Jobcentres."
)
FINDER_ASK = (
    "Where do you live? Type a postcode, like PO1 2AB, or just the first part, like PO1. "
    "A town name works too. Or tap the button to share your location. "
    "We use it to find your area, then forget it."
)
FINDER_BROWSE = "If you know your Jobcentre, you can pick it from the list instead."
FINDER_CLOSED = "Okay, I've stopped the search."
FINDER_AREA_OFFICES = "Pilot Jobcentres in {area}. Which one do you go to?"
FINDER_WHICH_OFFICE = "I found more than one. Which Jobcentre do you go to?"
FINDER_YOUR_OFFICE = "📍 {name}\n{address}\nMap: {map_url}"
FINDER_OFFICE_IN_PILOT = (
    "This Jobcentre is in {authority}, one of the areas in the peer mentor pilot."
)
FINDER_ROUTE_OFFICE = (
    "In the pilot, your work coach at this Jobcentre can refer you to a peer mentor. "
    "You can also ask for one here."
)
FINDER_IN_PILOT = "✅ {authority} is in the peer mentor pilot. Its pilot Jobcentres:"
FINDER_ROUTE_AREA = (
    "In the pilot, your work coach refers you at the Jobcentre where you sign on. "
    "If you have a work coach, pick the Jobcentre where you see them."
)
FINDER_OFFICE = "{number}. {name}\n{address}\nMap: {map_url}"
FINDER_OFFICE_MEASURED = "{number}. {name}\n{address}\n{distance}\nMap: {map_url}"
FINDER_MILES = Plural(
    "About {miles} mile away, as the crow flies", "About {miles} miles away, as the crow flies"
)
FINDER_CORRECTED = "I took that to mean {place}, in {authority}. If that's wrong, type it again."
FINDER_CHECK = (
    "Please check the office before you go. Our list is from DWP data and may be out of date."
)
FINDER_UNVERIFIED_AREA = (
    "We don't have a checked address for the Jobcentre in that part of {authority}. "
    "These are the pilot Jobcentres we know there."
)
FINDER_WHICH_PLACE = "{place} is in more than one council area. Which one do you mean?"
FINDER_WHICH_AREA = (
    "Your postcode area crosses a council border. Which council area do you live in? "
    "Or type your full postcode."
)
FINDER_WHICH_AREA_HERE = "You are near a council border. Which council area do you live in?"
FINDER_DID_YOU_MEAN = "I couldn't find that name. Did you mean one of these?"
FINDER_OUTSIDE = (
    "{authority} is not in the peer mentor pilot. The pilot runs only in some areas, "
    "so we can't ask a peer mentor for you there."
)
FINDER_OUTSIDE_NEAREST = "Just so you know, the nearest pilot Jobcentre is {name}:\n{address}"
FINDER_OUTSIDE_NEAREST_MEASURED = (
    "Just so you know, the nearest pilot Jobcentre is {name}:\n{address}\n{distance}"
)
FINDER_OUTSIDE_SIGN_ON = (
    "If you sign on at a Jobcentre in the pilot, pick it from the list instead."
)
FINDER_OUTSIDE_NEXT = (
    "You can still get help where you live. Tap Find support to see who can help, "
    "and how to find a service near you."
)
FINDER_NEXT = "Would you like a peer mentor at one of these?"
FINDER_NEXT_OFFICE = "Would you like to ask for a peer mentor there?"
FINDER_REGIONS = "Pick your area:"
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
        "I don't know that place. Try a postcode, or pick your Jobcentre from the list."
    ),
    "too_broad": "That covers a big area. Please add a bit more, like PO1 or PO1 2.",
    "no_office": (
        "I couldn't find a Jobcentre or a place with that name. "
        "Please check the spelling, or pick your area below."
    ),
}
BTN_SHARE_LOCATION = "📍 Share my location"
BTN_REGIONS = "📋 Pilot Jobcentres"
BTN_DONT_KNOW = "❓ I don't know my Jobcentre"
BTN_OFFICE = "📍 {name}"
BTN_PLACE_IN = "{place}, {authority}"
BTN_MENTOR_AT = "🤝 Mentor at {name}"
BTN_TRY_AGAIN = "🔎 Search again"
BTN_SUPPORT_NEAR = "🧭 Support near there"
BTN_SUPPORT_WHERE_I_LIVE = "🧭 Find support"

# ---------------------------------------------------------------------------
# My data, forget, clear
# ---------------------------------------------------------------------------
MYDATA_HEADER = "🔒 This is everything we keep about you. Only you can see it here."
MYDATA_ALWAYS = (
    "• A code made from your Telegram account, so we know you when you come back.\n"
    "• Your chat number, locked, so we can send you a reply later.\n"
    "• Which step of the chat you are on.\n"
    "• When you first came, when you said yes to our notice, and when you last wrote. "
    "We use these to know when to delete it all. They are the only things we keep "
    "that we don't show you in full here."
)
MYDATA_OFFICE = "We keep the Jobcentre you chose: {office}."
MYDATA_ANSWERS = "What you told us:\n{summary}"
MYDATA_NO_ANSWERS = "You haven't told us anything about drink or drugs."
MYDATA_TICKED = "Choices you ticked but haven't saved yet: {choices}"
MYDATA_REQUEST = "A request for a peer mentor that you haven't sent yet:\n{lines}"
MYDATA_REQUEST_SHARE = "• The mentor sees: {share}"
MYDATA_REQUEST_CONTACT = "• How they get in touch: {contact}"
MYDATA_REQUEST_PHONE = (
    "• Your phone number: {phone}. If you don't send the request within {delay}, we delete it."
)
MYDATA_REQUEST_TIME = "• Best time: {time}"
MYDATA_REFERRALS = "Your requests for a peer mentor:\n{lines}"
MYDATA_REFERRAL_LINE = "• {ref} at {office}: {status}"
MYDATA_REFERRAL_DETAILS = (
    "  The mentor sees: {share}. How they get in touch: {contact}. Best time: {time}."
)
MYDATA_FEEDBACK = "  How it went, you told us: {answers}"
MYDATA_FEEDBACK_ANSWER = "{question} {answer}."
MYDATA_FEEDBACK_QUESTIONS = {"helped": "Did it help?", "next": "What next?"}
MYDATA_FEEDBACK_KEPT = (
    "We keep what you told us about how it went, with the office and dates of the request, "
    "for the pilot's report. After /forget we keep these too, but with no link to you."
)
MYDATA_WAITING = (
    "Messages waiting to be passed on: {count}. We keep each one, locked, until it is sent."
)
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
    "The key that locked your data is gone. "
    "Our backups keep a copy of that key for up to {backup_days} days. "
    "After that, nobody can read your data. "
    "The backups still hold it, locked, with the code we knew you by, "
    "for up to {main_backup_days} days. "
    "Then the last trace is gone. "
    "What we passed on to a mentor, like your messages, stays in their Telegram. "
    "We can't wipe that. "
    "This chat still shows in your Telegram app: you can delete it there. "
    "/clear removes only up to 500 messages from the last 48 hours."
)
FORGET_NOTHING = "We don't keep anything about you. There is nothing to wipe."
FORGET_KEPT = "Okay, nothing was wiped."
# Telegram lets a bot delete only messages under 48 hours old; /clear looks back over
# at most CLEAR_SPAN (500) messages (conversations/person/privacy.py).
CLEAR_DONE = (
    "🧹 I removed what I could from this chat: up to 500 messages, "
    "and only ones from the last 48 hours. Telegram won't let me remove older ones. "
    "To remove the rest, delete the whole chat in your Telegram app. "
    "What we keep is not changed: use /forget for that."
)
BTN_FORGET = "🗑️ Wipe everything"
BTN_FORGET_YES = "Yes, wipe it all"
BTN_FORGET_NO = "No, keep it"

# ---------------------------------------------------------------------------
# Asking for a peer mentor (person side)
# ---------------------------------------------------------------------------
MENTOR_ABOUT = (
    "🤝 A peer mentor has been through drink or drug problems too. "
    "They work from a Jobcentre, but they are not your work coach. "
    "They see a reference code, never your name or Telegram details. "
    "What you send them stays in their Telegram, even after /forget."
)
MENTOR_FIND_OFFICE_FIRST = (
    "First, which Jobcentre do you go to? Peer mentors work from Jobcentres in the pilot."
)
MENTOR_ASK_OFFICE = "Shall we ask for a mentor at {office}?"
MENTOR_SHARE_PREVIEW = 'If you pick "My answers too", the mentor sees this:\n\n{summary}'
MENTOR_ASK_SHARE = "What may the mentor see? They never see your name or Telegram details."
MENTOR_ASK_CONTACT = (
    "How should the mentor get in touch? The easy way is here, in this chat. "
    "Your number stays hidden. Or you can share your phone number, so they can call you."
)
MENTOR_ASK_PHONE = (
    "Tap the button below to share your number. It goes only to the mentors, with your "
    "request, and we delete our copy once it is sent. Once they have it, "
    "/forget can't take it back. Anyone with your number could look you up in other apps. "
    "Changed your mind? Tap Talk here instead."
)
MENTOR_PHONE_USE_BUTTON = (
    "Please use the button below to share your number, or tap Talk here instead. "
    "I didn't keep what you typed."
)
MENTOR_PHONE_THANKS = (
    "Thanks. The mentor will get your number with your request. "
    "If you don't send the request within {delay}, we delete your number."
)
# Back after an unfinished request lost its phone number (storage/repositories/request_drafts.py).
MENTOR_LAPSED = (
    "Welcome back. You didn't finish asking for a peer mentor, "
    "so after {delay} we deleted the phone number you gave us. "
    "Your other choices are still here. Let's carry on."
)
MENTOR_LAPSED_RESTART = (
    "Welcome back. You didn't finish asking for a peer mentor, "
    "so after {delay} we deleted what you gave us for it, and any phone number too. "
    "Let's start again."
)
MENTOR_LAPSED_ASK = "Your request for a peer mentor is not finished yet. Shall we carry on?"
BTN_CARRY_ON = "Carry on"
MENTOR_ASK_TIME = "When suits you best? Mentors work weekdays, in office hours."
MENTOR_CONFIRM = (
    "Here is your request:\n"
    "\n"
    "• Jobcentre: {office}\n"
    "• The mentor sees: {share}\n"
    "• How they get in touch: {contact}\n"
    "• Best time: {time}\n"
    "\n"
    "Shall I send it?"
)
MENTOR_SHARE_LABELS = {
    "none": "a reference code only",
    "categories": "a reference code and your answers",
}
MENTOR_CONTACT_LABELS = {
    "bot": "here, in this chat",
    "phone": "a phone call",
}
MENTOR_TIME_LABELS = {
    "morning": "Mornings",
    "afternoon": "Afternoons",
    "any": "Any time",
}
MENTOR_SENT = (
    "✅ Sent. Your reference is {ref}.\n"
    "\n"
    "The mentors at {office} have your request. If none of them takes it within "
    "{reminder}, we remind them. After {widen}, we ask mentors across {area} too.\n"
    "\n"
    "We'll tell you here when a mentor takes it. You can stop your request at any time."
)
MENTOR_SENT_AREA = (
    "✅ Sent. Your reference is {ref}.\n"
    "\n"
    "No mentor at {office} is free right now, so we sent it to mentors across {area}. "
    "If none of them takes it within {widen}, we ask the pilot team to help.\n"
    "\n"
    "We'll tell you here when a mentor takes it. You can stop your request at any time."
)
MENTOR_SENT_TEAM = (
    "✅ Saved. Your reference is {ref}.\n"
    "\n"
    "I'm sorry: no mentor in {area} is free right now. We've asked the pilot team to "
    "find one. This may take a few days. We'll tell you here when a mentor takes it.\n"
    "\n"
    "While you wait, the services under Find support can help now."
)
MENTOR_SENT_NOBODY = (
    "✅ Saved. Your reference is {ref}.\n"
    "\n"
    "I'm sorry: no mentor in {area} is free right now. A mentor can take your request as "
    "soon as one is free, and we'll tell you here.\n"
    "\n"
    "While you wait, the services under Find support can help now."
)
MENTOR_WAITING = (
    "Your request {ref} is waiting for a mentor at {office}. "
    "We'll tell you here when one takes it. Until then, I can't pass on messages."
)
MENTOR_WITHDRAWN = (
    "Okay, I've stopped request {ref}. Nobody will contact you about it. "
    "You can ask again any time with /mentor."
)
MENTOR_ALREADY_ENDED = "That request has already ended. You can ask again any time with /mentor."
MENTOR_OFFICE_GONE = "Sorry, that Jobcentre can't take requests now. Let's find another one."
MENTOR_WITH = (
    "You're in touch with {name}, your peer mentor (request {ref}). "
    "Type a message here and I'll pass it on."
)
MENTOR_WITH_PROMPT = "Type a message here and I'll pass it on to your mentor."
MENTOR_ACCEPTED = (
    "🤝 Good news. {name}, a peer mentor at {office}, has taken your request {ref}.\n"
    "\n"
    "Type a message here and I'll pass it on to {name}. "
    "{name} sees your reference code, never your name or Telegram details."
)
MENTOR_ACCEPTED_PHONE = (
    "🤝 Good news. {name}, a peer mentor at {office}, has taken your request {ref}. "
    "{name} will call you on the number you shared.\n"
    "\n"
    "You can also type a message here and I'll pass it on."
)
RELAY_SENT_FIRST = "✓ Sent to {name}. Their replies will show up here."
RELAY_FROM_MENTOR = "{name}: {text}"
RELAY_FAILED = (
    "Sorry, I couldn't pass that on to {name} just now. Please try again in a few minutes."
)
RELAY_ENDED = (
    "That chat has ended, so I can't pass on messages. You can ask for a mentor again with /mentor."
)
# Under a relayed message sent again after a crash that may have sent it once already.
RELAY_SENT_AGAIN = "(Sent again, in case it didn't arrive)"
RELAY_TOO_LONG = "That message is a bit long to pass on. Please keep it under {limit} characters."
RELAY_NO_LOCATION = (
    "I don't pass on locations, so {name} won't see it, and I didn't keep it. "
    "Type a message here and I'll pass it on to {name}."
)
END_CHAT_ASK = (
    "End your chat with {name}? We'll tell {name} it has ended. "
    "You can ask for a mentor again later."
)
END_CHAT_DONE = "Okay, your chat with {name} has ended."
WITHDRAW_TAKEN_ASK = (
    "{name} has already taken your request {ref}, so stopping it would end your chat. "
    "End your chat with {name}? We'll tell {name} it has ended."
)
LADDER_REMINDED = (
    "An update on {ref}: no mentor has taken it yet, so we've reminded the mentors at "
    "{office}. While you wait, the services under Find support can help now."
)
LADDER_WIDENED = (
    "An update on {ref}: we've now asked mentors across {area} too. "
    "I'm sorry it's taking a while. The services under Find support can help now."
)
LADDER_TEAM = (
    "An update on {ref}: we've asked the pilot team to find you a mentor. "
    "We'll tell you here. The services under Find support can help now."
)
LADDER_EXPIRED = (
    "An update on {ref}: I'm sorry, no mentor was free to take it in {waited}, "
    "so I've closed it. Nobody will contact you about it. "
    "You can ask again any time with /mentor. The services under Find support can help now."
)
LADDER_MENTOR_LEFT = (
    "An update on {ref}: your mentor can't carry on. I'm sorry. "
    "We've asked other mentors in {area}, and we'll tell you here when one takes it."
)
# A settings delay in plain words ("40 minutes", "4 hours", "2 days").
DELAY_MINUTES = Plural("{n} minute", "{n} minutes")
DELAY_HOURS = Plural("{n} hour", "{n} hours")
DELAY_DAYS = Plural("{n} day", "{n} days")
BTN_THIS_OFFICE = "Yes, this one"
BTN_OTHER_OFFICE = "🔎 Pick another"
BTN_SHARE_NOTHING = "Just the code"
BTN_SHARE_ANSWERS = "My answers too"
BTN_CONTACT_BOT = "💬 Talk here"
BTN_CONTACT_PHONE = "📞 Phone me"
BTN_SEND_PHONE = "📞 Share my number"
BTN_SEND_REQUEST = "✅ Send it"
BTN_CHANGE = "✏️ Change"
BTN_WITHDRAW = "Stop my request"
BTN_WRITE_TO = "💬 Write to {name}"
BTN_END_CHAT = "End the chat"
BTN_END_YES = "Yes, end it"
BTN_END_NO = "No, keep talking"

# ---------------------------------------------------------------------------
# Mentor side: join, cards, claim, relay, close
# ---------------------------------------------------------------------------
JOIN_HOW = (
    "To join as a mentor, send /join and your code, like this: /join abc123. "
    "Your coordinator gives you the code."
)
JOIN_INVALID = (
    "Sorry, that code didn't work. It may be used, out of date or mistyped. "
    "Please ask your coordinator for a new one."
)
JOIN_THROTTLED = "That's too many codes that didn't work. Please wait an hour, then try again."
JOIN_ALREADY = "You're already set up. Type /help to see what you can do."
JOIN_ASK_NAME = (
    "Welcome. You're joining as a peer mentor at {office}.\n"
    "\n"
    "What first name should people see? It can be a made-up name. Type it below."
)
JOIN_ASK_NAME_COORDINATOR = (
    "Welcome. You're joining as a pilot coordinator for {area}.\n"
    "\n"
    "What first name shall we use for you? Type it below."
)
COORDINATOR_ALL_AREAS = "every area"
NAME_BAD = "Please type just a first name, in letters, like Sam. It can be up to 24 letters."
NAME_ACTIVE = (
    "Thanks, {name}. You're all set. New requests for {office} will show up here. "
    "Type /help to see what you can do."
)
NAME_ACTIVE_COORDINATOR = (
    "Thanks, {name}. You're all set. You'll get a message here when a request needs "
    "a person to step in. Type /help to see what you can do."
)
NAME_PENDING = (
    "Thanks, {name}. Your coordinator needs to approve you first. "
    "We'll tell you here when they have."
)
NAME_PENDING_COORDINATOR = (
    "Thanks, {name}. The pilot team needs to approve you first. We'll tell you here when they have."
)
MENTOR_APPROVED = (
    "Good news: you're approved. New requests will show up here. Type /help to see what you can do."
)
COORDINATOR_APPROVED = (
    "Good news: the pilot team has approved you. You'll get a message here when a request "
    "needs a person to step in. Type /help to see what you can do."
)
MENTOR_WAIT_APPROVAL = (
    "Your coordinator hasn't approved you yet. We'll tell you here when they have."
)
COORDINATOR_WAIT_APPROVAL = (
    "The pilot team hasn't approved you yet. We'll tell you here when they have."
)
MENTOR_REVOKED = (
    "Your mentor access has ended. If you think this is a mistake, please talk to your coordinator."
)
MENTOR_HELP = (
    "What you can do:\n"
    "\n"
    "/referrals – your chats, and requests waiting\n"
    "/available – get new requests\n"
    "/away – stop new requests for now\n"
    "/close R-ACD347 – end a chat when you're done\n"
    "/to R-ACD347 Hello – write to someone\n"
    "\n"
    "To answer someone, reply to one of their messages. "
    "People see your first name, never your Telegram details."
)
COORDINATOR_HELP = (
    "What you can do:\n"
    "\n"
    "/referrals – requests still waiting for a mentor\n"
    "\n"
    "You get a message here when a request needs a person to step in. "
    "To add a mentor, make an invite with: firststep mentors invite."
)
MENTOR_AVAILABLE = "✅ You're available. New requests will show up here."
MENTOR_AWAY = (
    "You're away now. No new requests will come to you, but your open chats carry on. "
    "Type /available when you're back."
)
CARD = (
    "🤝 New request {ref}\n"
    "\n"
    "Jobcentre: {office}\n"
    "Best time: {time}\n"
    "How to get in touch: {contact}\n"
    "{shared}\n"
    "\n"
    "Tap Accept to take it. The first mentor to accept gets it."
)
REMINDER = (
    "⏰ Still waiting: request {ref} at {office} has no mentor yet. Can you take it?\n"
    "\n"
    "Best time: {time}\n"
    "How to get in touch: {contact}\n"
    "{shared}"
)
CARD_CONTACT_BOT = "through this chat (reply to their messages)"
CARD_CONTACT_PHONE = "a phone call on {phone}"
CARD_CONTACT_PHONE_ASK = "a phone call (ask for the number in the chat)"
CARD_SHARED = "What they told us:\n{summary}"
CARD_ANSWER_NAMES = {
    "substances": "Dealing with",
    "duration": "For how long",
    "support": "Support now",
    "needs": "Would like",
}
CARD_SHARED_NOTHING = "They chose not to share anything else."
CARD_TAKEN = "Request {ref} was taken by another mentor. Thank you."
MENTOR_PHONE_YOURS = (
    "📞 Request {ref}: please call them on {phone}. Best time: {time}.\n"
    "\n"
    "Use this number only for this chat. I'll take it out of this message when the chat ends."
)
MENTOR_PHONE_REMOVED = (
    "Request {ref} has ended, so I've taken the phone number out of this message."
)
CARD_YOURS = (
    "✅ Request {ref} is yours. Their messages will show up here. "
    "Reply to one to answer, or type /to {ref} and your message. "
    "Type /close {ref} when you're done."
)
CARD_REOPENED = "Request {ref} needs a mentor again. Use the newer message about it to take it."
CARD_REOPENED_ASK = "Request {ref} needs a mentor again. Send /referrals to take it."
CARD_WITHDRAWN = "Request {ref} was stopped by the person. There's nothing more to do."
CARD_ENDED = "Request {ref} has ended. There's nothing more to do."
CARD_EXPIRED = "Request {ref} has closed: it waited too long. There's nothing more to do."
CARD_DECLINED = "Okay, you passed on {ref}. Another mentor can still take it."
BTN_ACCEPT = "✅ Accept"
BTN_ACCEPT_REF = "✅ Accept {ref}"
BTN_DECLINE = "Can't take this"
TOAST_ACCEPTED = "It's yours. Thank you!"
TOAST_TAKEN = "Already taken, thank you!"
TOAST_YOURS_ALREADY = "It's already yours. Thank you!"
TOAST_ENDED = "This request has ended."
TOAST_NOT_YOURS = "This request isn't open to you."
TOAST_MENTORS_ONLY = "This button is for peer mentors."
TOAST_NOT_IN_MENTOR_MODE = "That button doesn't work in mentor mode."
MENTOR_RELAY = "{ref}: {text}"
MENTOR_RELAY_HOW = (
    "To write to someone, reply to one of their messages. "
    "Or type /to and their reference, like /to R-ACD347 Hello."
)
MENTOR_NO_CHAT = "You don't have an open chat for {ref}. Type /referrals to see yours."
MENTOR_CHAT_ENDED = "Request {ref} has ended, so I can't pass on messages."
MENTOR_RELAY_FAILED = (
    "Sorry, I couldn't pass that on for {ref}. They may have blocked the bot. "
    "Please try again later."
)
MENTOR_TO_USAGE = (
    "Type /to, then the reference, then your message. For example: /to R-ACD347 Hello."
)
MENTOR_CLOSE_USAGE = "Type /close and the reference, like /close R-ACD347."
MENTOR_CLOSED = (
    "Closed {ref}. Thank you for your time. We'll ask them two short questions about how it went."
)
MENTOR_CLOSE_ASK = (
    "End your chat for {ref}? We'll tell them it has ended and ask two short questions "
    "about how it went."
)
MENTOR_CLOSE_KEPT = "Okay, your chat for {ref} stays open."
MENTOR_CLOSE_STALE = (
    "Nothing was closed: that question is out of date. Type /referrals to see your open chats."
)
BTN_CLOSE_YES = "Yes, end the chat"
BTN_CLOSE_NO = "No, keep it"
TOAST_CLOSED_ALREADY = "This chat has already ended."
MENTOR_CHATS = "Your open chats:\n{lines}"
MENTOR_NO_CHATS = "You have no open chats."
MENTOR_WAITING_LIST = "Requests waiting for a mentor:\n{lines}"
MENTOR_NONE_WAITING = "No requests are waiting right now."
MENTOR_REFERRAL_LINE = "• {ref} at {office}, best time: {time}"
MENTOR_STATUS_AWAY = "You're away, so new requests won't come to you. Type /available to change it."
MENTOR_NOTICE_ENDED = "Request {ref}: they have ended the chat, so it is now closed. Thank you."
MENTOR_NOTICE_IDLE = (
    "Request {ref}: nobody has written in this chat for {days} days, so it is now closed. "
    "Thank you."
)
MENTOR_NOTICE_LEFT = (
    "Request {ref}: they have left the service and their data is wiped. "
    "The chat is closed. Thank you."
)
ALERT_UNCLAIMED = (
    "⚠️ Request {ref} at {office} ({area}) has had no mentor for {waited}. "
    "Please find a mentor who can take it. Mentors free in {area} right now: {free}."
)
ALERT_NO_MENTORS = (
    "⚠️ New request {ref} at {office} ({area}), but no mentor in {area} is free. "
    "Please find a mentor who can take it."
)
ALERT_MENTOR_LEFT = (
    "⚠️ A mentor was removed, so request {ref} at {office} has gone back to the mentors "
    "across {area}."
)
ALERT_EXPIRED = (
    "⚠️ No mentor took request {ref} at {office} in time, so it is now closed. "
    "You may want to check there are enough mentors there."
)

# ---------------------------------------------------------------------------
# Delivery: alerts to coordinators (a reference and a reason, never the person)
# ---------------------------------------------------------------------------
ALERT_DELIVERY = (
    "⚠️ Request {ref} at {office}: a message did not get through. {reason} Please look into it."
)
ALERT_DELIVERY_NO_REF = "⚠️ A message did not get through. {reason} Please look into it."
# A message to a mentor or coordinator: {who} is ALERT_WHO_MENTOR or ALERT_WHO_COORDINATOR.
ALERT_DELIVERY_TO = (
    "⚠️ Request {ref} at {office}: a message to {who} did not get through. {reason} "
    "Please get in touch with {name}."
)
ALERT_DELIVERY_TO_NO_REF = (
    "⚠️ A message to {who} did not get through. {reason} Please get in touch with {name}."
)
ALERT_WHO_MENTOR = "{name}, a mentor at {office}"
ALERT_WHO_COORDINATOR = "{name}, a coordinator for {area}"
ALERT_NAME_UNKNOWN = "a mentor with no name yet"
ALERT_REASONS = {
    "unreachable": "A mentor has blocked the bot, so they can't get our messages.",
    "gave_up": "Telegram kept failing, so we stopped trying.",
    "bad_request": "Telegram turned the message down.",
    "undecryptable": "The stored message could not be opened.",
}
# The same, when the alert has just named the mentor.
ALERT_REASONS_NAMED = {
    **ALERT_REASONS,
    "unreachable": "They have blocked the bot, so they can't get our messages.",
}

# ---------------------------------------------------------------------------
# Feedback after a referral closes
# ---------------------------------------------------------------------------
MENTOR_CLOSED_BY_MENTOR = "{name} has closed your chat ({ref}). Thank you for reaching out."
CHAT_CLOSED_IDLE = (
    "Your chat with {name} ({ref}) has ended, because nobody has written in it for {days} "
    "days. Thank you for reaching out. You can ask for a mentor again at any time."
)
FEEDBACK_HELPED = "Two quick questions, if you like. Did talking to a mentor help?"
FEEDBACK_NEXT = "What would you like to do next?"
FEEDBACK_THANKS = "Thank you. That helps us make this better for others."
FEEDBACK_ALREADY = "Thanks, we already have your answer."
FEEDBACK_HELPED_LABELS = {"yes": "Yes", "a_bit": "A bit", "no": "No"}
FEEDBACK_NEXT_LABELS = {
    "treatment": "Treatment",
    "training": "Training",
    "volunteering": "Volunteer",
    "work": "Work",
    "not_yet": "Not yet",
}

# ---------------------------------------------------------------------------
# Command list shown in Telegram's menu (setMyCommands)
# ---------------------------------------------------------------------------
COMMANDS = {
    "start": "Start or restart",
    "menu": "Main choices",
    "help": "What I can do",
    "tell": "Tell us what's going on",
    "support": "Find support",
    "jobcentre": "Is your Jobcentre in the pilot?",
    "mentor": "Talk to a peer mentor",
    "about": "About this service",
    "mydata": "See what we keep",
    "forget": "Wipe everything we keep",
    "clear": "Delete messages from the last 48 hours",
    "cancel": "Stop what you're doing",
}
