"""Delivery under Telegram's failures: flood control, timeouts, a blocked mentor, a 502
that never ends, a refused message. Each scenario also runs against a deliberately
broken worker, and the same assertions must reject it."""

from __future__ import annotations

import dataclasses
import itertools
import random
from datetime import timedelta
from pathlib import Path

import pytest

from bot.delivery import DeliveryPolicy, DeliveryWorker, Outcome
from conversations import texts
from storage.crypto import KeyRing
from storage.repositories.outbox import Claimed, Reason
from tests.support.delivery import (
    OFFICE,
    PERSON_CANARY,
    mentor_flags,
    open_rig,
    outbox,
    rejected,
)

PERSON = 7_100_000_001
MENTORS = [7_200_000_001, 7_200_000_002, 7_200_000_003]
COORDINATOR = 7_300_000_001


def named_alert(ref: str, reason: str) -> str:
    """What a coordinator must read: the request and where, the mentor by first name and
    office (seed_mentor's "Sam" at the rig's office), and the reason."""
    who = texts.ALERT_WHO_MENTOR.format(name="Sam", office=OFFICE)
    return texts.ALERT_DELIVERY_TO.format(
        ref=ref, office=OFFICE, who=who, reason=texts.ALERT_REASONS_NAMED[reason], name="Sam"
    )


# -- broken workers (each gets one rule wrong) --------------------------------------------
class IgnoresRetryAfter(DeliveryWorker):
    """Treats 429 like any other transient error: backs off this row, sends the rest."""

    async def on_retry_after(self, row: Claimed, seconds: float) -> Outcome:
        return await self._transient(row, Reason.RETRY_AFTER)


class RetriesForbidden(DeliveryWorker):
    """Treats 403 as transient: keeps knocking at a door that is shut."""

    async def on_forbidden(self, row: Claimed) -> Outcome:
        return await self._transient(row, Reason.NETWORK)


class NoBackoff(DeliveryWorker):
    """Retries after a fixed second: no exponential growth."""

    def __init__(self, *args: object, **kwargs: object) -> None:
        super().__init__(*args, **kwargs)  # type: ignore[arg-type]
        self.policy = FixedDelay(
            **{f: getattr(self.policy, f) for f in DeliveryPolicy.__dataclass_fields__}
        )


class FixedDelay(DeliveryPolicy):
    def backoff(self, attempt: int, rng: object) -> timedelta:
        return timedelta(seconds=1)


class NeverGivesUp(DeliveryWorker):
    """Ignores the attempt limit."""

    def __init__(self, *args: object, **kwargs: object) -> None:
        super().__init__(*args, **kwargs)  # type: ignore[arg-type]
        self.policy = dataclasses.replace(self.policy, max_attempts=10**6)


# -- 429: flood control pauses everyone -------------------------------------------------
async def flood_control_scenario(
    database_url: str, ring: KeyRing, tmp_path: Path, cls: type[DeliveryWorker]
) -> None:
    async with open_rig(database_url, ring, tmp_path, real_time=True) as rig:
        person = await rig.person(PERSON)
        mentors = [await rig.mentor(m) for m in MENTORS]
        seeded = await rig.referral(person, mentors)
        rig.emu.inject_fault("sendMessage", status=429, retry_after=3)

        worker = rig.make_worker(cls)
        worker.start()
        try:
            await rig.emu.wait_for(
                lambda: sum(c.status == 200 for c in rig.emu.calls("sendMessage")) == 3,
                15,
                message="three cards delivered",
            )
        finally:
            await worker.stop()

        calls = rig.emu.calls("sendMessage")
        assert calls[0].status == 429
        flood_at = calls[0].at
        later = calls[1:]
        assert later, "nothing was sent after the 429"
        assert all(call.at >= flood_at + 3.0 for call in later), [
            round(call.at - flood_at, 2) for call in later
        ]
        assert len(later) == 3  # one delivery each, nothing repeated
        rows = await outbox(rig.database)
        for row_id in seeded.cards.values():
            assert rows[row_id].status == "sent"
            assert rows[row_id].attempts == 1  # the 429 did not count


async def test_429_pauses_everyone_then_delivers(
    database_url: str, ring: KeyRing, tmp_path: Path
) -> None:
    await flood_control_scenario(database_url, ring, tmp_path, DeliveryWorker)


