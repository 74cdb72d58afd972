"""The guards every update passes: each one driven through the real Application.

Groups and channels, repeated update ids, people sending too fast, media, huge texts
and edits. The duplicate and rate tests also run against broken variants, to show their
assertions catch the fault they are about.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

import bot.guards as guards
import conversations.flow as flow
from conversations import texts
from conversations.steps import Step
from storage.crypto import KeyRing
from tests.support.dbscan import (
    all_rows,
    cells_containing,
    files_containing,
    row_counts,
    sqlite_files,
)
from tests.support.harness import Harness
from tests.support.journeys import reach

ALEX = 7_700_000_201
BEA = 7_700_000_202
GROUP = -4_000_000_001
SUPERGROUP = -1_000_000_000_042
CHANNEL = -1_000_000_000_077


def sent_since(harness: Harness, mark: int) -> list[Any]:
    """Requests other than polling made after `mark` (an index into the call log)."""
    return [call for call in harness.emu.calls()[mark:] if call.method != "getUpdates"]


async def test_groups_supergroups_and_channels_get_no_reply_and_no_write(
    harness: Harness,
) -> None:
    await harness.onboard(ALEX)
    before = await row_counts(harness.services.database)
    harness.emu.add_group(GROUP, "Friends", kind="group")
    harness.emu.add_group(SUPERGROUP, "Big group", kind="supergroup")
    mark = len(harness.emu.calls())
    harness.emu.user_sends(ALEX, "hello everyone", chat_id=GROUP)
    harness.emu.user_sends(ALEX, "/start", chat_id=GROUP)
    harness.emu.user_sends(ALEX, "/forget", chat_id=SUPERGROUP)
    harness.emu.user_sends(ALEX, "PO1 2AB", chat_id=SUPERGROUP)
    harness.emu.user_sends_media(ALEX, "photo", chat_id=SUPERGROUP)
    harness.emu.channel_post(CHANNEL, "news")
    await harness.settle()
    assert sent_since(harness, mark) == []
    assert await row_counts(harness.services.database) == before  # processed_updates too
    assert await harness.state(ALEX) == Step.MENU


async def test_the_bot_leaves_a_group_it_is_added_to(harness: Harness) -> None:
    harness.person(ALEX)
    before = await row_counts(harness.services.database)
    harness.emu.bot_added_to_group(GROUP, ALEX, title="Recovery chat")
    await harness.settle()
    await harness.settle()  # the leave itself comes back as an update
    leaves = harness.emu.calls("leaveChat")
    assert len(leaves) == 1
    assert leaves[0].params["chat_id"] == GROUP
    assert harness.emu.bot_status(GROUP) == "left"
    assert harness.emu.calls("sendMessage") == []
    assert await row_counts(harness.services.database) == before


# --- a repeated update_id -------------------------------------------------------------


async def redelivered_updates_are_handled_once(harness: Harness) -> None:
    await reach(harness, ALEX, Step.DISCLOSE_DURATION)
    tap = harness.emu.press_button(ALEX, texts.OPTION_LABELS["1_to_5y"])
    await harness.settle()
    typed = harness.emu.user_sends(ALEX, "ages")
    await harness.settle()
    shown = len(harness.texts(ALEX))
    person = await harness.record(ALEX)
    assert person is not None and person.state == Step.DISCLOSE_SUPPORT

    for update_id in (tap.update_id, typed.update_id):
        harness.emu.redeliver(update_id)
    await harness.settle()
    await harness.restart()  # and after a restart, from the database
    for update_id in (tap.update_id, typed.update_id):
        harness.emu.redeliver(update_id)
    await harness.settle()

    assert len(harness.texts(ALEX)) == shown, "a redelivered update was handled again"
    again = await harness.record(ALEX)
    assert again is not None
    assert (again.state, again.state_version) == (person.state, person.state_version)
    assert await harness.answers(ALEX) == {"duration": "1_to_5y"}


async def test_a_repeated_update_id_is_handled_once(harness: Harness) -> None:
    await redelivered_updates_are_handled_once(harness)


async def test_redelivery_check_rejects_a_guard_without_deduplication(
    harness: Harness, monkeypatch: pytest.MonkeyPatch
) -> None:
    async def always_new(*args: Any) -> bool:
        return True

    # No deduplication anywhere: not in the guard's memory, not in its own claim, not in
    # the claim a person flow makes in its transaction.
    monkeypatch.setattr(guards, "claim_update_from", always_new)
    monkeypatch.setattr(guards.RecentUpdates, "__contains__", lambda self, update_id: False)
    monkeypatch.setattr(flow, "claim_in", always_new)
    with pytest.raises(AssertionError, match="handled again"):
        await redelivered_updates_are_handled_once(harness)


async def test_a_repeated_start_before_the_notice_is_answered_once(harness: Harness) -> None:
    harness.person(BEA)
    start = harness.emu.user_sends(BEA, "/start")
    await harness.settle()
    shown = harness.texts(BEA)
    harness.emu.redeliver(start.update_id)
    await harness.settle()
    assert harness.texts(BEA) == shown
    assert sum((await row_counts(harness.services.database)).values()) == 0


# --- too fast -------------------------------------------------------------------------

LIMIT = 20


@pytest.fixture
async def limited(database_url: str, ring: KeyRing, tmp_path: Path) -> Any:
    running = Harness(database_url, ring, tmp_path, rate_limit_messages=LIMIT)
    await running.start()
    yield running
    await running.stop()


async def one_person_floods(harness: Harness, flood: int = 300) -> None:
    await harness.onboard(ALEX)
    await harness.onboard(BEA)
    harness.clock.advance(minutes=2)  # a fresh window for both
    for number in range(flood):
        harness.emu.user_sends(ALEX, f"message {number}")
        if number % (flood // 5) == flood // 10:
            harness.emu.user_sends(BEA, f"hello {number}")
    await harness.settle(timeout=60)

    handled = harness.texts(ALEX).count(texts.MENU_TYPED)
    warnings = harness.texts(ALEX).count(texts.SLOW_DOWN)
    assert handled + warnings <= LIMIT + 1, f"handled {handled} of {flood} from one person"
    assert handled == LIMIT
    assert warnings == 1, f"{warnings} warnings"
    assert harness.texts(BEA).count(texts.MENU_TYPED) == 5, "everyone else is served"

    harness.emu.user_sends(ALEX, "still there?")
    await harness.settle()
    assert harness.texts(ALEX).count(texts.MENU_TYPED) == LIMIT, "ignored until the window ends"
    harness.clock.advance(seconds=harness.settings.rate_limit_window_seconds)
    await harness.send(ALEX, "and now?")
    assert harness.texts(ALEX)[-2:] == [texts.MENU_TYPED, texts.MENU]


async def test_a_person_sending_too_fast_gets_one_note_and_others_are_served(
    limited: Harness,
) -> None:
    await one_person_floods(limited)


@pytest.mark.parametrize(
    "broken",
    [lambda self, key: "ok", lambda self, key: "warn"],
    ids=["never-limits", "warns-every-time"],
)
async def test_rate_check_rejects_broken_limiters(
    limited: Harness, monkeypatch: pytest.MonkeyPatch, broken: Any
) -> None:
    monkeypatch.setattr(guards.RateLimiter, "check", broken)
    with pytest.raises(AssertionError):
        await one_person_floods(limited, flood=3 * LIMIT)  # enough to show it, and quick


async def test_a_crisis_message_is_answered_even_when_sending_too_fast(limited: Harness) -> None:
    await limited.onboard(ALEX)
    for number in range(LIMIT + 5):
        limited.emu.user_sends(ALEX, f"message {number}")
    limited.emu.user_sends(ALEX, "I want to kill myself")
    limited.emu.user_sends(ALEX, "I want to kill myself")
    await limited.settle()
    assert limited.texts(ALEX).count(texts.CRISIS) == 1
    assert limited.last_text(ALEX) == texts.CRISIS


# --- media, contacts, huge texts, edits ------------------------------------------------

MEDIA = ("photo", "sticker", "voice", "video", "document")


def file_ids(harness: Harness, user_id: int) -> set[str]:
    """Every file_id the person's media carried (found anywhere in the update payloads)."""
    found: set[str] = set()

    def walk(value: Any) -> None:
        if isinstance(value, dict):
            for key, item in value.items():
                if key in ("file_id", "file_unique_id") and isinstance(item, str):
                    found.add(item)
                walk(item)
        elif isinstance(value, list):
            for item in value:
                walk(item)

    for message in harness.emu.chat(user_id):
        if not message.from_bot:
            walk(message.raw)
    return found


