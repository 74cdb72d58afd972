"""Every handler, registered in one readable place. Order matters.

Group -2: the guards, for every update (private chats only, dedupe, rate limit, media,
          length). A refused update stops there.
Group -1: the crisis check on any free text. It replies and lets the update go on.
Group  0: the flows. Commands first, then buttons by prefix, then shared locations,
          then free text routed by the person's current step, and last the catch-alls
          for commands and buttons nobody claimed.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from bot.errors import on_error
from bot.guards import build_guard_handler
from conversations import disclosure, finder, privacy, start, support
from conversations.flow import FlowFn, text_router, unknown_buttons
from conversations.safety import build_crisis_handler

if TYPE_CHECKING:
    from conversations.context import FirstStepApp


def register_handlers(application: FirstStepApp) -> None:
    application.add_handler(build_guard_handler(), group=-2)
    application.add_handler(build_crisis_handler(), group=-1)

    # /start, the privacy notice, /menu, /help, /cancel
    application.add_handlers(start.build_start_handlers())

    # Telling us what's going on (/tell): button questions, then optional own words.
    application.add_handlers(disclosure.build_disclosure_handlers())

    # Signposting (/support), from what the person chose to tell us.
    application.add_handlers(support.build_support_handlers())

    # The nearest pilot Jobcentre (/jobcentre): postcode, town, location or region.
    application.add_handlers(finder.build_finder_handlers())

    # The person's control over their data: /mydata, /forget, /clear.
    application.add_handlers(privacy.build_privacy_handlers())

    # The main menu's buttons lead to the same entries as the commands.
    entries: dict[str, FlowFn] = {
        "tell": disclosure.ENTRY,
        "mydata": privacy.ENTRY_MYDATA,
        "jobcentre": finder.ENTRY,
        "support": support.ENTRY,
    }
    application.add_handler(start.build_menu_buttons(entries))

    # Free text, routed by the step the person is on (read from the database).
    text_steps = {**disclosure.TEXT_STEPS, **finder.TEXT_STEPS}
    application.add_handler(text_router(text_steps, fallback=start.not_understood))

    # Keep these two last: a command or a button no flow above claims still gets an answer.
    application.add_handler(start.unknown_commands())
    application.add_handler(unknown_buttons())

    application.add_error_handler(on_error)
