"""A person who blocked the bot and came back: a 403 marks them unreachable, and their
next update clears the mark, so the messages that follow reach them again."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from conversations import texts
from tests.support.handoff import close_chat, drain, join_as_mentor, request_mentor, services_of
from tests.support.harness import Harness
from tests.support.tables import PEOPLE

ALEX = 7_700_300_001
SAM = 8_800_300_001
OFFICE = "portsmouth-arundel-street"


async def unreachable_flags(harness: Harness) -> list[bool]:
    async with services_of(harness).database.transaction() as connection:
        flags = (await connection.execute(select(PEOPLE.c.unreachable))).scalars()
        return [bool(flag) for flag in flags]


# /menu moves the person (the flag is cleared with that write); /help changes nothing
# (cleared with the "last seen" write).
@pytest.mark.parametrize("comes_back_with", ["/menu", "/help"])
async def test_a_person_who_comes_back_is_reachable_again(
    harness: Harness, comes_back_with: str
) -> None:
    await join_as_mentor(harness, SAM, "Sam", office_id=OFFICE)
    ref = await request_mentor(harness, ALEX, OFFICE)
    assert [kind for kind, _ in (await drain(harness)).sent] == ["card"]

    harness.emu.block_bot(ALEX)
    await harness.settle()
    await harness.press(SAM, texts.BTN_ACCEPT)
    assert (await drain(harness)).dead == [("accepted", "unreachable")]
    assert await unreachable_flags(harness) == [True]

    harness.emu.unblock_bot(ALEX)
    await harness.send(ALEX, comes_back_with)
    assert await unreachable_flags(harness) == [False]

    await close_chat(harness, SAM, ref)
    assert [kind for kind, _ in (await drain(harness)).sent] == ["closed"]
    assert harness.last_text(ALEX).startswith("Sam has closed your chat")
