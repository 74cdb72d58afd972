"""The unclaimed ladder: a request nobody has taken goes further, and the person is told.

Rungs (delays are settings, counted from when the request was made):
remind the office's mentors (`ladder_office_reminder_minutes`) → offer it to every mentor
in the pilot area (`ladder_area_minutes`) → alert the coordinators
(`ladder_coordinator_minutes`). A rung with nobody on it is skipped. At each rung the
person gets an honest update, with support to use meanwhile and a way to stop.

A request nobody took within `referral_pending_max_days` is withdrawn (`expire_unclaimed`):
the person is told kindly that they may ask again, the mentors' cards lose their Accept
button, the area's coordinators are alerted, and the referral ends like a withdrawal, so
the retention purge can take the person's data in its time instead of keeping it live
for ever.

`run_ladder` is one pass over what is due, each referral in its own transaction (opened
by `storage.repositories.referrals.each_due_on_ladder`) and moved by a conditional UPDATE
on its current rung, so two passes at once (or a pass racing an Accept) do each step
once. The JobQueue runs a pass when the next step falls due (`ladder_job` asks the
database when that is and sleeps until then, at most `POLL_SECONDS`; a new request wakes
it for its first step), so "remind after N minutes" is kept to the second. Tests call
`run_ladder` directly with the harness clock, or let the job run on a wall clock.
"""

from __future__ import annotations

import logging
from datetime import UTC, datetime, timedelta
from typing import Any

from telegram.ext import JobQueue

from conversations import keyboards, texts
from conversations.callbacks import Menu, MenuChoice
from conversations.common import event
from conversations.context import Context, FirstStepApp, FlowSettings
from conversations.i18n import _
from conversations.mentor import notices
from conversations.steps import Step
from storage.crypto import KeyRing
from storage.db import Connection, Database
from storage.repositories import mentors, referrals
from storage.repositories.outbox import Kind, alert_coordinators
from storage.repositories.referrals import Ladder, ReferralRow
from storage.repositories.updates import record_event

log = logging.getLogger("firststep.ladder")

JOB_NAME = "ladder"
# The longest the ladder sleeps: a request another process made (which wakes only that
# process's ladder) is seen within this, then its steps are kept to the second.
POLL_SECONDS = 60.0
FIRST_PASS_SECONDS = 1.0
BATCH = 100

UPDATES = {
    Ladder.REMINDED: texts.LADDER_REMINDED,
    Ladder.AREA: texts.LADDER_WIDENED,
    Ladder.COORDINATOR: texts.LADDER_TEAM,
}


def due_at(referral: ReferralRow, rung: Ladder, settings: FlowSettings, now: datetime) -> datetime:
    minutes = {
        Ladder.REMINDED: settings.ladder_area_minutes,
        Ladder.AREA: settings.ladder_coordinator_minutes,
    }[rung]
    return max(now, referral.created_at + timedelta(minutes=minutes))


async def climb(
    connection: Connection,
    ring: KeyRing,
    settings: FlowSettings,
    referral: ReferralRow,
    now: datetime,
) -> Ladder | None:
    """Take one due referral up to its next rung that has someone on it."""
    cipher = await notices.person_cipher(connection, ring, referral)
    if cipher is None or referral.ladder_step >= Ladder.COORDINATOR:
        return None
    office_mentors = await mentors.mentors_at_office(connection, referral.office_id)
    area_mentors = await mentors.mentors_in_area(connection, referral.pilot_area)
    rung = Ladder(referral.ladder_step + 1)
    if rung == Ladder.REMINDED and not office_mentors:
        rung = Ladder.AREA
    if rung == Ladder.AREA and not area_mentors:
        rung = Ladder.COORDINATOR
    next_at = due_at(referral, rung, settings, now) if rung < Ladder.COORDINATOR else None
    if not await referrals.advance_ladder(connection, referral, rung, next_at):
        return None  # claimed, withdrawn or moved by another pass meanwhile
    moved = await referrals.by_id(connection, referral.id)
    assert moved is not None
    tell_person = True
    if rung == Ladder.REMINDED:
        await notices.offer(
            connection, moved, office_mentors, cipher=cipher, now=now, kind=Kind.REMINDER
        )
    elif rung == Ladder.AREA:
        await notices.offer(connection, moved, area_mentors, cipher=cipher, now=now)
    else:
        waited = (now - referral.created_at).total_seconds() / 60
        alerted = await alert_coordinators(
            connection,
            ring,
            about=f"unclaimed:{moved.id}",
            text=_(texts.ALERT_UNCLAIMED).format(
                ref=moved.public_ref,
                office=notices.office_name(moved.office_id),
                area=moved.pilot_area,
                waited=notices.describe_delay(waited),
                free=len(area_mentors),
            ),
            now=now,
            referral_id=moved.id,
        )
        tell_person = alerted > 0  # never say the team was asked when there is none
    if tell_person:
        await notices.tell_person(
            connection,
            moved,
            kind=Kind.LADDER_UPDATE,
            dedupe=f"ladder:{moved.id}:{int(rung)}",
            text=_(UPDATES[rung]).format(
                ref=moved.public_ref,
                office=notices.office_name(moved.office_id),
                area=moved.pilot_area,
            ),
            markup=notices.support_and_withdraw(moved.public_ref),
            cipher=cipher,
            now=now,
        )
    event("ladder.climbed", rung=int(rung))
    return rung


