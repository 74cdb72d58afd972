"""Taking a person to any step of their journey, the way they would get there: by tapping."""

from __future__ import annotations

from conversations import texts
from conversations.steps import Step
from tests.support.harness import Harness

DISCLOSURE_STEPS = (
    Step.DISCLOSE_SUBSTANCES,
    Step.DISCLOSE_DURATION,
    Step.DISCLOSE_SUPPORT,
    Step.DISCLOSE_NEEDS,
    Step.DISCLOSE_OWN_WORDS,
)
# Every step of the person's side this flow set owns (the mentor steps are tested apart).
PERSON_STEPS = (
    Step.MENU,
    *DISCLOSURE_STEPS,
    Step.FINDER_OFFICE,
    Step.FINDER_PLACE,
    Step.FORGET_CONFIRM,
)


async def reach(harness: Harness, user_id: int, step: Step) -> None:
    """A new person accepts the notice and taps their way to `step`."""
    await harness.onboard(user_id)
    if step in DISCLOSURE_STEPS:
        await harness.press(user_id, texts.BTN_TELL)
        for _ in range(DISCLOSURE_STEPS.index(step)):
            await harness.press(user_id, texts.BTN_SKIP)
    elif step == Step.FINDER_OFFICE:
        await harness.press(user_id, texts.BTN_JOBCENTRE)
    elif step == Step.FINDER_PLACE:
        await harness.press(user_id, texts.BTN_JOBCENTRE)
        await harness.press(user_id, texts.BTN_DONT_KNOW)
    elif step == Step.FORGET_CONFIRM:
        await harness.send(user_id, "/forget")
    assert await harness.state(user_id) == step
