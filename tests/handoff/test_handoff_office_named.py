"""Issue 13 item 4: the person is told the office of the mentor who took their request,
not the office they asked at (a request widened to the area is taken elsewhere)."""

from __future__ import annotations

from conversations import texts
from storage.repositories.outbox import Kind
from tests.handoff.test_handoff_ladder import climb
from tests.support.handoff import drain, join_as_mentor, request_mentor
from tests.support.harness import Harness

STOCKWELL, KENNINGTON = "stockwell-clapham-road", "kennington-park-road"
SAM, KIM = 8_801_300_001, 8_801_300_002
ALEX = 7_701_300_001


async def test_a_request_taken_at_the_area_step_names_the_mentors_own_office(
    harness: Harness,
) -> None:
    await join_as_mentor(harness, SAM, "Sam", office_id=STOCKWELL)
    await join_as_mentor(harness, KIM, "Kim", office_id=KENNINGTON)  # Lambeth too
    ref = await request_mentor(harness, ALEX, STOCKWELL)
    assert (await drain(harness)).sent == [(Kind.CARD, SAM)]
    harness.clock.advance(minutes=240)
    await climb(harness)
    harness.clock.advance(minutes=1200)
    await climb(harness)
    sent = (await drain(harness)).sent
    assert (Kind.CARD, KIM) in sent

    await harness.press(KIM, texts.BTN_ACCEPT)
    await drain(harness)
    told = [t for t in harness.texts(ALEX) if t.startswith("🤝 Good news.")]
    assert told == [
        texts.MENTOR_ACCEPTED.format(name="Kim", office="Kennington Park Jobcentre", ref=ref)
    ]
    assert "Stockwell" not in told[0]
