"""An unclaimed request climbs: reminder → the whole pilot area → the coordinators, with
an honest update to the person at each rung. Driven by the harness clock."""

from __future__ import annotations

from conversations import texts
from conversations.mentor.ladder import run_ladder
from storage.models import MentorRole
from storage.repositories.outbox import Kind
from tests.support.handoff import drain, join_as_mentor, request_mentor, services_of
from tests.support.harness import Harness

DUKE_STREET, WEST_DERBY, HULL = (
    "liverpool-duke-street",
    "west-derby-eaton-road",
    "hull-britannia-house",
)
SAM, JO, CORA, ALL, HUGH = (8_800_500_000 + n for n in range(1, 6))
ALEX, BEA, CAL = 7_700_500_001, 7_700_500_002, 7_700_500_003


async def climb(harness: Harness) -> int:
    services = services_of(harness)
    return await run_ladder(services.database, services.ring, services.settings, services.clock())


def kinds_to(delivered: list[tuple[str, int]], chat: int) -> list[str]:
    return [kind for kind, to in delivered if to == chat]


async def test_unclaimed_request_climbs_the_ladder_and_the_person_is_told(
    harness: Harness,
) -> None:
    await join_as_mentor(harness, SAM, "Sam", office_id=DUKE_STREET)
    await join_as_mentor(harness, JO, "Jo", office_id=WEST_DERBY)  # same pilot area
    await join_as_mentor(harness, CORA, "Cora", area="Liverpool", role=MentorRole.COORDINATOR)
    await join_as_mentor(harness, ALL, "Al", role=MentorRole.COORDINATOR)  # every area
    await join_as_mentor(harness, HUGH, "Hugh", area="Hull", role=MentorRole.COORDINATOR)

    ref = await request_mentor(harness, ALEX, DUKE_STREET)
    assert "within 4 hours" in harness.last_text(ALEX)
    sent = (await drain(harness)).sent
    assert sent == [(Kind.CARD, SAM)]
    assert await climb(harness) == 0

    # Before the area is asked, Jo (another office) may not take it.
    card = harness.emu.last_bot_message(SAM)
    assert card is not None
    last_jo = harness.emu.last_bot_message(JO)
    assert last_jo is not None
    harness.emu.forge_callback(JO, last_jo.message_id, f"mc:acc:{ref}")
    await harness.settle()
    assert list(harness.emu.callback_answers().values())[-1].text == texts.TOAST_NOT_YOURS

    harness.clock.advance(minutes=240)
    assert await climb(harness) == 1
    sent = (await drain(harness)).sent
    assert kinds_to(sent, SAM) == [Kind.REMINDER]
    assert kinds_to(sent, ALEX) == [Kind.LADDER_UPDATE]
    assert harness.last_text(ALEX) == texts.LADDER_REMINDED.format(
        ref=ref, office="Liverpool Duke Street Jobcentre (city centre)"
    )
    assert texts.BTN_WITHDRAW in harness.emu.button_texts(ALEX)
    assert await climb(harness) == 0  # nothing more is due yet

    harness.clock.advance(minutes=1440 - 240)
    assert await climb(harness) == 1
    sent = (await drain(harness)).sent
    assert kinds_to(sent, JO) == [Kind.CARD]
    assert kinds_to(sent, SAM) == []  # Sam already has the card
    assert harness.last_text(ALEX) == texts.LADDER_WIDENED.format(ref=ref, area="Liverpool")

    harness.clock.advance(minutes=2880 - 1440)
    assert await climb(harness) == 1
    sent = (await drain(harness)).sent
    assert kinds_to(sent, CORA) == [Kind.ALERT] and kinds_to(sent, ALL) == [Kind.ALERT]
    assert kinds_to(sent, HUGH) == []  # another area's coordinator is not bothered
    assert ref in harness.last_text(CORA) and "2 days" in harness.last_text(CORA)
    assert harness.last_text(ALEX) == texts.LADDER_TEAM.format(ref=ref)
    harness.clock.advance(days=5)
    assert await climb(harness) == 0  # the top rung: people take it from here

    # Now Jo may take it; Sam's card and reminder both say it was taken.
    await harness.press(JO, texts.BTN_ACCEPT)
    assert harness.last_text(JO) == texts.CARD_YOURS.format(ref=ref)
    sent = (await drain(harness)).sent
    assert kinds_to(sent, SAM) == [Kind.CARD_UPDATE, Kind.CARD_UPDATE]
    assert harness.emu.buttons(SAM) == []
    assert harness.last_text(ALEX).startswith("🤝 Good news. Jo, a peer mentor at")


async def test_no_mentor_anywhere_is_said_honestly(harness: Harness) -> None:
    ref = await request_mentor(harness, BEA, HULL)
    assert harness.last_text(BEA).startswith(f"✅ Saved. Your reference is {ref}.")
    assert "pilot team" not in harness.last_text(BEA)  # there is no coordinator to ask
    assert (await drain(harness)).sent == []
    harness.clock.advance(days=3)
    assert await climb(harness) == 0

    await join_as_mentor(harness, HUGH, "Hugh", area="Hull", role=MentorRole.COORDINATOR)
    ref = await request_mentor(harness, CAL, HULL)
    assert "We've asked the pilot team" in harness.last_text(CAL)
    sent = (await drain(harness)).sent
    assert sent == [(Kind.ALERT, HUGH)]
    assert harness.last_text(HUGH) == texts.ALERT_NO_MENTORS.format(
        ref=ref, office="Hull Britannia House Jobcentre", area="Hull"
    )
    # Hugh can see what waits in his area.
    await harness.send(HUGH, "/referrals")
    assert ref in harness.last_text(HUGH)


async def test_the_running_application_has_the_ladder_job(harness: Harness) -> None:
    """The JobQueue runs the same pass when a step falls due; run it once, as the queue would."""
    assert harness.app is not None and harness.app.job_queue is not None
    (job,) = harness.app.job_queue.get_jobs_by_name("ladder")
    assert job.next_t is not None  # scheduled: the queue started with the Application
    await join_as_mentor(harness, SAM, "Sam", office_id=DUKE_STREET)
    ref = await request_mentor(harness, ALEX, DUKE_STREET)
    await drain(harness)
    harness.clock.advance(minutes=241)
    await job.run(harness.app)
    sent = (await drain(harness)).sent
    assert (Kind.REMINDER, SAM) in sent and (Kind.LADDER_UPDATE, ALEX) in sent
    assert ref in harness.last_text(ALEX)
