"""Joining the mentor side: `/join CODE` (or the deep link `/start join-CODE`), then the
first name people will see.

An invite code works once, for a limited time, and only its hash is kept
(`storage.repositories.mentors.redeem_invite`); wrong codes are throttled per account.
Under `FIRSTSTEP_MENTOR_APPROVAL` a new mentor then waits for the operator.
"""

from __future__ import annotations

import re

from telegram import Update

from conversations import texts
from conversations.common import chat_id_of, event
from conversations.context import Services
from conversations.i18n import _
from conversations.mentor import notices
from conversations.outcome import Outcome, Reply
from storage.db import Connection
from storage.models import MentorStatus
from storage.repositories import mentors
from storage.repositories.mentors import JoinResult, MentorRecord
from storage.repositories.updates import mark_processed, record_event

JOIN_COMMAND = re.compile(r"^/join(?:@\w+)?(?:\s+(\S*))?\s*$")
START_JOIN = re.compile(r"^/start(?:@\w+)?\s+join-(\S+)\s*$")
NAME_SHAPE = re.compile(r"^[^\W\d_]+(?:[ '’-][^\W\d_]+)?$")
MAX_NAME = 24


def join_code(text: str | None) -> str | None:
    """The code of `/join CODE` or `/start join-CODE` ("" for a bare /join), else None."""
    if not text:
        return None
    match = JOIN_COMMAND.match(text) or START_JOIN.match(text)
    if match is None:
        return None
    return match.group(1) or ""


def clean_name(text: str) -> str | None:
    """A first name: letters (any alphabet), at most one space, hyphen or apostrophe."""
    name = " ".join(text.split())
    if not name or len(name) > MAX_NAME or not NAME_SHAPE.match(name):
        return None
    return name[0].upper() + name[1:]


def ask_name(mentor: MentorRecord) -> Reply:
    if mentor.is_coordinator:
        area = mentor.pilot_area or _(texts.COORDINATOR_ALL_AREAS)
        return Reply(_(texts.JOIN_ASK_NAME_COORDINATOR).format(area=area))
    return Reply(_(texts.JOIN_ASK_NAME).format(office=notices.office_name(mentor.office_id or "")))


async def on_join(
    connection: Connection,
    services: Services,
    mentor: MentorRecord | None,
    update: Update,
    code: str,
) -> Outcome:
    if mentor is not None and mentor.status != MentorStatus.REVOKED:
        return Outcome.say(_(texts.JOIN_ALREADY))
    if not code:
        return Outcome.say(_(texts.JOIN_HOW))
    user = update.effective_user
    assert user is not None
    now = services.clock()
    joined = await mentors.redeem_invite(
        connection,
        services.ring,
        telegram_id=user.id,
        chat_id=chat_id_of(update),
        code=code,
        now=now,
        attempts_per_hour=services.settings.join_attempts_per_hour,
    )
    event("mentor.join", result=joined.result.value)
    if joined.result == JoinResult.JOINED and joined.mentor is not None:
        # Known from now on: a redelivery of this update must find it already handled.
        await mark_processed(connection, update.update_id, now)
        await record_event(connection, f"{joined.mentor.role}_joined", now)
        return Outcome.say(ask_name(joined.mentor))
    return Outcome.say(
        {
            JoinResult.INVALID: _(texts.JOIN_INVALID),
            JoinResult.THROTTLED: _(texts.JOIN_THROTTLED),
            JoinResult.ALREADY: _(texts.JOIN_ALREADY),
        }[joined.result]
    )


async def on_name(
    connection: Connection, services: Services, mentor: MentorRecord, text: str
) -> Outcome:
    """The first name a new mentor or coordinator chose (people see it, nothing else)."""
    name = clean_name(text) if not text.startswith("/") else None
    if name is None:
        return Outcome.say(_(texts.NAME_BAD), ask_name(mentor))
    status = await mentors.set_display_name(
        connection, mentor, name, needs_approval=services.settings.mentor_approval
    )
    if status == MentorStatus.PENDING_APPROVAL:
        # Mentors are approved by their coordinator; coordinators by the pilot team.
        pending = (
            _(texts.NAME_PENDING_COORDINATOR) if mentor.is_coordinator else _(texts.NAME_PENDING)
        )
        return Outcome.say(pending.format(name=name))
    if mentor.is_coordinator:
        return Outcome.say(_(texts.NAME_ACTIVE_COORDINATOR).format(name=name))
    office = notices.office_name(mentor.office_id or "")
    return Outcome.say(_(texts.NAME_ACTIVE).format(name=name, office=office))
