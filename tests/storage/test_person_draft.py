"""The person's draft is a typed record whose stored form is the one the first release
wrote: rows written before the record existed read back as what they held, and what is
written now reads the same way with the old code (the same keys and values).
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st
from sqlalchemy import select, update

from storage.crypto import KeyRing
from storage.db import Database
from storage.models import Person
from storage.repositories.people import open_draft, person_transaction, seal_draft
from storage.repositories.person_draft import Draft, RequestDraft

NOW = datetime(2026, 12, 1, 12, 0, tzinfo=UTC)
OFFICE = "portsmouth-arundel-street"
PHONE = "+447700900555"

# Each shape the old code wrote (conversations/ before the record), and what it holds.
OLD_ROWS: list[tuple[dict[str, Any], Draft]] = [
    ({}, Draft()),
    ({"office": OFFICE}, Draft(office=OFFICE)),
    # disclosure: ticks at a multi-choice question (an untick could leave an empty list)
    (
        {"office": OFFICE, "ticked": ["alcohol", "cannabis"]},
        Draft(office=OFFICE, ticked=("alcohol", "cannabis")),
    ),
    ({"ticked": []}, Draft()),
    # a mentor request being put together, step by step
    ({"office": OFFICE, "mentor": {}}, Draft(office=OFFICE, request=RequestDraft())),
    (
        {"office": OFFICE, "mentor": {"share": "categories"}},
        Draft(office=OFFICE, request=RequestDraft(share="categories")),
    ),
    (
        {"office": OFFICE, "mentor": {"share": "none", "contact": "phone", "phone": PHONE}},
        Draft(office=OFFICE, request=RequestDraft(share="none", contact="phone", phone=PHONE)),
    ),
    (
        {"office": OFFICE, "mentor": {"share": "none", "contact": "bot", "time": "evening"}},
        Draft(office=OFFICE, request=RequestDraft(share="none", contact="bot", time="evening")),
    ),
    # after the purge took the number: the choice that asked for it goes too
    (
        {"office": OFFICE, "mentor": {"share": "none", "time": "any"}},
        Draft(office=OFFICE, request=RequestDraft(share="none", time="any")),
    ),
    # a sent request, and the chat it led to
    ({"office": OFFICE, "ref": "R-7KQ3XW"}, Draft(office=OFFICE, ref="R-7KQ3XW")),
    (
        {"office": OFFICE, "ref": "R-7KQ3XW", "relayed": True},
        Draft(office=OFFICE, ref="R-7KQ3XW", relayed=True),
    ),
    ({"ref": "R-7KQ3XW", "relayed": True}, Draft(ref="R-7KQ3XW", relayed=True)),
]


@pytest.mark.parametrize(("stored", "draft"), OLD_ROWS)
def test_every_shape_the_old_code_wrote_reads_back_and_is_written_the_same(
    stored: dict[str, Any], draft: Draft
) -> None:
    assert Draft.from_stored(stored) == draft
    # Written back the same (an empty list of ticks is the same as none).
    assert draft.to_stored() == {k: v for k, v in stored.items() if v != []}


def test_unknown_keys_and_wrong_types_read_as_absent() -> None:
    odd = {
        "office": 3,
        "ticked": "alcohol",
        "mentor": ["phone"],
        "ref": None,
        "relayed": "yes",
        "later": {"x": 1},
    }
    assert Draft.from_stored(odd) == Draft()
    inner = {"mentor": {"share": 1, "contact": "bot", "phone": None, "time": ["am"]}}
    assert Draft.from_stored(inner) == Draft(request=RequestDraft(contact="bot"))
    assert Draft.from_stored({"ticked": ["a", 2, "b"]}).ticked == ("a", "b")


def test_the_changes_the_flows_make() -> None:
    started = Draft(office=OFFICE, ticked=("gp",), ref="R-7KQ3XW", relayed=True)
    assert started.office_only() == Draft(office=OFFICE)
    assert started.with_office("hull") == Draft(
        office="hull", ticked=("gp",), ref="R-7KQ3XW", relayed=True
    )
    asking = started.fresh_request("hull")
    assert asking == Draft(office="hull", request=RequestDraft())
    phone = asking.with_request(contact="phone", phone=PHONE)
    assert phone.request == RequestDraft(contact="phone", phone=PHONE)
    assert phone.with_request(contact="bot", phone=None).request == RequestDraft(contact="bot")
    assert Draft(ticked=("gp",)).with_request(share="none") == Draft(
        request=RequestDraft(share="none")
    )
    assert phone.without_request() == Draft(office="hull")
    assert phone.settled(ref="R-7KQ3XW") == Draft(office="hull", ref="R-7KQ3XW")
    assert phone.without_contact() == Draft(office="hull", request=RequestDraft())
    assert asking.without_contact() is None
    assert Draft().without_contact() is None


def test_a_draft_never_shows_a_value_in_its_repr() -> None:
    draft = Draft(
        office=OFFICE,
        ticked=("alcohol",),
        request=RequestDraft("none", "phone", PHONE, "evening"),
        ref="R-7KQ3XW",
    )
    shown = repr(draft)
    for value in (OFFICE, "alcohol", PHONE, "evening", "R-7KQ3XW"):
        assert value not in shown
    assert "office" in shown and "request" in shown


values = st.text(max_size=12)
DRAFTS = st.builds(
    Draft,
    office=st.none() | values,
    ticked=st.lists(values, max_size=4).map(tuple),
    request=st.none()
    | st.builds(
        RequestDraft,
        share=st.none() | values,
        contact=st.none() | values,
        phone=st.none() | values,
        time=st.none() | values,
    ),
    ref=st.none() | values,
    relayed=st.booleans(),
)


@given(DRAFTS)
def test_any_draft_is_stored_and_read_back_unchanged(draft: Draft) -> None:
    assert Draft.from_stored(draft.to_stored()) == draft


async def test_a_row_sealed_by_the_old_code_loads_as_the_record(
    database: Database, ring: KeyRing
) -> None:
    """A real row: the draft sealed exactly as the old code sealed it (its dict as JSON),
    then read through the person's transaction, changed, and read raw again."""
    old = {"office": OFFICE, "mentor": {"share": "none", "contact": "phone", "phone": PHONE}}
    async with person_transaction(database, ring, 4242, NOW) as tx:
        person = await tx.register(state="mentor.time", chat_id=4242)
        sealed = seal_draft(person.cipher, person.id, old)
        await tx.connection.execute(
            update(Person).where(Person.id == person.id).values(draft_ct=sealed)
        )
    async with person_transaction(database, ring, 4242, NOW) as tx:
        assert tx.person is not None
        assert tx.person.draft == Draft(
            office=OFFICE, request=RequestDraft(share="none", contact="phone", phone=PHONE)
        )
        await tx.move("mentor.confirm", draft=tx.person.draft.with_request(time="any"))
        cipher, person_id = tx.person.cipher, tx.person.id
    async with database.transaction() as connection:
        resealed = (
            await connection.execute(select(Person.draft_ct).where(Person.id == person_id))
        ).scalar_one()
    assert resealed is not None
    assert open_draft(cipher, person_id, resealed) == {
        "office": OFFICE,
        "mentor": {"share": "none", "contact": "phone", "phone": PHONE, "time": "any"},
    }
