"""The worker inside the Application: started by post_init, woken by handlers, stopped
cleanly; a 429 for one chat holds that chat, not other people's replies; it stays under
Telegram's overall rate."""

from __future__ import annotations

import time
from pathlib import Path

from bot.delivery import WAKE_KEY, TelegramLimiter, worker_of
from storage.crypto import KeyRing
from tests.support.delivery import open_rig, outbox, seed_mentor, seed_person, seed_referral
from tests.support.harness import Harness

PERSON = 7_100_000_301
MENTOR_IDS = [7_200_000_301, 7_200_000_302, 7_200_000_303, 7_200_000_304, 7_200_000_305]


async def test_the_running_application_delivers_and_stops_cleanly(
    database_url: str, ring: KeyRing, tmp_path: Path
) -> None:
    harness = Harness(database_url, ring, tmp_path, delivery=True)
    await harness.start()
    try:
        app = harness.app
        assert app is not None
        worker = worker_of(app)
        assert worker.running
        services = app.bot_data.services
        harness.emu.register_user(MENTOR_IDS[0], "Sam", started=True)
        mentor = await seed_mentor(services.database, ring, MENTOR_IDS[0], harness.clock())
        person = await seed_person(services.database, ring, PERSON, harness.clock())
        seeded = await seed_referral(services.database, ring, person, [mentor], harness.clock())
        services.extras[WAKE_KEY]()  # what a handler does after committing outbox rows
        await harness.emu.wait_for(
            lambda: bool(harness.emu.bot_texts(MENTOR_IDS[0])), 5, message="card delivered"
        )
        assert seeded.ref in harness.emu.bot_texts(MENTOR_IDS[0])[0]
        sent = harness.emu.calls("sendMessage")[-1]
        assert sent.params.get("protect_content") is True
        assert "parse_mode" not in sent.params
    finally:
        await harness.stop()
    assert not worker.running


async def test_delivery_false_attaches_an_idle_worker(
    database_url: str, ring: KeyRing, tmp_path: Path
) -> None:
    async with open_rig(database_url, ring, tmp_path) as rig:
        assert not rig.worker.running
        person = await rig.person(PERSON)
        mentor = await rig.mentor(MENTOR_IDS[0])
        seeded = await rig.referral(person, [mentor])
        assert (await outbox(rig.database))[seeded.cards[mentor]].status == "pending"
        assert await rig.worker.run_once() == 1
        assert (await outbox(rig.database))[seeded.cards[mentor]].status == "sent"


async def test_flood_control_from_the_worker_holds_that_chat_not_other_peoples_replies(
    database_url: str, ring: KeyRing, tmp_path: Path
) -> None:
    async with open_rig(database_url, ring, tmp_path, real_time=True, rate_limit=True) as rig:
        # FirstStepApp's ExtBot[None] does not say which limiter: the runtime check does.
        limiter: object = rig.app.bot.rate_limiter
        assert isinstance(limiter, TelegramLimiter)
        person = await rig.person(PERSON)
        mentor = await rig.mentor(MENTOR_IDS[0])
        await rig.referral(person, [mentor])
        rig.emu.inject_fault("sendMessage", status=429, retry_after=2)

        await rig.worker.run_once()  # the card meets the 429
        started = time.time()
        await rig.app.bot.send_message(PERSON, "A reply from a handler")  # goes at once
        assert time.time() - started < 1.0
        await rig.app.bot.send_message(MENTOR_IDS[0], "To the held chat")  # waits
        assert time.time() - started >= 1.9

        flood, reply, held = rig.emu.calls("sendMessage")
        assert flood.status == 429
        assert reply.params["text"] == "A reply from a handler"
        assert reply.status == 200
        assert held.params["chat_id"] == MENTOR_IDS[0]
        assert held.at >= flood.at + 2.0


async def test_stays_under_telegrams_overall_rate(
    database_url: str, ring: KeyRing, tmp_path: Path
) -> None:
    """150 cards through the production stack (TelegramLimiter and the worker's own
    pacing) against an emulator enforcing 30 messages a second: no 429, all delivered.
    The rate reached is printed for the record; bench/ measures it properly."""
    async with open_rig(database_url, ring, tmp_path, real_time=True, rate_limit=True) as rig:
        rig.emu.enforce_rate_limit(overall_per_second=30)
        mentors = [await rig.mentor(m) for m in MENTOR_IDS]
        for n in range(30):
            person = await rig.person(PERSON + 1 + n)
            await rig.referral(person, mentors)
        total = 30 * len(MENTOR_IDS)

        rig.worker.start()
        try:
            await rig.emu.wait_for(
                lambda: sum(c.status == 200 for c in rig.emu.calls("sendMessage")) >= total,
                60,
                message="every card delivered",
            )
        finally:
            await rig.worker.stop()
        calls = rig.emu.calls("sendMessage")
        assert [c.status for c in calls] == [200] * total
        span = calls[-1].at - calls[0].at
        print(f"delivered {total} in {span:.2f}s: {(total - 1) / span:.1f} messages/s")