async def test_media_and_contacts_get_one_kind_reply_and_are_never_fetched_or_kept(
    harness: Harness, database_url: str
) -> None:
    await reach(harness, ALEX, Step.DISCLOSE_OWN_WORDS)
    before = await row_counts(harness.services.database)
    for kind in MEDIA:
        harness.emu.user_sends_media(ALEX, kind, caption="this is me" if kind == "photo" else None)
        await harness.settle()
        assert harness.last_text(ALEX) == texts.ONLY_TEXT, kind
    harness.emu.user_sends_contact(ALEX, "+447700900555")
    await harness.settle()
    assert harness.texts(ALEX).count(texts.ONLY_TEXT) == len(MEDIA) + 1, "one reply each"

    assert harness.emu.calls("getFile") == []
    ids = file_ids(harness, ALEX)
    assert len(ids) >= len(MEDIA) * 2
    rows = await all_rows(harness.services.database)
    for value in [*ids, "+447700900555", "447700900555", "this is me"]:
        assert cells_containing(rows, value) == [], value
        assert files_containing(sqlite_files(database_url), value) == [], value
    after = await row_counts(harness.services.database)
    assert after["disclosures"] == before["disclosures"] == 0
    assert await harness.state(ALEX) == Step.DISCLOSE_OWN_WORDS
    # …and the step still works.
    await harness.send(ALEX, "just text now")
    assert await harness.answers(ALEX) == {"own_words": "just text now"}


