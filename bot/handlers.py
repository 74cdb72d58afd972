"""Every handler, registered in one readable place. Order matters.

Group -3: the language the update is answered in (bot/language.py), from the sender's
          Telegram language; every text said from then on is in it.
Group -2: the guards, for every update (private chats only, dedupe, rate limit, media,
          length). A refused update stops there.
Group -1: the crisis check on any free text. It replies (urgent help or a check-in) and
          lets the update go on. Approved mentors and coordinators at work get no crisis
          reply. The check-in's buttons and 🆘 Urgent help are answered here, and stop here.
Group  0: the mentor gate. Mentors and coordinators, anyone joining with an invite code,
          and every card button (`mc:`) are handled here and stop here.
Group  1: the person flows, each declared by its module's `FLOW` and gathered in the
          registry (conversations/registry.py): every flow's commands, buttons (one
          family each) and shared locations or contacts, then free text routed by the
          person's current step (relayed to their mentor when they are in a chat with
          one), and last the catch-alls that answer any command or button nobody else
          took. Within a flow nothing overlaps, so only the catch-alls' place matters.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from bot.errors import on_error
from bot.guards import build_guard_handler
from bot.language import build_language_handler
from conversations import relay
from conversations.flow import (
    PERSON_GROUP,
    handlers_of,
    text_handler,
    unknown_buttons,
    unknown_commands,
)
from conversations.mentor import gate, idle, ladder
from conversations.person import (
    about,
    ask_mentor,
    disclosure,
    feedback,
    jobcentre,
    live_request,
    privacy,
    start,
    support,
)
from conversations.registry import Flow, Registry, install
from conversations.safety import checkin

if TYPE_CHECKING:
    from conversations.context import FirstStepApp

PERSON = PERSON_GROUP

# The person's flows, in the order their handlers are registered.
FLOWS: tuple[Flow, ...] = (
    # /start, the privacy notice, the main menu and its buttons, /menu, /help, /cancel;
    # the welcome for someone we don't know yet, and text no step expects.
    start.FLOW,
    # Telling us what's going on (/tell): button questions, then optional own words.
    disclosure.FLOW,
    # Signposting (/support), from what the person chose to tell us; its topics.
    support.FLOW,
    # About this service (/about, also before the privacy notice).
    about.FLOW,
    # Your Jobcentre (/jobcentre): which one, or else postcode, town or location.
    jobcentre.FLOW,
    # Asking for a peer mentor (/mentor, the finder's "Mentor at …" buttons), and the
    # phone number shared with the contact button.
    ask_mentor.FLOW,
    # A sent request: waiting, withdrawing, the chat, ending it.
    live_request.FLOW,
    # In a chat with a mentor, free text is passed on to them.
    relay.FLOW,
    # Two short questions after a chat with a mentor ends.
    feedback.FLOW,
    # The person's control over their data: /mydata, /forget, /clear.
    privacy.FLOW,
)


def register_handlers(application: FirstStepApp) -> None:
    registry = Registry(FLOWS)
    install(application.bot_data, registry)

    application.add_handler(build_language_handler(), group=-3)
    application.add_handler(build_guard_handler(), group=-2)
    application.add_handlers(checkin.build_safety_handlers(), group=-1)

    # Mentors, coordinators, /join and card buttons: handled and stopped here.
    application.add_handler(gate.build_mentor_gate(), group=0)

    for flow in FLOWS:
        application.add_handlers(handlers_of(flow), group=PERSON)

    # Free text, routed by the step the person is on (read from the database).
    application.add_handler(text_handler(), group=PERSON)

    # Unclaimed requests climb the ladder (each pass sleeps until the next step is due).
    ladder.schedule_ladder(application)
    # Chats nobody wrote in for chat_idle_close_days are closed (checked every 10 minutes).
    idle.schedule_idle_close(application)

    # Keep these two last: a command or a button no flow above claims still gets an answer
    # (answered, so the spinner stops; nothing changes).
    application.add_handler(unknown_commands(registry), group=PERSON)
    application.add_handler(unknown_buttons(), group=PERSON)

    application.add_error_handler(on_error)
