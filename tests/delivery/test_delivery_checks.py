"""Check-before-send: a withdrawn referral, an erased person, an unreachable or revoked
recipient are never messaged; edits follow the message they edit."""

from __future__ import annotations

import dataclasses
from pathlib import Path

from sqlalchemy import delete, update
from sqlalchemy.ext.asyncio import AsyncConnection

from bot.delivery import DeliveryWorker
from storage.crypto import KeyRing
from storage.models import Person
from storage.repositories.outbox import (
    Claimed,
    Edit,
    Kind,
    Ready,
    Reason,
    Send,
    Skip,
    Wait,
)
from storage.repositories.people import person_transaction
from storage.repositories.subjects import shred_subject_key
from tests.support.delivery import (
    card_text,
    open_rig,
    outbox,
    rejected,
    seed_message,
    set_referral_status,
)
from tests.support.tables import MENTORS

PERSON = 7_100_000_101
OTHER_PERSON = 7_100_000_102
MENTOR_IDS = [7_200_000_101, 7_200_000_102]


class ForgetsTheReferral(DeliveryWorker):
    """Checks everything but whether the referral is still live."""

    async def check(
        self, connection: AsyncConnection, rows: list[Claimed]
    ) -> dict[str, Ready | Skip | Wait]:
        return await super().check(
            connection, [dataclasses.replace(row, kind=Kind.ALERT) for row in rows]
        )


async def obsolete_scenario(
    database_url: str, ring: KeyRing, tmp_path: Path, cls: type[DeliveryWorker]
) -> None:
    async with open_rig(database_url, ring, tmp_path) as rig:
        person = await rig.person(PERSON)
        other = await rig.person(OTHER_PERSON)
        mentors = [await rig.mentor(m) for m in MENTOR_IDS]
        withdrawn = await rig.referral(person, mentors)
        taken = await rig.referral(other, mentors)
        await set_referral_status(rig.database, withdrawn.referral_id, "withdrawn")
        await set_referral_status(rig.database, taken.referral_id, "accepted")
        # A message to a person about an accepted referral is live; once closed it is not.
        accepted_note = await seed_message(
            rig.database,
            ring,
            kind=Kind.ACCEPTED,
            recipient_kind="person",
            recipient_id=other,
            about=other,
            payload=Send("A mentor said yes."),
            now=rig.now,
            referral_id=taken.referral_id,
        )

        await rig.settle(rig.make_worker(cls), max_steps=20)

        for telegram_id in MENTOR_IDS:
            assert rig.emu.bot_texts(telegram_id) == []
        assert rig.emu.bot_texts(OTHER_PERSON) == ["A mentor said yes."]
        rows = await outbox(rig.database)
        for row_id in [*withdrawn.cards.values(), *taken.cards.values()]:
            assert (rows[row_id].status, rows[row_id].last_error) == ("dead", Reason.OBSOLETE)
            assert rows[row_id].payload_ct is None
        assert rows[accepted_note].status == "sent"


async def test_withdrawn_or_taken_referral_is_never_sent(
    database_url: str, ring: KeyRing, tmp_path: Path
) -> None:
    await obsolete_scenario(database_url, ring, tmp_path, DeliveryWorker)


async def test_obsolete_scenario_rejects_a_worker_that_skips_the_referral_check(
    database_url: str, ring: KeyRing, tmp_path: Path
) -> None:
    await rejected(obsolete_scenario(database_url, ring, tmp_path, ForgetsTheReferral))


async def test_erased_person_is_never_notified_about(
    database_url: str, ring: KeyRing, tmp_path: Path
) -> None:
    """Even when erasure could not cancel the rows (a backup of the main data restored
    after the key was shredded), the worker finds the key gone and sends nothing."""
    async with open_rig(database_url, ring, tmp_path) as rig:
        person = await rig.person(PERSON)
        mentors = [await rig.mentor(m) for m in MENTOR_IDS]
        seeded = await rig.referral(person, mentors)
        to_person = await seed_message(
            rig.database,
            ring,
            kind=Kind.LADDER_UPDATE,
            recipient_kind="person",
            recipient_id=person,
            about=person,
            payload=Send("Still looking for a mentor."),
            now=rig.now,
            referral_id=seeded.referral_id,
        )
        async with rig.database.transaction() as connection:
            await shred_subject_key(connection, person, rig.now)

        await rig.settle(max_steps=20)

        assert rig.emu.calls("sendMessage") == []
        rows = await outbox(rig.database)
        for row_id in [*seeded.cards.values(), to_person]:
            assert (rows[row_id].status, rows[row_id].last_error) == ("dead", Reason.OBSOLETE)


async def test_forget_cancels_and_worker_agrees(
    database_url: str, ring: KeyRing, tmp_path: Path
) -> None:
    """The normal path: /forget's erase() kills the rows; the worker sends nothing."""
    async with open_rig(database_url, ring, tmp_path) as rig:
        person = await rig.person(PERSON)
        mentors = [await rig.mentor(m) for m in MENTOR_IDS]
        seeded = await rig.referral(person, mentors)
        async with person_transaction(rig.database, ring, PERSON, rig.now) as tx:
            summary = await tx.erase()
        assert summary.notifications_cancelled == len(mentors)
        await rig.settle(max_steps=5)
        assert rig.emu.calls("sendMessage") == []
        rows = await outbox(rig.database)
        assert {rows[r].status for r in seeded.cards.values()} == {"dead"}


