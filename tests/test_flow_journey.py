"""A person's journey through the real Application and the emulator."""

from __future__ import annotations

from conversations import texts
from tests.harness import Harness

ALEX = 7_700_000_001


async def test_new_person_notice_menu_disclosure_saved_support(harness: Harness) -> None:
    await harness.send(ALEX, "/start")
    shown = harness.all_text(ALEX)
    assert "Before you tell us anything" in shown
    assert "not end-to-end encrypted" in shown

    await harness.press(ALEX, texts.BTN_CONTINUE)
    assert harness.last_text(ALEX) == texts.MENU

    await harness.press(ALEX, texts.BTN_TELL)
    assert harness.last_text(ALEX) == texts.Q_SUBSTANCES
    await harness.press(ALEX, texts.OPTION_LABELS["alcohol"])
    assert "✓ " + texts.OPTION_LABELS["alcohol"] in harness.emu.button_texts(ALEX)
    await harness.press(ALEX, texts.BTN_DONE)
    await harness.press(ALEX, texts.OPTION_LABELS["1_to_5y"])
    await harness.press(ALEX, texts.BTN_PREFER_NOT)
    await harness.press(ALEX, texts.BTN_SKIP)
    assert harness.last_text(ALEX) == texts.Q_OWN_WORDS
    await harness.send(ALEX, "I drink most days and want to stop")

    shown = harness.all_text(ALEX)
    assert "✅ Saved" in shown
    assert "Alcohol" in shown
    assert "1 to 5 years" in shown
    assert "prefer not to say" in shown
    assert "I drink most days and want to stop" in shown

    await harness.press(ALEX, texts.BTN_SUPPORT)
    support = harness.all_text(ALEX)
    assert "Samaritans" in support
    assert "Drinkline" in support or "Alcoholics Anonymous" in support
