"""Every handler, registered in one readable place. Order matters.

Group -2: the guards, for every update (private chats only, dedupe, rate limit, media,
          length). A refused update stops there.
Group -1: the crisis check on any free text. It replies (urgent help or a check-in) and
          lets the update go on. Approved mentors and coordinators at work get no crisis
          reply. The check-in's buttons are answered here too, and stop here.
Group  0: the mentor gate. Mentors and coordinators, anyone joining with an invite code,
          and every card button (`mc:`) are handled here and stop here.
Group  1: the person flows. Commands first, then buttons by prefix, then shared
          locations and contacts, then free text routed by the person's current step
          (relayed to their mentor when they are in a chat with one), and last the
          catch-alls that answer any command or button nobody else took.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from bot.errors import on_error
from bot.guards import build_guard_handler
from conversations import relay
from conversations.flow import PERSON_GROUP, FlowFn, unknown_buttons
from conversations.mentor import gate, ladder
from conversations.person import (
    ask_mentor,
    disclosure,
    feedback,
    jobcentre,
    privacy,
    start,
    support,
)
from conversations.safety import checkin

if TYPE_CHECKING:
    from conversations.context import FirstStepApp

PERSON = PERSON_GROUP


def register_handlers(application: FirstStepApp) -> None:
    application.add_handler(build_guard_handler(), group=-2)
    application.add_handlers(checkin.build_safety_handlers(), group=-1)

    # Mentors, coordinators, /join and card buttons: handled and stopped here.
    application.add_handler(gate.build_mentor_gate(), group=0)

    # /start, the privacy notice, /menu, /help, /cancel
    application.add_handlers(start.build_start_handlers(), group=PERSON)

    # Telling us what's going on (/tell): button questions, then optional own words.
    application.add_handlers(disclosure.build_disclosure_handlers(), group=PERSON)

    # Signposting (/support), from what the person chose to tell us.
    application.add_handlers(support.build_support_handlers(), group=PERSON)

    # The nearest pilot Jobcentre (/jobcentre): postcode, town, location or region.
    application.add_handlers(jobcentre.build_finder_handlers(), group=PERSON)

    # Asking for a peer mentor (/mentor, the finder's "Mentor at …" buttons), withdrawing,
    # ending a chat, and the phone number shared with the contact button.
    application.add_handlers(ask_mentor.build_mentor_request_handlers(), group=PERSON)

    # Two short questions after a chat with a mentor ends.
    application.add_handlers(feedback.build_feedback_handlers(), group=PERSON)

    # The person's control over their data: /mydata, /forget, /clear.
    application.add_handlers(privacy.build_privacy_handlers(), group=PERSON)

    # The main menu's buttons lead to the same entries as the commands.
    entries: dict[str, FlowFn] = {
        "tell": disclosure.ENTRY,
        "mydata": privacy.ENTRY_MYDATA,
        "jobcentre": jobcentre.ENTRY,
        "support": support.ENTRY,
        "mentor": ask_mentor.ENTRY,
    }
    application.add_handler(start.build_menu_buttons(entries), group=PERSON)

    # Free text, routed by the step the person is on (read from the database); in a chat
    # with a mentor it is passed on to them.
    text_steps = {**disclosure.TEXT_STEPS, **jobcentre.TEXT_STEPS, **ask_mentor.TEXT_STEPS}
    application.add_handler(
        relay.build_person_text_handler(text_steps, fallback=start.not_understood),
        group=PERSON,
    )

    # Unclaimed requests climb the ladder (every minute, once the Application starts).
    ladder.schedule_ladder(application)

    # Keep these two last: a command or a button no flow above claims still gets an answer
    # (answered, so the spinner stops; nothing changes).
    application.add_handler(start.unknown_commands(), group=PERSON)
    application.add_handler(unknown_buttons(), group=PERSON)

    application.add_error_handler(on_error)
