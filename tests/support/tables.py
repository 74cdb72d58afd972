"""The tables, for tests that look at rows directly (storage itself queries the mapped
classes in storage/models.py; tests read and corrupt rows below it on purpose)."""

from __future__ import annotations

from sqlalchemy import Table

from storage.models import (
    Base,
    Disclosure,
    ErasureJournal,
    Invite,
    JoinAttempt,
    Mentor,
    OutboxMessage,
    Person,
    ProcessedUpdate,
    Referral,
    SubjectKey,
)


def table(model: type[Base]) -> Table:
    found = model.__table__
    assert isinstance(found, Table)
    return found


PEOPLE = table(Person)
MENTORS = table(Mentor)
INVITES = table(Invite)
JOIN_ATTEMPTS = table(JoinAttempt)
REFERRALS = table(Referral)
OUTBOX = table(OutboxMessage)
PROCESSED = table(ProcessedUpdate)
DISCLOSURES = table(Disclosure)
KEYS = table(SubjectKey)
JOURNAL = table(ErasureJournal)
