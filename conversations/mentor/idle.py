"""Quiet chats end: an accepted chat with no message either way for
`chat_idle_close_days` is closed, as if its mentor had typed /close.

Without this, a chat its mentor never closed would stop every retention clock: the
person, their answers and the referral would be kept for ever. Closing it tells both
sides, asks the person the feedback questions, and starts the after-close clock
(`retention_after_close_days`, storage/operations/retention.py), which is what the
privacy notice promises (_(texts.NOTICE_MORE), docs/privacy-notice.md).

`close_idle_chats` is one pass, each chat in its own transaction, closed by a
conditional UPDATE that checks the chat is still quiet, so a message arriving meanwhile
keeps it open and two passes close it once. The JobQueue runs it every
`CHECK_SECONDS`; tests call it with the harness clock.
"""

from __future__ import annotations

import logging
from datetime import datetime, timedelta

from conversations import texts
from conversations.common import event
from conversations.context import Context, FirstStepApp, FlowSettings
from conversations.i18n import _
from conversations.mentor import chats, notices
from storage.crypto import KeyRing
from storage.db import Connection, Database
from storage.repositories import mentors, referrals
from storage.repositories.outbox import Kind
from storage.repositories.referrals import ReferralRow
from storage.repositories.updates import record_event

log = logging.getLogger("firststep.idle")

JOB_NAME = "idle_chats"
CHECK_SECONDS = 600.0  # the limit is days: ten minutes late is nothing
BATCH = 100


async def close_quiet(
    connection: Connection,
    ring: KeyRing,
    referral: ReferralRow,
    days: int,
    now: datetime,
) -> bool:
    """Close one quiet chat in the caller's transaction and tell both sides."""
    await referrals.lock_person(connection, referral.person_id)
    if not await referrals.close_idle(connection, referral, now - timedelta(days=days), now):
        return False  # closed meanwhile, or someone wrote
    await referrals.drop_unsent(connection, referral.id, (Kind.ACCEPTED,))
    await notices.take_number_back(connection, ring, referral, now)
    name = ""
    if referral.mentor_id is not None:
        name = await mentors.display_name_of(connection, ring, referral.mentor_id) or ""
        await notices.tell_mentor(
            connection,
            ring,
            referral,
            referral.mentor_id,
            text=_(texts.MENTOR_NOTICE_IDLE).format(ref=referral.public_ref, days=days),
            dedupe=f"idle:{referral.id}:mentor",
            now=now,
        )
    closed = _(texts.CHAT_CLOSED_IDLE).format(name=name, ref=referral.public_ref, days=days)
    await chats.tell_person_closed(connection, ring, referral, closed, now)
    await record_event(connection, "referral_closed", now, referral.office_id)
    await record_event(connection, "referral_closed_idle", now, referral.office_id)
    event("chat.closed_idle")
    return True


async def close_idle_chats(
    database: Database, ring: KeyRing, settings: FlowSettings, now: datetime
) -> int:
    """One pass: close every chat quiet for `chat_idle_close_days`; returns how many."""
    days = settings.chat_idle_close_days

    async def step(connection: Connection, referral: ReferralRow) -> bool:
        return await close_quiet(connection, ring, referral, days, now)

    return await referrals.each_idle(database, now - timedelta(days=days), BATCH, step)


async def idle_job(context: Context) -> None:
    services = context.services
    closed = await close_idle_chats(
        services.database, services.ring, services.settings, services.clock()
    )
    if closed:
        log.info("event=idle_chats_closed count=%d", closed)


def schedule_idle_close(application: FirstStepApp, interval: float = CHECK_SECONDS) -> None:
    if application.job_queue is None:  # pragma: no cover - the job-queue extra is a dependency
        log.warning("event=idle_close_not_scheduled reason=no_job_queue")
        return
    application.job_queue.run_repeating(idle_job, interval=interval, first=interval, name=JOB_NAME)