async def test_429_scenario_rejects_a_worker_that_ignores_retry_after(
    database_url: str, ring: KeyRing, tmp_path: Path
) -> None:
    await rejected(flood_control_scenario(database_url, ring, tmp_path, IgnoresRetryAfter))


# -- TimedOut ×3: exponential backoff ---------------------------------------------------
async def timeout_scenario(
    database_url: str, ring: KeyRing, tmp_path: Path, cls: type[DeliveryWorker]
) -> None:
    async with open_rig(database_url, ring, tmp_path, delivery_backoff_seconds=1.0) as rig:
        person = await rig.person(PERSON)
        mentor = await rig.mentor(MENTORS[0])
        seeded = await rig.referral(person, [mentor])
        rig.emu.inject_fault("sendMessage", timeout=True, count=3)

        worker = rig.make_worker(cls, rng=random.Random(7))
        await rig.settle(worker, step=timedelta(seconds=0.05), max_steps=2000)

        calls = rig.sends_to(MENTORS[0])
        assert len(calls) == 4
        assert [c.status for c in calls] == [None, None, None, 200]  # three stalls, then ok
        times = [c.at for c in calls]
        gaps = [b - a for a, b in itertools.pairwise(times)]
        assert gaps[0] < gaps[1] < gaps[2], gaps
        for n, gap in enumerate(gaps):
            assert gap >= 0.5 * 2**n, gaps  # base · 2^n, jitter keeps at least half
        row = (await outbox(rig.database))[seeded.cards[mentor]]
        assert (row.status, row.attempts) == ("sent", 4)


async def test_timeouts_back_off_exponentially_then_deliver(
    database_url: str, ring: KeyRing, tmp_path: Path
) -> None:
    await timeout_scenario(database_url, ring, tmp_path, DeliveryWorker)


async def test_timeout_scenario_rejects_fixed_retry_delays(
    database_url: str, ring: KeyRing, tmp_path: Path
) -> None:
    await rejected(timeout_scenario(database_url, ring, tmp_path, NoBackoff))


# -- 403: a mentor blocked the bot ------------------------------------------------------
async def forbidden_scenario(
    database_url: str, ring: KeyRing, tmp_path: Path, cls: type[DeliveryWorker]
) -> None:
    async with open_rig(database_url, ring, tmp_path) as rig:
        person = await rig.person(PERSON)
        mentors = [await rig.mentor(m) for m in MENTORS]
        coordinator = await rig.mentor(COORDINATOR, role="coordinator", office_id=None)
        first = await rig.referral(person, mentors)
        second = await rig.referral(person, mentors)  # two cards wait for the blocked one
        rig.emu.block_bot(MENTORS[1])

        await rig.settle(rig.make_worker(cls), max_steps=200)

        assert len(rig.sends_to(MENTORS[1])) == 1  # exactly one attempt
        assert (await mentor_flags(rig.database, mentors[1])).unreachable
        for telegram_id in (MENTORS[0], MENTORS[2]):
            shown = " ".join(rig.emu.bot_texts(telegram_id))
            assert first.ref in shown and second.ref in shown
        rows = await outbox(rig.database)
        for seeded in (first, second):
            blocked = rows[seeded.cards[mentors[1]]]
            assert (blocked.status, blocked.last_error, blocked.payload_ct) == (
                "dead",
                Reason.UNREACHABLE,
                None,
            )
        alerts = [r for r in rows.values() if r.kind == "alert"]
        assert [a.recipient_id for a in alerts] == [coordinator]  # one alert, not one per card
        alert_texts = rig.emu.bot_texts(COORDINATOR)
        assert alert_texts in ([named_alert(ref, "unreachable")] for ref in (first.ref, second.ref))
        assert PERSON_CANARY not in alert_texts[0]


async def test_403_marks_that_mentor_unreachable_and_alerts(
    database_url: str, ring: KeyRing, tmp_path: Path
) -> None:
    await forbidden_scenario(database_url, ring, tmp_path, DeliveryWorker)


async def test_403_scenario_rejects_a_worker_that_retries_forbidden(
    database_url: str, ring: KeyRing, tmp_path: Path
) -> None:
    await rejected(forbidden_scenario(database_url, ring, tmp_path, RetriesForbidden))


