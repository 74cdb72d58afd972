"""An unfinished mentor request does not keep a contact detail for long.

A phone number shared for a mentor request lives in the person's sealed step draft until
they send the request (then only in the sealed cards, dropped once sent). If they leave
the request another way, it goes at once (`conversations.person.ask_mentor.drop_if_abandoned`).
If they simply stop answering, nothing else would touch it until the person is erased
weeks later; so after `hours` of silence the retention purge takes it out here and moves
them to the "lapsed" step, where the bot explains what happened when they come back and
asks again how to reach them (conversations/person/ask_mentor.py).

With the key ring, only the contact detail goes: the draft is opened with the person's
own key and sealed again without it, so the office and their other choices stay. Without
it (or if the draft cannot be opened) the purge cannot tell which drafts hold a number,
so the whole unfinished request goes, office and all.

The draft's shape is `storage.repositories.person_draft.Draft`; this module knows the
step names as plain strings (storage never imports the conversations layer), and a test
ties them to `conversations.steps.Step`.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Final

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncConnection

from storage.crypto import CryptoError, FieldCipher, KeyRing
from storage.models import Person, SubjectKey
from storage.repositories.people import open_draft, seal_draft
from storage.repositories.person_draft import Draft

# The steps of a request being put together (conversations.person.ask_mentor.REQUEST_STEPS
# without the lapsed step itself).
REQUEST_STATES: Final = (
    "mentor.office",
    "mentor.place",
    "mentor.share",
    "mentor.contact",
    "mentor.time",
    "mentor.confirm",
)
LAPSED_STATE: Final = "mentor.lapsed"


def _resealed(
    ring: KeyRing | None, person_id: str, wrapped: bytes | None, sealed: bytes
) -> tuple[bool, bytes | None]:
    """(whether to lapse it, the draft to store): sealed again without its contact
    detail, or None (the whole draft goes) when there is no key to open it with."""
    if ring is None or wrapped is None:
        return True, None
    try:
        cipher = FieldCipher.from_wrapped(ring, wrapped, person_id)
        changed = Draft.from_stored(open_draft(cipher, person_id, sealed)).without_contact()
    except (CryptoError, ValueError):
        return True, None  # unreadable: keep nothing rather than keep it unread
    if changed is None:
        return False, None
    return True, seal_draft(cipher, person_id, changed.to_stored())


async def lapse_request_drafts(
    connection: AsyncConnection, now: datetime, hours: int, ring: KeyRing | None
) -> int:
    """People silent for `hours` in the middle of a request whose draft holds a contact
    detail: the detail goes, and they move to the lapsed step. Returns how many."""
    cutoff = now - timedelta(hours=hours)
    query = (
        select(
            Person.id,
            Person.state_version,
            Person.draft_ct,
            SubjectKey.wrapped_dek,
        )
        .select_from(Person)
        .outerjoin(SubjectKey, SubjectKey.subject_id == Person.id)
        .where(
            Person.state.in_(REQUEST_STATES),
            Person.last_seen_at <= cutoff,
            Person.draft_ct.is_not(None),
        )
    )
    if connection.dialect.name == "postgresql":
        # A person writing at this moment keeps their row; the next run looks again.
        query = query.with_for_update(of=Person, skip_locked=True)
    lapsed = 0
    for row in (await connection.execute(query)).all():
        lapse, draft = _resealed(ring, row.id, row.wrapped_dek, row.draft_ct)
        if not lapse:
            continue
        # Only if they have not moved or written since it was read (no lost update).
        result = await connection.execute(
            update(Person)
            .where(
                Person.id == row.id,
                Person.state_version == row.state_version,
                Person.last_seen_at <= cutoff,
            )
            .values(state=LAPSED_STATE, state_version=row.state_version + 1, draft_ct=draft)
        )
        lapsed += int(result.rowcount)
    return lapsed