async def test_media_before_the_notice_keeps_nothing(harness: Harness) -> None:
    harness.person(BEA)
    harness.emu.user_sends_media(BEA, "voice")
    await harness.settle()
    assert harness.texts(BEA) == [texts.ONLY_TEXT]
    assert sum((await row_counts(harness.services.database)).values()) == 0


async def test_text_over_the_cap_is_not_kept_and_the_person_is_asked_to_shorten_it(
    harness: Harness,
) -> None:
    await reach(harness, ALEX, Step.DISCLOSE_OWN_WORDS)
    limit = harness.settings.max_text_length
    await harness.send(ALEX, "x" * 4096)
    assert harness.last_text(ALEX) == texts.TOO_LONG.format(length=4096, limit=limit)
    assert (await row_counts(harness.services.database))["disclosures"] == 0
    assert await harness.state(ALEX) == Step.DISCLOSE_OWN_WORDS

    # (Words the crisis check leaves alone: a check-in's words are not kept either.)
    words = ("I drink at weekends and I would like to talk to someone about it. " * 16)[:999]
    assert len(words) == 999
    await harness.send(ALEX, words)
    assert await harness.answers(ALEX) == {"own_words": words}


async def test_edited_messages_change_nothing(harness: Harness) -> None:
    await reach(harness, ALEX, Step.DISCLOSE_OWN_WORDS)
    sent = harness.emu.user_sends(ALEX, "first version")
    await harness.settle()
    person = await harness.record(ALEX)
    assert person is not None
    assert sent.message_id is not None
    harness.emu.user_edits(ALEX, sent.message_id, "second version")
    await harness.settle()
    assert harness.last_text(ALEX) == texts.EDITS_IGNORED
    assert await harness.answers(ALEX) == {"own_words": "first version"}
    again = await harness.record(ALEX)
    assert again is not None
    assert (again.state, again.state_version, again.draft) == (
        person.state,
        person.state_version,
        person.draft,
    )

    await harness.send(ALEX, "/jobcentre")
    typed = harness.emu.user_sends(ALEX, "XYZ")
    await harness.settle()
    assert typed.message_id is not None
    harness.emu.user_edits(ALEX, typed.message_id, "hull")
    await harness.settle()
    assert harness.last_text(ALEX) == texts.EDITS_IGNORED
    assert "Hull" not in harness.all_text(ALEX)
    assert await harness.state(ALEX) == Step.FINDER_OFFICE


async def test_a_message_kind_we_do_not_know_gets_the_same_kind_reply(harness: Harness) -> None:
    """A kind Telegram adds later (no text, nothing we know) is refused the same kind way."""
    await harness.onboard(ALEX)
    chat = {"id": ALEX, "type": "private", "first_name": "Alex"}
    user = {"id": ALEX, "is_bot": False, "first_name": "Alex"}
    message = {"message_id": 9_000, "date": 1_700_000_000, "chat": chat, "from": user}
    harness.emu.raw_update({"message": {**message, "future_kind": {"size": 3}}})
    await harness.settle()
    assert harness.last_text(ALEX) == texts.ONLY_TEXT
    assert await harness.state(ALEX) == Step.MENU