# -- 502 forever: give up after the last attempt ---------------------------------------
async def bad_gateway_scenario(
    database_url: str, ring: KeyRing, tmp_path: Path, cls: type[DeliveryWorker]
) -> None:
    async with open_rig(database_url, ring, tmp_path, delivery_max_attempts=4) as rig:
        person = await rig.person(PERSON)
        mentor = await rig.mentor(MENTORS[0])
        await rig.mentor(COORDINATOR, role="coordinator", office_id=None)
        seeded = await rig.referral(person, [mentor])
        rig.emu.inject_fault("sendMessage", status=502, count=-1, chat_id=MENTORS[0])

        await rig.settle(rig.make_worker(cls), max_steps=160)

        assert len(rig.sends_to(MENTORS[0])) == 4
        row = (await outbox(rig.database))[seeded.cards[mentor]]
        assert (row.status, row.last_error, row.attempts) == ("dead", Reason.GAVE_UP, 4)
        assert rig.emu.bot_texts(COORDINATOR) == [named_alert(seeded.ref, "gave_up")]


async def test_502_forever_is_dead_after_max_attempts_and_alerted(
    database_url: str, ring: KeyRing, tmp_path: Path
) -> None:
    await bad_gateway_scenario(database_url, ring, tmp_path, DeliveryWorker)


async def test_502_scenario_rejects_a_worker_that_never_gives_up(
    database_url: str, ring: KeyRing, tmp_path: Path
) -> None:
    await rejected(bad_gateway_scenario(database_url, ring, tmp_path, NeverGivesUp))


# -- 400: refused, dead at once ---------------------------------------------------------
async def test_400_is_dead_at_once_and_alerted(
    database_url: str, ring: KeyRing, tmp_path: Path
) -> None:
    async with open_rig(database_url, ring, tmp_path) as rig:
        person = await rig.person(PERSON)
        mentor = await rig.mentor(MENTORS[0])
        await rig.mentor(COORDINATOR, role="coordinator", office_id=None)
        seeded = await rig.referral(person, [mentor])
        rig.emu.inject_fault("sendMessage", status=400, count=-1, chat_id=MENTORS[0])

        await rig.settle(max_steps=100)

        assert len(rig.sends_to(MENTORS[0])) == 1
        row = (await outbox(rig.database))[seeded.cards[mentor]]
        assert (row.status, row.last_error) == ("dead", Reason.BAD_REQUEST)
        assert rig.emu.bot_texts(COORDINATOR) == [named_alert(seeded.ref, "bad_request")]


async def test_no_coordinator_means_a_logged_event_not_a_lost_alert(
    database_url: str, ring: KeyRing, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    async with open_rig(database_url, ring, tmp_path) as rig:
        person = await rig.person(PERSON)
        mentor = await rig.mentor(MENTORS[0])
        await rig.referral(person, [mentor])
        rig.emu.block_bot(MENTORS[0])
        with caplog.at_level("INFO", logger="firststep.delivery"):
            await rig.settle(max_steps=20)
        assert "event=delivery_alert_no_coordinator" in caplog.text
        assert not [r for r in (await outbox(rig.database)).values() if r.kind == "alert"]


async def test_alerts_go_to_the_areas_and_the_national_coordinators(
    database_url: str, ring: KeyRing, tmp_path: Path
) -> None:
    async with open_rig(database_url, ring, tmp_path) as rig:
        person = await rig.person(PERSON)
        mentor = await rig.mentor(MENTORS[0])
        here = await rig.mentor(COORDINATOR, role="coordinator", office_id=None)
        national = await rig.mentor(
            COORDINATOR + 1, role="coordinator", office_id=None, pilot_area=None
        )
        await rig.mentor(COORDINATOR + 2, role="coordinator", office_id=None, pilot_area="london")
        seeded = await rig.referral(person, [mentor])
        rig.emu.block_bot(MENTORS[0])
        await rig.settle(max_steps=20)
        alerts = [r for r in (await outbox(rig.database)).values() if r.kind == "alert"]
        assert sorted(a.recipient_id for a in alerts) == sorted([here, national])
        assert {a.status for a in alerts} == {"sent"}
        assert rig.emu.bot_texts(COORDINATOR + 2) == []
        assert seeded.ref in rig.emu.bot_texts(COORDINATOR + 1)[0]
