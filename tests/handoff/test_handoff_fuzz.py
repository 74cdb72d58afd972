"""1,000 forged button presses from people and from mentors with no right to act.

Random bytes (≤ 64), real references of another office, closed references, made-up
references and near-misses of the real format, sent as callback queries on a real
message of each sender's chat. Nothing in the referral, mentor, invite or outbox tables
changes; every press is answered; the error handler is never called.
"""

from __future__ import annotations

import logging
import random
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from conversations import texts
from storage.models import MentorRole
from storage.repositories.referrals import REF_ALPHABET
from tests.support.handoff import close_chat, drain, join_as_mentor, request_mentor, snapshot
from tests.support.harness import Harness
from tests.support.tables import INVITES, JOIN_ATTEMPTS, MENTORS, OUTBOX, REFERRALS

TABLES = (REFERRALS, MENTORS, INVITES, JOIN_ATTEMPTS, OUTBOX)
PRESSES = 1000

ALEX, BEA, CAL, DEE = 7_700_200_001, 7_700_200_002, 7_700_200_003, 7_700_200_004
SAM, HUGO, CORA = 8_800_200_001, 8_800_200_002, 8_800_200_003
PORTSMOUTH, HULL = "portsmouth-arundel-street", "hull-britannia-house"


@pytest.fixture
async def roomy(database_url: str, ring: object, tmp_path: Path) -> AsyncIterator[Harness]:
    """The harness with the per-person rate limit out of the way of 1,000 presses."""
    running = Harness(database_url, ring, tmp_path, rate_limit_messages=100_000)  # type: ignore[arg-type]
    await running.start()
    yield running
    await running.stop()


def random_bytes_data(rng: random.Random) -> str:
    raw = bytes(rng.randrange(256) for _ in range(rng.randint(1, 64)))
    data = raw.decode("utf-8", "replace")
    while len(data.encode()) > 64:
        data = data[:-1]
    return data or "x"


def random_ref(rng: random.Random) -> str:
    return "R-" + "".join(rng.choice(REF_ALPHABET) for _ in range(6))


# Every button that names a reference, as {ref}; each is sent by every sender about every
# reference owner (issue 15, 7: the fuzz used to tie each sender to one kind of payload,
# so only a non-mentor ever sent a valid reference).
AIMED = (
    "mc:acc:{ref}",
    "mc:no:{ref}",
    "mc:take:{ref}",
    "mr:wd:{ref}",
    "mr:endyes:{ref}",
)
UNAIMED = ("mr:send", "mr:chat", "mr:end", "fb:h:yes", "fb:n:work")


def near_misses(ref: str) -> list[str]:
    return [
        f"mc:acc:{ref.lower()}",
        f"mc:acc:{ref} ",
        f"mc:acc:{ref}:x",
        f"mc:ACC:{ref}",
        f"mc:acc:{ref[:-1]}",
        "mc:acc:",
        "mc:",
        "mc:acc:R-000000",
    ]


def combinations(senders: list[int], refs: list[str]) -> list[tuple[int, str]]:
    """(sender, data) for every sender × aimed payload × reference, then every sender ×
    button without a reference."""
    out = [(s, t.format(ref=r)) for s in senders for t in AIMED for r in refs]
    out += [(s, data) for s in senders for data in UNAIMED]
    return out


def presses(rng: random.Random, senders: list[int], refs: list[str]) -> list[tuple[int, str]]:
    """Every combination once, then random junk and near-misses from random senders."""
    out = combinations(senders, refs)
    aimed = [t.format(ref=r) for t in AIMED for r in refs] + list(UNAIMED)
    aimed += near_misses(refs[0])
    while len(out) < PRESSES:
        kind = rng.randrange(3)
        if kind == 0:
            data = random_bytes_data(rng)
        elif kind == 1:
            data = f"mc:{rng.choice(['acc', 'no', 'take'])}:{random_ref(rng)}"
        else:
            base = rng.choice(aimed)
            cut = rng.randrange(len(base) + 1)
            data = (base[:cut] + random_bytes_data(rng))[:40] or "y"
        out.append((rng.choice(senders), data))
    return out


@pytest.mark.slow
async def test_forged_callbacks_change_nothing_and_are_all_answered(
    roomy: Harness, caplog: pytest.LogCaptureFixture
) -> None:
    harness = roomy
    await join_as_mentor(harness, SAM, "Sam", office_id=PORTSMOUTH)
    await join_as_mentor(harness, HUGO, "Hugo", office_id=HULL)
    await join_as_mentor(harness, CORA, "Cora", area="Portsmouth", role=MentorRole.COORDINATOR)

    open_ref = await request_mentor(harness, ALEX, PORTSMOUTH)  # pending at Portsmouth
    closed_ref = await request_mentor(harness, BEA, HULL)  # Hull, then closed by Hugo
    await drain(harness)
    await harness.press(HUGO, texts.BTN_ACCEPT)
    await close_chat(harness, HUGO, closed_ref)
    await drain(harness)
    await harness.onboard(CAL)  # a person with no referral
    harness.person(DEE)
    await harness.send(DEE, "/start")  # has not accepted the notice

    # Sender roles: a person with no request, a person before the notice, a mentor of
    # another office, a coordinator, and Alex (the owner) pressing mentors' buttons.
    # Reference owners: Alex's open request at Sam's office, Bea's closed one at Hull's,
    # and a well-formed reference nobody holds.
    senders = [CAL, DEE, HUGO, CORA]
    refs = [open_ref, closed_ref, "R-" + REF_ALPHABET[0] * 6]
    before = await snapshot(harness, *TABLES)
    caplog.set_level(logging.ERROR, logger="firststep")
    rng = random.Random(20261130)
    query_ids: list[str] = []
    owner_presses = [(ALEX, t.format(ref=r)) for t in AIMED if t.startswith("mc:") for r in refs]
    planned = owner_presses + presses(rng, senders, refs)
    assert {(s, d) for s, d in combinations(senders, refs)} <= set(planned)
    for n, (sender, data) in enumerate(planned):
        message = harness.emu.last_bot_message(sender)
        assert message is not None
        injected = harness.emu.forge_callback(sender, message.message_id, data)
        assert injected.callback_query_id is not None
        query_ids.append(injected.callback_query_id)
        if n % 100 == 99:
            await harness.settle(timeout=60)
    await harness.settle(timeout=60)

    assert await snapshot(harness, *TABLES) == before
    unanswered = [q for q in query_ids if harness.emu.callback_answer(q) is None]
    assert unanswered == []
    errors = [r for r in caplog.records if "handler_error" in r.getMessage()]
    assert errors == []
    everyone = [*senders, ALEX]
    assert texts.SOMETHING_WENT_WRONG not in "\n".join(harness.all_text(user) for user in everyone)
    # Alex's request is still there for Sam, untouched; and the digest does see a change.
    await harness.press(SAM, texts.BTN_ACCEPT)
    assert harness.last_text(SAM) == texts.CARD_YOURS.format(ref=open_ref)
    assert await snapshot(harness, *TABLES) != before
