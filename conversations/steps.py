"""Where a person is in their journey: the value of `people.state`, written through.

Names read as the step the bot is waiting on. A step is stored, never inferred from
process memory, so a restart between two messages loses nothing.
"""

from __future__ import annotations

from enum import StrEnum


class Step(StrEnum):
    MENU = "menu"
    # Disclosure: each question may be skipped or answered "prefer not to say".
    DISCLOSE_SUBSTANCES = "disclose.substances"
    DISCLOSE_DURATION = "disclose.duration"
    DISCLOSE_SUPPORT = "disclose.support"
    DISCLOSE_NEEDS = "disclose.needs"
    DISCLOSE_OWN_WORDS = "disclose.own_words"
    # Your Jobcentre: "Which Jobcentre do you go to?", else where the person lives
    FINDER_OFFICE = "finder.office"
    FINDER_PLACE = "finder.place"
    # Asking for a peer mentor
    MENTOR_OFFICE = "mentor.office"
    MENTOR_PLACE = "mentor.place"
    MENTOR_SHARE = "mentor.share"
    MENTOR_CONTACT = "mentor.contact"
    MENTOR_TIME = "mentor.time"
    MENTOR_CONFIRM = "mentor.confirm"
    # An unfinished request whose phone number the purge took
    # (storage/repositories/request_drafts.py)
    MENTOR_LAPSED = "mentor.lapsed"
    WAITING_FOR_MENTOR = "mentor.waiting"
    WITH_MENTOR = "mentor.connected"
    # Feedback after a referral closes
    FEEDBACK_HELPED = "feedback.helped"
    FEEDBACK_NEXT = "feedback.next"
    # Privacy
    FORGET_CONFIRM = "privacy.forget_confirm"


def step_of(state: str) -> Step | None:
    """The Step a stored state names, or None for an unknown (e.g. older) value."""
    try:
        return Step(state)
    except ValueError:
        return None
