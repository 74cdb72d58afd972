"""Find support (issue 14 item 10), through the emulator as a person would.

Each number says what a call costs, from the directory's own charge band; SMART's number
is called an office line; a number found only in secondary sources says so; a service
with nothing to act on says "ask your GP or call FRANK", never "see the website"; help on
benefits, the law, families, naloxone, gambling and abuse at home is a tap away.
"""

from __future__ import annotations

import re

from conversations import texts
from conversations.steps import Step
from storage.directory import Charges, Topic, Verification, all_services, services_on
from tests.support.harness import Harness
from tests.support.journeys import reach

ALEX = 7_700_000_301


def line_of(said: str, text: str) -> tuple[str, str]:
    """The first line holding `text`, and the line after it (where caveats go)."""
    lines = said.splitlines()
    index = next(i for i, line in enumerate(lines) if text in line)
    return lines[index], lines[index + 1] if index + 1 < len(lines) else ""


def number_line(said: str, dial: str) -> tuple[str, str]:
    """The line that gives `dial` as a number to call (not "111" inside "82111"), and
    the line after it."""
    pattern = re.compile(rf"(call|office line) {re.escape(dial)} \(")
    lines = said.splitlines()
    index = next(i for i, line in enumerate(lines) if pattern.search(line))
    return lines[index], lines[index + 1] if index + 1 < len(lines) else ""


async def support_shown(harness: Harness) -> str:
    """What Find support shows, and nothing said before it."""
    await harness.onboard(ALEX)
    before = len(harness.texts(ALEX))
    await harness.press(ALEX, texts.BTN_SUPPORT)
    return "\n".join(harness.texts(ALEX)[before:])


async def test_every_number_says_what_a_call_costs_and_none_is_free_that_is_not(
    harness: Harness,
) -> None:
    said = await support_shown(harness)
    assert "All of these are free" not in said and "all of these are free" not in said
    shown = [s for s in all_services() if s.dial and s.topic is Topic.RECOVERY and s.dial in said]
    assert {"0300 123 6600", "116 123", "0300 999 1212", "0800 9177 650"} <= {s.dial for s in shown}
    for service in shown:
        assert service.dial is not None
        line, _ = number_line(said, service.dial)
        assert texts.SUPPORT_COST[service.charges.value] in line, line
        if service.charges is Charges.STANDARD_RATE:
            assert "free" not in line.split(service.dial, 1)[1].casefold(), line


async def test_smart_is_an_office_line_not_a_helpline(harness: Harness) -> None:
    said = await support_shown(harness)
    line, after = number_line(said, "0330 053 6022")
    assert "office line 0330 053 6022" in line
    assert after.strip() == texts.SUPPORT_OFFICE_LINE.strip()


async def test_numbers_from_secondary_sources_carry_the_caveat(harness: Harness) -> None:
    said = await support_shown(harness)
    caveat = texts.SUPPORT_SECONDARY.strip()
    for service in all_services():
        if service.dial is None or service.dial not in said or service.topic is not Topic.RECOVERY:
            continue
        _, after = number_line(said, service.dial)
        if service.verification is Verification.SECONDARY:
            assert after.strip() == caveat, service.name
        else:
            assert after.strip() != caveat, service.name
    assert "Drinkline" in said and "Cocaine Anonymous" in said


async def test_a_local_service_with_nothing_to_act_on_says_ask_your_gp_or_frank(
    harness: Harness,
) -> None:
    await reach(harness, ALEX, Step.FINDER_OFFICE)
    await harness.send(ALEX, "Hull")
    await harness.press(ALEX, texts.BTN_SUPPORT_NEAR)
    said = harness.all_text(ALEX)
    line, _ = line_of(said, "ReNew (Hull)")
    assert "ask your GP, or call FRANK on 0300 123 6600" in line, line
    assert "website" not in said.casefold().split("near kingston upon hull")[-1]


async def test_the_other_topics_are_a_tap_away(harness: Harness) -> None:
    await support_shown(harness)
    for topic in (t for t in Topic if t is not Topic.RECOVERY):
        await harness.press(ALEX, texts.SUPPORT_TOPIC_LABELS[topic.value])
        shown = harness.last_text(ALEX)
        assert shown.startswith(texts.SUPPORT_TOPIC_INTRO[topic.value]), topic
        for service in services_on(topic):
            assert service.name in shown, (topic, service.name)
            if service.dial:
                assert texts.SUPPORT_COST[service.charges.value] in shown
        await harness.press(ALEX, texts.BTN_SUPPORT)
    naloxone = next(t for t in harness.texts(ALEX) if t.startswith("Naloxone can save a life"))
    assert "ask your GP, or call FRANK" in naloxone


async def test_a_forged_topic_is_a_stale_button(harness: Harness) -> None:
    await support_shown(harness)
    message = harness.emu.last_bot_message(ALEX)
    assert message is not None
    harness.emu.forge_callback(ALEX, message.message_id, "s:t:lottery")
    await harness.settle()
    assert texts.STALE_BUTTON in harness.all_text(ALEX)
