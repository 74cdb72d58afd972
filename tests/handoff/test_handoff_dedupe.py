"""A mentor's update that Telegram delivers again after a restart (the process died
before confirming it) is acted on once: a reply is passed on once, a command runs once.

The guard remembers recent update ids only in memory; what survives a restart is the
claim written in the database, in the same transaction as what the update did. A
mentor's message or command is handled by the mentor gate, so the gate makes that claim.
"""

from __future__ import annotations

import pytest

from conversations import outcome, texts
from conversations.mentor import gate
from tests.support.handoff import drain, join_as_mentor, request_mentor
from tests.support.harness import Harness

OFFICE = "portsmouth-arundel-street"
SAM = 8_800_930_001
ALEX = 7_700_930_001


async def connected(harness: Harness) -> str:
    await join_as_mentor(harness, SAM, "Sam", office_id=OFFICE)
    ref = await request_mentor(harness, ALEX, OFFICE)
    await drain(harness)
    await harness.press(SAM, texts.BTN_ACCEPT)
    await drain(harness)
    return ref


async def sent_again_after_a_restart(harness: Harness, text: str) -> None:
    sent = harness.emu.user_sends(SAM, text)
    await harness.settle()
    await drain(harness)
    await harness.restart()  # the guard's memory of recent updates is gone
    harness.emu.redeliver(sent.update_id)
    await harness.settle()
    await drain(harness)


async def test_a_reply_delivered_again_after_a_restart_is_passed_on_once(
    harness: Harness,
) -> None:
    await connected(harness)
    await sent_again_after_a_restart(harness, "Hi, I'm Sam.")
    assert harness.texts(ALEX).count("Sam: Hi, I'm Sam.") == 1


async def test_a_command_delivered_again_after_a_restart_runs_once(harness: Harness) -> None:
    ref = await connected(harness)
    await sent_again_after_a_restart(harness, f"/to {ref} are you there?")
    assert harness.texts(ALEX).count("Sam: are you there?") == 1
    shown = len(harness.texts(SAM))
    await sent_again_after_a_restart(harness, "/away")
    assert harness.texts(SAM)[shown:] == [texts.MENTOR_AWAY]


async def test_a_person_writing_after_a_mentor_is_not_taken_for_a_redelivery(
    harness: Harness,
) -> None:
    """The gate claims only what it handles: a person's own message goes on to their
    flow, which claims it there (once)."""
    ref = await connected(harness)
    await harness.send(ALEX, "hello")
    await drain(harness)
    assert harness.last_text(SAM) == f"{ref}: hello"
    await harness.send(SAM, "hello to you")
    await drain(harness)
    assert harness.last_text(ALEX) == "Sam: hello to you"


async def test_without_the_gates_claim_the_reply_would_go_twice(
    harness: Harness, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The broken variant (the gate acts without claiming, as before, and relays are sent
    straight after the step instead of queued under the update's dedupe key): the
    assertion of the first test above rejects it."""

    async def no_claim(*args: object, **kwargs: object) -> None:
        return None

    monkeypatch.setattr(gate, "claim_deferred", no_claim)
    monkeypatch.setattr(outcome, "RELAY_ROUTE", outcome.Route.DIRECT)
    await connected(harness)
    await sent_again_after_a_restart(harness, "Hi, I'm Sam.")
    assert harness.texts(ALEX).count("Sam: Hi, I'm Sam.") == 2
