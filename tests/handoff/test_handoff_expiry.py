"""A request nobody takes does not stay live for ever: after `referral_pending_max_days`
the ladder job withdraws it, tells the person kindly that they may ask again, takes the
Accept button off the mentors' cards (a late tap is answered kindly), and the retention
purge can then erase the person in its time. Driven by the harness clock."""

from __future__ import annotations

from bot.housekeeping import run_purge
from conversations import texts
from conversations.mentor.ladder import expire_unclaimed
from conversations.steps import Step
from storage.models import ReferralStatus
from storage.operations.retention import RetentionPolicy
from storage.repositories.outbox import Kind
from storage.repositories.referrals import by_ref
from tests.support.handoff import (
    drain,
    join_as_mentor,
    request_mentor,
    run_job,
    services_of,
)
from tests.support.harness import Harness

DUKE_STREET = "liverpool-duke-street"
SAM = 8_800_950_001
ALEX, BEA = 7_700_950_001, 7_700_950_002


async def status_of(harness: Harness, ref: str) -> str:
    async with services_of(harness).database.transaction() as connection:
        referral = await by_ref(connection, ref)
    assert referral is not None
    return referral.status


async def purge(harness: Harness, policy: RetentionPolicy | None = None) -> dict[str, int]:
    """The daily purge job's work, at the harness clock (the settings' policy by default)."""
    policy = policy or RetentionPolicy.from_settings(harness.settings)
    return await run_purge(services_of(harness), policy)


async def test_an_unclaimed_request_is_withdrawn_kindly_after_the_maximum_age(
    harness: Harness,
) -> None:
    assert harness.settings.referral_pending_max_days == 14
    await join_as_mentor(harness, SAM, "Sam", office_id=DUKE_STREET)
    ref = await request_mentor(harness, ALEX, DUKE_STREET)
    await drain(harness)
    card = harness.emu.last_bot_message(SAM)
    assert card is not None and texts.BTN_ACCEPT in harness.emu.button_texts(SAM)

    # Two weeks less a minute: still waiting (the ladder has done its rungs).
    harness.clock.advance(days=14, minutes=-1)
    await run_job(harness)
    await drain(harness)
    assert await status_of(harness, ref) == ReferralStatus.PENDING
    assert await harness.state(ALEX) == Step.WAITING_FOR_MENTOR
    # Even with the shortest retention, a live request keeps Alex's data.
    await purge(harness, RetentionPolicy(inactive_days=1, after_close_days=1))
    assert await harness.record(ALEX) is not None

    harness.clock.advance(minutes=2)
    await run_job(harness)
    assert await status_of(harness, ref) == ReferralStatus.WITHDRAWN
    delivered = await drain(harness)
    assert (Kind.EXPIRED, ALEX) in delivered.sent
    assert harness.last_text(ALEX) == texts.LADDER_EXPIRED.format(ref=ref, waited="14 days")
    assert harness.emu.button_texts(ALEX) == [texts.BTN_SUPPORT]
    assert await harness.state(ALEX) == Step.MENU

    # Every card and reminder Sam had now says so, without buttons.
    cards = [message for message in harness.emu.chat(SAM) if ref in (message.text or "")]
    assert len(cards) == 2  # the card and the ladder's reminder
    for message in cards:
        assert message.text == texts.CARD_EXPIRED.format(ref=ref)
        assert message.reply_markup is None
    # A tap that was already on its way is answered kindly and changes nothing.
    harness.emu.forge_callback(SAM, card.message_id, f"mc:acc:{ref}")
    await harness.settle()
    assert list(harness.emu.callback_answers().values())[-1].text == texts.TOAST_ENDED
    assert await status_of(harness, ref) == ReferralStatus.WITHDRAWN

    # Once only, and Alex may ask again.
    await run_job(harness)
    assert (await drain(harness)).sent == []
    await harness.send(ALEX, "/mentor")
    assert texts.BTN_THIS_OFFICE in harness.emu.button_texts(ALEX)

    # The retention purge now erases Alex in its time.
    harness.clock.advance(days=harness.settings.retention_after_close_days + 1)
    counts = await purge(harness)
    assert counts["people_after_close"] == 1
    assert await harness.record(ALEX) is None


async def test_a_request_taken_in_time_is_left_alone(harness: Harness) -> None:
    await join_as_mentor(harness, SAM, "Sam", office_id=DUKE_STREET)
    ref = await request_mentor(harness, BEA, DUKE_STREET)
    await drain(harness)
    harness.clock.advance(days=13)
    await harness.press(SAM, texts.BTN_ACCEPT)
    harness.clock.advance(days=30)
    services = services_of(harness)
    now = harness.clock()
    assert await expire_unclaimed(services.database, services.ring, services.settings, now) == 0
    assert await status_of(harness, ref) == ReferralStatus.ACCEPTED
    assert not [kind for kind, _ in (await drain(harness)).sent if kind == Kind.EXPIRED]
