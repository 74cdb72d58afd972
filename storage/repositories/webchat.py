"""The web chat's rows (bot/webchat): sessions found by a token's hash, and the sealed
events a reconnecting page replays. All the SQL of the web door lives here."""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import delete, insert, select, update
from sqlalchemy.ext.asyncio import AsyncConnection

from storage.crypto import FieldCipher, KeyRing, Role, new_dek, pseudonym, wrap_dek
from storage.db import Database
from storage.models import Person, WebChat, WebEvent
from storage.sql import insert_ignore

_TABLE = "web_events"
_COLUMN = "body_ct"


def token_hash(token: str) -> bytes:
    """A session token is 256 random bits: an unkeyed hash cannot be reversed."""
    return hashlib.sha256(b"firststep/web-token:" + token.encode("utf-8")).digest()


def recovery_hash(code: str) -> bytes:
    """A recovery code is short (50 bits), so its hash is slow to guess offline."""
    normal = code.strip().upper().replace("-", "").replace(" ", "")
    return hashlib.scrypt(
        normal.encode("ascii", "ignore"), salt=b"firststep/web-recovery", n=2**14, r=8, p=1
    )[:32]


def _subject(chat_id: int) -> str:
    return f"web{chat_id}"


@dataclass(frozen=True, slots=True)
class Event:
    seq: int
    body: dict[str, Any]

    def __repr__(self) -> str:
        return f"Event(seq={self.seq})"


async def create_chat(
    database: Database, ring: KeyRing, chat_id: int, token: str, now: datetime
) -> bool:
    """A new web chat under `chat_id`; False when that id is taken (draw another)."""
    values = {
        "chat_id": chat_id,
        "token_hash": token_hash(token),
        "pseudonym": pseudonym(ring, Role.USER, chat_id),
        "wrapped_key": wrap_dek(ring, new_dek(), _subject(chat_id)),
        "next_seq": 1,
        "created_at": now,
        "last_seen_at": now,
    }
    async with database.transaction() as connection:
        return await insert_ignore(connection, WebChat, values)


async def chat_of(database: Database, token: str, now: datetime) -> int | None:
    """The chat a token opens (and it was seen now), or None."""
    digest = token_hash(token)
    async with database.transaction() as connection:
        found = (
            await connection.execute(select(WebChat.chat_id).where(WebChat.token_hash == digest))
        ).scalar_one_or_none()
        if found is not None:
            await connection.execute(
                update(WebChat).where(WebChat.chat_id == found).values(last_seen_at=now)
            )
    return found


async def append(
    database: Database,
    ring: KeyRing,
    chat_id: int,
    body: dict[str, Any],
    now: datetime,
    origin: str | None = None,
) -> int | None:
    """Seal and keep one event; its sequence number, or None when the chat is gone.
    An event with the same `origin` (an outbox row sent again) is not written twice:
    the first one's number comes back."""
    async with database.transaction() as connection:
        if origin is not None:
            seen = (
                await connection.execute(
                    select(WebEvent.seq).where(
                        WebEvent.chat_id == chat_id, WebEvent.origin == origin
                    )
                )
            ).scalar_one_or_none()
            if seen is not None:
                return int(seen)
        row = (
            await connection.execute(
                update(WebChat)
                .where(WebChat.chat_id == chat_id)
                .values(next_seq=WebChat.next_seq + 1)
                .returning(WebChat.next_seq, WebChat.wrapped_key)
            )
        ).first()
        if row is None:
            return None
        seq = int(row.next_seq) - 1
        cipher = FieldCipher.from_wrapped(ring, row.wrapped_key, _subject(chat_id))
        blob = cipher.seal(_TABLE, _COLUMN, f"{chat_id}:{seq}", json.dumps(body).encode())
        values = {"chat_id": chat_id, "seq": seq, "origin": origin, "body_ct": blob}
        await connection.execute(insert(WebEvent).values(created_at=now, **values))
        return seq


async def events_after(
    database: Database, ring: KeyRing, chat_id: int, after: int, limit: int = 200
) -> list[Event]:
    """The chat's events after sequence number `after`, oldest first."""
    async with database.transaction() as connection:
        wrapped = (
            await connection.execute(select(WebChat.wrapped_key).where(WebChat.chat_id == chat_id))
        ).scalar_one_or_none()
        if wrapped is None:
            return []
        rows = (
            await connection.execute(
                select(WebEvent.seq, WebEvent.body_ct)
                .where(WebEvent.chat_id == chat_id, WebEvent.seq > after)
                .order_by(WebEvent.seq)
                .limit(limit)
            )
        ).all()
    cipher = FieldCipher.from_wrapped(ring, wrapped, _subject(chat_id))
    return [
        Event(
            row.seq, json.loads(cipher.open(_TABLE, _COLUMN, f"{chat_id}:{row.seq}", row.body_ct))
        )
        for row in rows
    ]


async def latest_seq(database: Database, chat_id: int) -> int:
    async with database.transaction() as connection:
        value = (
            await connection.execute(select(WebChat.next_seq).where(WebChat.chat_id == chat_id))
        ).scalar_one_or_none()
    return 0 if value is None else int(value) - 1


async def set_recovery(database: Database, chat_id: int, digest: bytes) -> None:
    """Keep a recovery code's hash (`recovery_hash`, slow: call it in a thread)."""
    async with database.transaction() as connection:
        await connection.execute(
            update(WebChat).where(WebChat.chat_id == chat_id).values(recovery_hash=digest)
        )


async def recover(database: Database, digest: bytes, token: str, now: datetime) -> int | None:
    """The chat a recovery code's hash opens, now under the new token (the old one
    stops working, and the code works once); None for a wrong code."""
    async with database.transaction() as connection:
        found = (
            await connection.execute(select(WebChat.chat_id).where(WebChat.recovery_hash == digest))
        ).scalar_one_or_none()
        if found is None:
            return None
        await connection.execute(
            update(WebChat)
            .where(WebChat.chat_id == found)
            .values(token_hash=token_hash(token), recovery_hash=None, last_seen_at=now)
        )
    return int(found)


async def erase_for(connection: AsyncConnection, person_pseudonym: bytes) -> None:
    """Inside erase_person: the web chat's kept messages and recovery code go with the
    person. The session itself stays, so the page can still show the goodbye."""
    chats = select(WebChat.chat_id).where(WebChat.pseudonym == person_pseudonym)
    await connection.execute(delete(WebEvent).where(WebEvent.chat_id.in_(chats)))
    await connection.execute(
        update(WebChat).where(WebChat.pseudonym == person_pseudonym).values(recovery_hash=None)
    )


async def purge_idle(connection: AsyncConnection, before: datetime) -> int:
    """Retention: web chats unused since `before` whose person is gone (or never was)."""
    idle = select(WebChat.chat_id).where(
        WebChat.last_seen_at < before,
        ~select(Person.id).where(Person.pseudonym == WebChat.pseudonym).exists(),
    )
    ids = list((await connection.execute(idle)).scalars())
    if not ids:
        return 0
    await connection.execute(delete(WebEvent).where(WebEvent.chat_id.in_(ids)))
    await connection.execute(delete(WebChat).where(WebChat.chat_id.in_(ids)))
    return len(ids)
