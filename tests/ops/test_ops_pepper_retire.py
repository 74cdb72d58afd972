"""`keys retire --pepper` refuses while anyone is still keyed under it (issue 15, 6).

Retiring a pepper that still keys a person would turn them into a stranger whom /forget
cannot reach. Like KEK retire, the command refuses in one line until nobody uses it.
"""

from __future__ import annotations

from pathlib import Path

from sqlalchemy import select

from storage.crypto import KeyRing
from storage.db import Database
from tests.support.ops import T0, cli_env, firststep, make_person, touch_person
from tests.support.tables import PEOPLE

ALEX = 7_700_000_611


async def versions(database: Database) -> list[int]:
    async with database.engine.connect() as connection:
        rows = await connection.execute(select(PEOPLE.c.pseudonym_version))
        return [int(row[0]) for row in rows]


async def test_pepper_retire_refuses_while_a_person_uses_it(
    database: Database, database_url: str, ring: KeyRing, tmp_path: Path
) -> None:
    await make_person(database, ring, ALEX)
    keyring = tmp_path / "keys" / "keyring.json"
    ring.save(keyring)
    env = cli_env(database_url, keyring)
    assert (await firststep(tmp_path, env, "keys", "add", "--pepper")).code == 0
    assert (await firststep(tmp_path, env, "keys", "promote", "--pepper", "2")).code == 0

    refused = await firststep(tmp_path, env, "keys", "retire", "--pepper", "1")
    assert refused.code == 2, refused.out
    assert refused.err.strip().count("\n") == 0
    assert "pepper version 1 still keys 1 people or mentors" in refused.err
    assert KeyRing.load(keyring).pepper_versions == (1, 2), "the ring was not changed"
    status = await firststep(tmp_path, env, "keys", "status")
    assert "pepper v1: keys 1 people or mentors" in status.out

    # Alex writes again: re-keyed under pepper 2, so pepper 1 keys nobody and may go.
    await touch_person(database, KeyRing.load(keyring), ALEX, T0)
    assert await versions(database) == [2]
    retired = await firststep(tmp_path, env, "keys", "retire", "--pepper", "1")
    assert retired.code == 0, retired.err
    assert KeyRing.load(keyring).pepper_versions == (2,)
