"""Someone who can write the database cannot redirect a card (issue 15, 4).

A pending card's payload is sealed with its recipient bound in: rewriting the row's
recipient_kind / recipient_id to another mentor or to a person makes the payload fail
its integrity check, so the worker sends nothing and marks the row dead.
"""

from __future__ import annotations

import pytest
from sqlalchemy import select, update

from tests.support.handoff import drain, join_as_mentor, request_mentor, services_of
from tests.support.harness import Harness
from tests.support.ops import person_id_of
from tests.support.tables import MENTORS, OUTBOX, REFERRALS

OFFICE = "portsmouth-arundel-street"
OTHER_OFFICE = "hull-britannia-house"
SAM, HUGO = 8_800_150_001, 8_800_150_002
ALEX, BEA = 7_700_150_001, 7_700_150_002


@pytest.mark.parametrize("to", ["mentor", "person"])
async def test_a_card_whose_recipient_was_rewritten_is_not_sent(harness: Harness, to: str) -> None:
    await join_as_mentor(harness, SAM, "Sam", office_id=OFFICE)
    await join_as_mentor(harness, HUGO, "Hugo", office_id=OTHER_OFFICE)
    await harness.onboard(BEA)
    ref = await request_mentor(harness, ALEX, OFFICE)
    services = services_of(harness)
    async with services.database.transaction() as connection:
        card = (
            await connection.execute(
                select(OUTBOX.c.id, OUTBOX.c.recipient_id)
                .join(REFERRALS, REFERRALS.c.id == OUTBOX.c.referral_id)
                .where(REFERRALS.c.public_ref == ref, OUTBOX.c.kind == "card")
            )
        ).one()
    if to == "mentor":
        async with services.database.transaction() as connection:
            ids = (await connection.execute(select(MENTORS.c.id))).scalars().all()
        target = next(i for i in ids if i != card.recipient_id)  # Hugo, at another office
        victim_chat = HUGO
    else:
        bea = await person_id_of(services.database, services.ring, BEA)
        assert bea is not None
        target = bea
        victim_chat = BEA
    async with services.database.transaction() as connection:
        await connection.execute(
            update(OUTBOX)
            .where(OUTBOX.c.id == card.id)
            .values(recipient_kind=to, recipient_id=target)
        )
    before = len(harness.texts(victim_chat))
    drained = await drain(harness)
    assert drained.sent == []
    assert drained.dead == [("card", "undecryptable")]
    assert harness.texts(victim_chat)[before:] == []
    assert not any(ref in text for text in harness.texts(victim_chat))


async def test_swapped_pseudonyms_show_nobody_the_other_persons_answers(
    harness: Harness,
) -> None:
    """people.pseudonym swapped between two rows: each person's next update finds the
    other's row, which fails its check; neither sees the other's answers."""
    from conversations import texts
    from tests.support.ops import make_person
    from tests.support.tables import PEOPLE

    services = services_of(harness)
    database, ring = services.database, services.ring
    alex = await make_person(database, ring, ALEX, disclosures={"own_words": "alex-canary-4471"})
    bea = await make_person(database, ring, BEA, disclosures={"own_words": "bea-canary-8812"})
    for user in (ALEX, BEA):
        await harness.send(user, "/mydata")
    assert "alex-canary-4471" in harness.all_text(ALEX)  # the control: each sees their own

    async with database.transaction() as connection:
        rows = dict((await connection.execute(select(PEOPLE.c.id, PEOPLE.c.pseudonym))).all())
        await connection.execute(
            update(PEOPLE).where(PEOPLE.c.id == alex).values(pseudonym=b"\0" * 32)
        )
        await connection.execute(
            update(PEOPLE).where(PEOPLE.c.id == bea).values(pseudonym=rows[alex])
        )
        await connection.execute(
            update(PEOPLE).where(PEOPLE.c.id == alex).values(pseudonym=rows[bea])
        )
    for user in (ALEX, BEA):
        before = len(harness.texts(user))
        await harness.send(user, "/mydata")
        shown = "\n".join(harness.texts(user)[before:])
        assert texts.SOMETHING_WENT_WRONG in shown, shown
    assert "bea-canary-8812" not in harness.all_text(ALEX)
    assert "alex-canary-4471" not in harness.all_text(BEA)
