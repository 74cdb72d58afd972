"""Issue 13 item 5: a location shared inside a live chat is not passed on, does not
restart the Jobcentre finder, and leaves the person in the chat."""

from __future__ import annotations

from conversations import texts
from conversations.steps import Step
from tests.handoff.test_handoff_relay import OFFICE, connected
from tests.support.handoff import drain, join_as_mentor
from tests.support.harness import Harness

SAM = 8_801_400_001
ALEX = 7_701_400_001
STOCKWELL = (51.474971, -0.118742)


async def test_a_location_in_a_live_chat_is_not_passed_on_and_the_chat_goes_on(
    harness: Harness,
) -> None:
    await join_as_mentor(harness, SAM, "Sam", office_id=OFFICE)
    ref = await connected(harness, ALEX, SAM)
    mentor_saw = list(harness.texts(SAM))
    shown = len(harness.texts(ALEX))

    await harness.location(ALEX, *STOCKWELL)
    replies = harness.texts(ALEX)[shown:]
    assert replies == [texts.RELAY_NO_LOCATION.format(name="Sam")]
    assert await harness.state(ALEX) == Step.WITH_MENTOR
    await drain(harness)
    assert harness.texts(SAM) == mentor_saw  # nothing reached the mentor

    await harness.send(ALEX, "still here")
    await drain(harness)
    assert harness.last_text(SAM) == f"{ref}: still here"