async def test_person_row_gone_is_obsolete(
    database_url: str, ring: KeyRing, tmp_path: Path
) -> None:
    async with open_rig(database_url, ring, tmp_path) as rig:
        person = await rig.person(PERSON)
        mentor = await rig.mentor(MENTOR_IDS[0])
        seeded = await rig.referral(person, [mentor])
        await set_referral_status(rig.database, seeded.referral_id, "accepted")
        row_id = await seed_message(
            rig.database,
            ring,
            kind=Kind.ACCEPTED,
            recipient_kind="person",
            recipient_id=person,
            about=person,
            payload=Send("A mentor said yes."),
            now=rig.now,
            referral_id=seeded.referral_id,
        )
        async with rig.database.transaction() as connection:
            await connection.execute(delete(Person).where(Person.id == person))
        await rig.settle(max_steps=5)
        assert rig.emu.calls("sendMessage") == []
        row = (await outbox(rig.database))[row_id]
        assert (row.status, row.last_error) == ("dead", Reason.OBSOLETE)


async def test_unreachable_or_revoked_recipients_get_nothing(
    database_url: str, ring: KeyRing, tmp_path: Path
) -> None:
    async with open_rig(database_url, ring, tmp_path) as rig:
        person = await rig.person(PERSON)
        mentors = [await rig.mentor(m) for m in MENTOR_IDS]
        seeded = await rig.referral(person, mentors)
        async with rig.database.transaction() as connection:
            await connection.execute(
                update(MENTORS).where(MENTORS.c.id == mentors[0]).values(unreachable=True)
            )
            await connection.execute(
                update(MENTORS).where(MENTORS.c.id == mentors[1]).values(status="revoked")
            )
        await rig.settle(max_steps=5)
        assert rig.emu.calls("sendMessage") == []
        rows = await outbox(rig.database)
        assert rows[seeded.cards[mentors[0]]].last_error == Reason.UNREACHABLE
        assert rows[seeded.cards[mentors[1]]].last_error == Reason.OBSOLETE


async def test_card_update_edits_the_sent_card_and_waits_for_it(
    database_url: str, ring: KeyRing, tmp_path: Path
) -> None:
    async with open_rig(database_url, ring, tmp_path) as rig:
        person = await rig.person(PERSON)
        mentors = [await rig.mentor(m) for m in MENTOR_IDS]
        seeded = await rig.referral(person, mentors)
        # The edit is queued before the card went out: it must wait, then edit it.
        edits = {
            mentor: await seed_message(
                rig.database,
                ring,
                kind=Kind.CARD_UPDATE,
                recipient_kind="mentor",
                recipient_id=mentor,
                about=person,
                payload=Edit(of=seeded.cards[mentor], text=f"{seeded.ref}: taken. Thank you."),
                now=rig.now,
                referral_id=seeded.referral_id,
            )
            for mentor in mentors
        }
        rows_before = await outbox(rig.database)
        assert all(rows_before[e].status == "pending" for e in edits.values())

        await rig.settle(max_steps=40)

        rows = await outbox(rig.database)
        for mentor, telegram_id in zip(mentors, MENTOR_IDS, strict=True):
            card = rows[seeded.cards[mentor]]
            edit = rows[edits[mentor]]
            assert (card.status, edit.status) == ("sent", "sent")
            assert edit.sent_message_id == card.sent_message_id
            shown = rig.emu.chat(telegram_id)
            assert [m.text for m in shown] == [f"{seeded.ref}: taken. Thank you."]
            assert shown[0].buttons == []  # the Accept button is gone
        assert len(rig.emu.calls("sendMessage")) == 2
        assert len(rig.emu.calls("editMessageText")) == 2
        assert card_text(seeded.ref) not in " ".join(rig.emu.bot_texts(MENTOR_IDS[0]))


async def test_repeated_edit_and_deleted_message_are_not_failures(
    database_url: str, ring: KeyRing, tmp_path: Path
) -> None:
    async with open_rig(database_url, ring, tmp_path) as rig:
        person = await rig.person(PERSON)
        mentor = await rig.mentor(MENTOR_IDS[0])
        seeded = await rig.referral(person, [mentor])
        await rig.settle(max_steps=5)
        card = seeded.cards[mentor]
        same = [
            await seed_message(
                rig.database,
                ring,
                kind=Kind.CARD_UPDATE,
                recipient_kind="mentor",
                recipient_id=mentor,
                about=person,
                payload=Edit(of=card, text="Taken."),
                now=rig.now,
            )
            for _ in range(2)
        ]
        await rig.settle(max_steps=5)
        rig.emu.inject_fault(
            "editMessageText", status=400, description="Bad Request: message to edit not found"
        )
        gone = await seed_message(
            rig.database,
            ring,
            kind=Kind.CARD_UPDATE,
            recipient_kind="mentor",
            recipient_id=mentor,
            about=person,
            payload=Edit(of=card, text="Closed."),
            now=rig.now,
        )
        await rig.settle(max_steps=5)
        rows = await outbox(rig.database)
        assert [rows[r].status for r in [*same, gone]] == ["sent", "sent", "sent"]
        assert [c.status for c in rig.emu.calls("editMessageText")] == [200, 400, 400]
