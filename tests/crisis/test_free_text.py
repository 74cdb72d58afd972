"""Where the check runs: a person's own words, never command arguments that are codes."""

from __future__ import annotations

import secrets
import string

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from conversations import texts
from conversations.safety.check import assess
from conversations.safety.free_text import free_text
from conversations.safety.urgent_help import crisis_verdict
from storage.repositories.mentors import CODE_SHAPE, new_invite_code
from tests.support.harness import Harness

CODE_ALPHABET = string.ascii_letters + string.digits + "-_"
invite_codes = st.text(alphabet=CODE_ALPHABET, min_size=22, max_size=22)
# Invite-shaped codes that spell danger, as random ones sometimes do: checked as words,
# each would get a crisis reply.
DANGEROUS_CODES = ("kms_aaaaaaaaaaaaaaaaaa", "overdose-bbbbbbbbbbbbb", "kill-myself-cccccccccc")


def test_the_dangerous_codes_are_codes_and_would_trigger_as_words() -> None:
    for code in DANGEROUS_CODES:
        assert CODE_SHAPE.match(code)
        assert assess(code) is not None, code


@pytest.mark.parametrize(
    ("text", "words"),
    [
        ("I want to die", "I want to die"),
        ("/join abc", None),
        ("/join", None),
        ("/JOIN@FirstStepBot kms_aaaaaaaaaaaaaaaaaa", None),
        ("/start join-kms_aaaaaaaaaaaaaaaaaa", None),
        ("/start jc_portsmouth-arundel-street", None),
        ("/to R-7KQ3XW I want to die", "I want to die"),
        ("/to R-7KQ3XW", None),
        ("/help I can't go on", "I can't go on"),
        ("/menu", None),
        ("", None),
        (None, None),
    ],
)
def test_free_text(text: str | None, words: str | None) -> None:
    assert free_text(text) == words


@settings(max_examples=3000, deadline=None)
@given(invite_codes)
def test_join_with_any_invite_code_never_gets_a_crisis_reply(code: str) -> None:
    assert crisis_verdict(f"/join {code}") is None
    assert crisis_verdict(f"/start join-{code}") is None


def test_real_invite_codes_never_get_a_crisis_reply() -> None:
    for _ in range(2000):
        code = new_invite_code()
        assert crisis_verdict(f"/join {code}") is None


@settings(max_examples=300, deadline=None)
@given(invite_codes, st.sampled_from(["I want to die", "I can't go on any more"]))
def test_words_after_a_reference_code_are_still_checked(code: str, words: str) -> None:
    assert crisis_verdict(f"/to R-{code[:6]} {words}") is not None


async def test_join_with_a_code_that_spells_danger_gets_no_crisis_reply(harness: Harness) -> None:
    user = 7_700_000_777
    for code in DANGEROUS_CODES:
        for command in (f"/join {code}", f"/start join-{code}"):
            sent = harness.emu.user_sends(harness.person(user), command)
            await harness.settle()
            assert sent.message_id is not None
            after = [
                m.text for m in harness.emu.bot_messages(user) if m.message_id > sent.message_id
            ]
            assert after, command
            assert texts.CRISIS not in after and texts.CHECKIN not in after, command


def test_a_random_sample_like_the_issues() -> None:
    """Issue 11: 27 of 300,000 random invite-format codes got the urgent reply. Now none
    of a (smaller, quick) random sample does; the property test above covers the shape."""
    sample = ["".join(secrets.choice(CODE_ALPHABET) for _ in range(22)) for _ in range(3000)]
    assert [c for c in sample if crisis_verdict(f"/join {c}") is not None] == []
