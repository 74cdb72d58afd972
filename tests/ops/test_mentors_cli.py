"""`firststep mentors …` and `firststep coordinators …`: invites whose code is the last
line (or JSON), a list that never shows a Telegram id, approve and revoke by id prefix,
and one-line errors."""

from __future__ import annotations

import asyncio
import json
from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlalchemy import select
from typer.testing import CliRunner

from bot.cli import app
from storage.crypto import KeyRing
from storage.db import Database
from storage.repositories import mentors
from storage.repositories.mentors import CODE_SHAPE, code_hash
from tests.ops.test_cli import firststep
from tests.support.tables import INVITES

TELEGRAM_ID = 8_800_800_001


class Result:
    def __init__(self, returncode: int, stdout: str, stderr: str) -> None:
        self.returncode, self.stdout, self.stderr = returncode, stdout, stderr


def cli(tmp_path: Path, *args: str, **variables: str) -> Result:
    """The Typer app in-process (a subprocess per call costs seconds of imports)."""
    result = CliRunner().invoke(app, list(args), env=variables)
    return Result(result.exit_code, result.stdout, result.stderr)


def env(tmp_path: Path, keyring: Path, **extra: str) -> dict[str, str]:
    return {
        "FIRSTSTEP_DATABASE_URL": f"sqlite+aiosqlite:///{tmp_path / 'cli.db'}",
        "FIRSTSTEP_KEYRING": str(keyring),
        **extra,
    }


async def _stored_hashes(url: str) -> list[bytes]:
    database = Database.from_url(url)
    try:
        async with database.transaction() as connection:
            return list((await connection.execute(select(INVITES.c.code_hash))).scalars())
    finally:
        await database.dispose()


async def _enrol(url: str, ring: KeyRing, code: str) -> str:
    database = Database.from_url(url)
    try:
        async with database.transaction() as connection:
            joined = await mentors.redeem_invite(
                connection,
                ring,
                telegram_id=TELEGRAM_ID,
                chat_id=TELEGRAM_ID,
                code=code,
                now=datetime.now(UTC),
                attempts_per_hour=5,
            )
            assert joined.mentor is not None
            await mentors.set_display_name(connection, joined.mentor, "Sam", needs_approval=True)
            return joined.mentor.id
    finally:
        await database.dispose()


@pytest.mark.slow
def test_invite_list_approve_revoke(tmp_path: Path, keyring_file: Path, ring: KeyRing) -> None:
    variables = env(tmp_path, keyring_file)
    url = variables["FIRSTSTEP_DATABASE_URL"]

    made = firststep(
        tmp_path, "mentors", "invite", "--office", "portsmouth-arundel-street", **variables
    )
    assert made.returncode == 0, made.stderr
    code = made.stdout.strip().splitlines()[-1]
    assert CODE_SHAPE.match(code)
    assert "72" in made.stdout or "until" in made.stdout
    assert asyncio.run(_stored_hashes(url)) == [code_hash(code)]  # only the hash is kept

    as_json = firststep(
        tmp_path, "coordinators", "invite", "--area", "Portsmouth", "--json", **variables
    )
    assert as_json.returncode == 0, as_json.stderr
    data = json.loads(as_json.stdout)
    assert CODE_SHAPE.match(data["code"]) and data["area"] == "Portsmouth" and data["expires_at"]

    mentor_id = asyncio.run(_enrol(url, ring, code))
    listed = cli(tmp_path, "mentors", "list", **variables)
    assert listed.returncode == 0, listed.stderr
    assert mentor_id[:8] in listed.stdout and "pending_approval" in listed.stdout
    assert str(TELEGRAM_ID) not in listed.stdout and "Sam" not in listed.stdout

    approved = cli(tmp_path, "mentors", "approve", mentor_id[:6], **variables)
    assert approved.returncode == 0, approved.stderr
    assert "approved" in approved.stdout
    again = cli(tmp_path, "mentors", "approve", mentor_id[:6], **variables)
    assert again.returncode == 2 and len(again.stderr.strip().splitlines()) == 1

    revoked = cli(tmp_path, "mentors", "revoke", mentor_id[:6], **variables)
    assert revoked.returncode == 0, revoked.stderr
    assert "revoked" in revoked.stdout
    listed = cli(tmp_path, "mentors", "list", **variables)
    assert "revoked" in listed.stdout


def test_one_line_errors(tmp_path: Path, keyring_file: Path) -> None:
    variables = env(tmp_path, keyring_file)
    real = firststep(tmp_path, "mentors", "invite", "--office", "nowhere", **variables)
    assert real.returncode == 2 and len(real.stderr.strip().splitlines()) == 1, real.stderr
    assert "Traceback" not in real.stderr and "jobcentres.csv" in real.stderr
    for args in (
        ("coordinators", "invite", "--area", "Atlantis"),
        ("mentors", "approve", "ffff"),
        ("mentors", "revoke", "x"),
    ):
        result = cli(tmp_path, *args, **variables)
        assert result.returncode == 2, (args, result.stdout)
        assert len(result.stderr.strip().splitlines()) == 1, result.stderr