async def run_ladder(
    database: Database, ring: KeyRing, settings: FlowSettings, now: datetime
) -> int:
    """One pass: every pending referral whose next rung is due; returns how many moved."""

    async def step(connection: Connection, referral: ReferralRow) -> bool:
        return await climb(connection, ring, settings, referral, now) is not None

    return await referrals.each_due_on_ladder(database, now, BATCH, step)


async def expire(
    connection: Connection,
    ring: KeyRing,
    referral: ReferralRow,
    now: datetime,
) -> bool:
    """Withdraw one request nobody took in time, in the caller's transaction."""
    await referrals.lock_person(connection, referral.person_id)
    if not await referrals.expire(connection, referral, now):
        return False  # taken, withdrawn or expired meanwhile
    cipher = await notices.person_cipher(connection, ring, referral)
    await notices.update_cards(
        connection,
        referral,
        text_for=notices.to_all(_(texts.CARD_EXPIRED).format(ref=referral.public_ref)),
        cipher=cipher,
        ring=ring,
        now=now,
        tag="expired",
    )
    await referrals.drop_unsent(connection, referral.id, (Kind.LADDER_UPDATE, Kind.ALERT))
    # After the drop above, so this alert is the one that stays: the area's coordinators
    # learn the request closed unclaimed (reference and office only).
    await alert_coordinators(
        connection,
        ring,
        about=f"expired:{referral.id}",
        text=_(texts.ALERT_EXPIRED).format(
            ref=referral.public_ref, office=notices.office_name(referral.office_id)
        ),
        now=now,
        referral_id=referral.id,
    )
    if cipher is not None and referral.person_id is not None:
        waited = (now - referral.created_at).total_seconds() / 60
        await notices.tell_person(
            connection,
            referral,
            kind=Kind.EXPIRED,
            dedupe=f"expired:{referral.id}",
            text=_(texts.LADDER_EXPIRED).format(
                ref=referral.public_ref, waited=notices.describe_delay(waited)
            ),
            markup=keyboards.rows(
                [keyboards.button(_(texts.BTN_SUPPORT), Menu(MenuChoice.SUPPORT))]
            ),
            cipher=cipher,
            now=now,
        )
        await referrals.move_person(
            connection,
            referral.person_id,
            from_states=(Step.WAITING_FOR_MENTOR,),
            to_state=Step.MENU,
        )
    await record_event(connection, "referral_expired", now, referral.office_id)
    event("ladder.expired")
    return True


async def expire_unclaimed(
    database: Database, ring: KeyRing, settings: FlowSettings, now: datetime
) -> int:
    """One pass: withdraw every request unclaimed for `referral_pending_max_days`, each
    in its own transaction; returns how many."""
    made_before = now - timedelta(days=settings.referral_pending_max_days)

    async def step(connection: Connection, referral: ReferralRow) -> bool:
        return await expire(connection, ring, referral, now)

    return await referrals.each_pending_since(database, made_before, BATCH, step)


async def ladder_job(context: Context) -> None:
    """One pass (withdraw what waited too long, climb what is due), then sleep until the
    next due step. The next pass is planned even when this one failed (a database that
    is briefly away), so the ladder never stops for good."""
    services = context.services
    now = services.clock()
    try:
        await expire_unclaimed(services.database, services.ring, services.settings, now)
        await run_ladder(services.database, services.ring, services.settings, now)
    finally:
        await plan_next(context)


async def plan_next(context: Context) -> None:
    services = context.services
    try:
        due = await referrals.next_on_ladder(
            services.database, services.settings.referral_pending_max_days
        )
    except Exception:  # the pass's own error is what gets reported; try again later
        log.warning("event=ladder_plan_failed retry_seconds=%d", POLL_SECONDS)
        due = None
    wake_at(context.job_queue, due, services.clock())


def wake_at(queue: JobQueue[Any] | None, due: datetime | None, now: datetime) -> None:
    """Make sure a pass runs by `due` (or within POLL_SECONDS when nothing is due):
    a pass already planned sooner stays, one planned later is moved forward. A flow that
    just made a request calls this with its first rung's time."""
    if queue is None:  # pragma: no cover - the job-queue extra is a dependency
        return
    if not queue.scheduler.running:
        # Not started (an Application driven update by update, as the benchmark does):
        # the first pass `schedule_ladder` planned runs when it starts, and plans on.
        return
    seconds = POLL_SECONDS if due is None else (due - now).total_seconds()
    seconds = min(max(seconds, 0.0), POLL_SECONDS)
    target = datetime.now(UTC) + timedelta(seconds=seconds)
    planned = queue.get_jobs_by_name(JOB_NAME)
    if any(job.next_t is not None and job.next_t <= target for job in planned):
        return
    for job in planned:
        job.schedule_removal()
    queue.run_once(ladder_job, when=seconds, name=JOB_NAME)


def schedule_ladder(application: FirstStepApp, first: float = FIRST_PASS_SECONDS) -> None:
    """The first pass shortly after the Application starts (steps that fell due while it
    was down are taken then); each pass plans the next."""
    if application.job_queue is None:  # pragma: no cover - the job-queue extra is a dependency
        log.warning("event=ladder_not_scheduled reason=no_job_queue")
        return
    application.job_queue.run_once(ladder_job, when=first, name=JOB_NAME)
