"""Backups on two clocks, and erasure that survives a restore.

The main data (people, answers, referrals…) holds only ciphertext and pseudonyms; the key
store (subject keys and the erasure journal) holds what unlocks it. They are backed up
apart: main backups may be kept for weeks, key-store backups only for
`backup_erasure_days`. Once the key-store backups older than an erasure have expired, no
backup anywhere can decrypt the erased person.

A restore puts back the main data only and keeps the LIVE key store, then replays the
erasure journal: every journaled subject's rows are deleted again. Nothing erased comes
back, and it could not be read anyway (its key is gone).

SQLite: the online backup API copies each file consistently while the bot runs.
PostgreSQL: pg_dump / pg_restore do the copying (see `postgres_instructions`); the
journal replay is the same code for both.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import shutil
import sqlite3
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import delete, or_, select, update
from sqlalchemy.engine import make_url

from storage.db import Database, keystore_path
from storage.models import (
    Disclosure,
    ErasureJournal,
    Mentor,
    OutboxMessage,
    OutboxStatus,
    Person,
    Referral,
    ReferralStatus,
    SubjectKey,
)
from storage.repositories.outbox import unlink_erased

MANIFEST = "manifest.json"
FORMAT = 1
PARTS = ("main", "keystore")
FILES = {"main": "main.db", "keystore": "keystore.db"}


class BackupError(RuntimeError):
    """A backup or restore cannot go ahead; the message says why (never data)."""


@dataclass(frozen=True, slots=True)
class BackupResult:
    folder: Path
    parts: tuple[str, ...]
    pruned: tuple[Path, ...]


@dataclass(frozen=True, slots=True)
class ReplayResult:
    """What a journal replay removed again (all zero when nothing had come back)."""

    people: int
    mentors: int
    keys: int
    referrals_withdrawn: int
    notifications_cancelled: int

    @property
    def total(self) -> int:
        return self.people + self.mentors + self.keys


def sqlite_main_path(url: str) -> Path:
    """The main SQLite file of a database URL (backup needs a file, not :memory:)."""
    parsed = make_url(url)
    if not parsed.drivername.startswith("sqlite") or not parsed.database:
        raise BackupError("this is not an SQLite file database")
    if parsed.database == ":memory:":
        raise BackupError("an in-memory database cannot be backed up")
    return Path(parsed.database)


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def _copy_sqlite(source: Path, target: Path) -> None:
    """A consistent copy through SQLite's online backup API (safe while others write)."""
    with contextlib.closing(sqlite3.connect(source)) as src:
        src.execute("PRAGMA busy_timeout=10000")
        with contextlib.closing(sqlite3.connect(target)) as dst:
            src.backup(dst)
            dst.commit()


def _integrity(path: Path) -> str:
    with contextlib.closing(sqlite3.connect(path)) as connection:
        return str(connection.execute("PRAGMA integrity_check").fetchone()[0])


def _scalar(path: Path, sql: str) -> Any:
    with contextlib.closing(sqlite3.connect(path)) as connection:
        try:
            return connection.execute(sql).fetchone()[0]
        except sqlite3.Error:
            return None


def _new_folder(out: Path, now: datetime) -> Path:
    out.mkdir(parents=True, exist_ok=True, mode=0o700)
    stamp = now.astimezone(UTC).strftime("%Y%m%dT%H%M%SZ")
    for suffix in ("", *(f"-{n}" for n in range(2, 100))):
        folder = out / f"firststep-{stamp}{suffix}"
        try:
            folder.mkdir(mode=0o700)
        except FileExistsError:
            continue
        return folder
    raise BackupError(f"too many backups in {out} in the same second")


def read_manifest(folder: Path) -> dict[str, Any]:
    try:
        manifest = json.loads((folder / MANIFEST).read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise BackupError(f"{folder} has no {MANIFEST}: not a First Step backup") from None
    except json.JSONDecodeError:
        raise BackupError(f"{folder / MANIFEST} is not valid JSON") from None
    if not isinstance(manifest, dict) or manifest.get("format") != FORMAT:
        raise BackupError(f"{folder / MANIFEST} has an unknown format")
    return manifest


def prune_backups(
    out: Path, now: datetime, *, keystore_days: float, main_days: float
) -> tuple[Path, ...]:
    """Delete backup folders in `out` that are past their clock (by their manifest):
    any folder holding a key store after `keystore_days`, main-only after `main_days`."""
    removed: list[Path] = []
    if not out.is_dir():
        return ()
    for folder in sorted(out.glob("firststep-*")):
        try:
            manifest = read_manifest(folder)
            made = datetime.fromisoformat(manifest["created_at"])
            kinds = {str(part["kind"]) for part in manifest["parts"]}
        except (BackupError, KeyError, TypeError, ValueError):
            continue  # not ours, or damaged: leave it for a person to look at
        keep = keystore_days if "keystore" in kinds else main_days
        if now - made >= timedelta(days=keep):
            shutil.rmtree(folder)
            removed.append(folder)
    return tuple(removed)


def backup_sqlite(
    main: Path,
    out: Path,
    now: datetime,
    *,
    parts: tuple[str, ...] = PARTS,
    keystore_days: float | None = None,
    main_days: float | None = None,
) -> BackupResult:
    """Copy the main file and/or the key-store file into a new folder with a manifest.

    With `keystore_days` and `main_days`, older backup folders in `out` are pruned
    afterwards, each on its own clock (see `prune_backups`).
    """
    sources = {"main": main, "keystore": keystore_path(main)}
    for part in parts:
        if part not in sources:
            raise BackupError(f"unknown backup part {part!r}: use main or keystore")
        if not sources[part].is_file():
            raise BackupError(f"{sources[part]} does not exist: nothing to back up")
    folder = _new_folder(out, now)
    entries: list[dict[str, Any]] = []
    for part in parts:
        target = folder / FILES[part]
        _copy_sqlite(sources[part], target)
        target.chmod(0o600)
        check = _integrity(target)
        if check != "ok":
            raise BackupError(f"the {part} copy failed its integrity check")
        entry: dict[str, Any] = {
            "kind": part,
            "file": target.name,
            "bytes": target.stat().st_size,
            "sha256": _sha256(target),
            "integrity_check": check,
        }
        if part == "main":
            entry["schema_revision"] = _scalar(target, "SELECT version_num FROM alembic_version")
        else:
            entry["subject_keys"] = _scalar(target, "SELECT count(*) FROM subject_keys")
            entry["journaled_erasures"] = _scalar(target, "SELECT count(*) FROM erasure_journal")
        entries.append(entry)
    manifest = {
        "format": FORMAT,
        "engine": "sqlite",
        "created_at": now.astimezone(UTC).isoformat(),
        "parts": entries,
        "note": (
            "main.db holds ciphertext and pseudonyms only; keystore.db holds the keys "
            "that unlock it. Keep key-store backups for no longer than the erasure "
            "delay promised to people (FIRSTSTEP_BACKUP_ERASURE_DAYS)."
        ),
    }
    (folder / MANIFEST).write_text(json.dumps(manifest, indent=2) + "\n", encoding="utf-8")
    (folder / MANIFEST).chmod(0o600)
    pruned = (
        prune_backups(out, now, keystore_days=keystore_days, main_days=main_days)
        if keystore_days is not None and main_days is not None
        else ()
    )
    return BackupResult(folder=folder, parts=parts, pruned=pruned)


def _checked_part(folder: Path, manifest: dict[str, Any], kind: str) -> Path:
    for entry in manifest.get("parts", []):
        if entry.get("kind") == kind:
            path = folder / str(entry["file"])
            if not path.is_file():
                raise BackupError(f"{path} is missing")
            if _sha256(path) != entry.get("sha256"):
                raise BackupError(f"{path} does not match its manifest checksum")
            return path
    raise BackupError(f"the backup in {folder} has no {kind} part")


def _journal_rows(keystore: Path) -> list[tuple[str, str]]:
    if not keystore.is_file():
        return []
    with contextlib.closing(sqlite3.connect(keystore)) as connection:
        return [
            (str(subject), str(when))
            for subject, when in connection.execute(
                "SELECT subject_id, erased_at FROM erasure_journal"
            )
        ]


def _merge_journal(keystore: Path, rows: list[tuple[str, str]]) -> None:
    with contextlib.closing(sqlite3.connect(keystore)) as connection:
        connection.executemany(
            "INSERT OR IGNORE INTO erasure_journal (subject_id, erased_at) VALUES (?, ?)", rows
        )
        connection.commit()


async def restore_sqlite(
    folder: Path, main: Path, now: datetime, *, with_keystore: bool = False
) -> ReplayResult:
    """Put the main file back from a backup, keep the live key store, replay the journal.

    The service must be stopped. With `with_keystore` (the live key store was lost) the
    key-store backup is restored too, the live journal (if any) is merged into it, and
    the replay then also deletes every journaled subject's key from the restored copy.
    """
    manifest = read_manifest(folder)
    backup_main = _checked_part(folder, manifest, "main")
    backup_keys = _checked_part(folder, manifest, "keystore") if with_keystore else None
    live_keys = keystore_path(main)
    if backup_keys is None and not live_keys.is_file():
        raise BackupError(
            f"the live key store {live_keys} is missing: without it nothing in the main "
            "backup can be read (restore it too with --with-keystore, if you have one)"
        )
    main.parent.mkdir(parents=True, exist_ok=True)
    _copy_sqlite(backup_main, main)
    if backup_keys is not None:
        journal = _journal_rows(live_keys)
        _copy_sqlite(backup_keys, live_keys)
        _merge_journal(live_keys, journal)
    database = Database.from_url(f"sqlite+aiosqlite:///{main}")
    try:
        await database.verify()
        return await replay_erasure_journal(database, now)
    finally:
        await database.dispose()


async def replay_erasure_journal(database: Database, now: datetime) -> ReplayResult:
    """Erase again every subject in the journal (after a restore, or at every start-up).

    Idempotent and set-based: when nothing came back it changes nothing. Live referrals
    of an erased person are withdrawn, notices about them cancelled, outbox rows
    unlinked from them (`storage.repositories.outbox.unlink_erased`), then their rows and any key
    left are deleted.
    """
    erased = select(ErasureJournal.subject_id)
    live = [ReferralStatus.PENDING, ReferralStatus.ACCEPTED]
    open_statuses = [OutboxStatus.PENDING, OutboxStatus.INFLIGHT]
    async with database.transaction() as connection:
        withdrawn_ids = list(
            (
                await connection.execute(
                    select(Referral.id).where(
                        Referral.person_id.in_(erased), Referral.status.in_(live)
                    )
                )
            ).scalars()
        )
        if withdrawn_ids:
            await connection.execute(
                update(Referral)
                .where(Referral.id.in_(withdrawn_ids))
                .values(
                    status=ReferralStatus.WITHDRAWN,
                    closed_at=now,
                    next_ladder_at=None,
                    version=Referral.version + 1,
                )
            )
        about = or_(
            OutboxMessage.payload_subject.in_(erased), OutboxMessage.recipient_id.in_(erased)
        )
        if withdrawn_ids:
            about = or_(about, OutboxMessage.referral_id.in_(withdrawn_ids))
        cancelled = await connection.execute(
            update(OutboxMessage)
            .where(OutboxMessage.status.in_(open_statuses), about)
            .values(status=OutboxStatus.DEAD, last_error="obsolete", payload_ct=None)
        )
        await unlink_erased(connection, erased)  # as erasure itself leaves the outbox
        await connection.execute(delete(Disclosure).where(Disclosure.person_id.in_(erased)))
        people = await connection.execute(delete(Person).where(Person.id.in_(erased)))
        mentors = await connection.execute(delete(Mentor).where(Mentor.id.in_(erased)))
        keys = await connection.execute(delete(SubjectKey).where(SubjectKey.subject_id.in_(erased)))
    return ReplayResult(
        people=int(people.rowcount),
        mentors=int(mentors.rowcount),
        keys=int(keys.rowcount),
        referrals_withdrawn=len(withdrawn_ids),
        notifications_cancelled=int(cancelled.rowcount),
    )


def libpq_url(url: str) -> str:
    """The URL for pg_dump / psql: no SQLAlchemy driver, never the password."""
    parsed = make_url(url).set(drivername="postgresql")
    return parsed.render_as_string(hide_password=True).replace(":***@", "@")


def postgres_instructions(url: str) -> str:
    """What to run for PostgreSQL backups: the tools are pg_dump / pg_restore."""
    target = libpq_url(url)
    keep = "FIRSTSTEP_BACKUP_ERASURE_DAYS"
    return "\n".join(
        [
            "PostgreSQL backups are made with pg_dump, on two clocks "
            "(set PGPASSWORD or use ~/.pgpass; never put the password on the command line):",
            "",
            "  # 1. Main data (ciphertext and pseudonyms only), e.g. daily, kept up to 30 days:",
            f"  pg_dump --format=custom --exclude-schema=keystore --file=main-$(date -u +%Y%m%dT%H%M%SZ).dump '{target}'",  # noqa: E501
            "",
            f"  # 2. Key store (subject keys + erasure journal): kept no longer than {keep}:",
            f"  pg_dump --format=custom --schema=keystore --file=keystore-$(date -u +%Y%m%dT%H%M%SZ).dump '{target}'",  # noqa: E501
            "",
            "Restore the main data only (stop every bot process first), then replay erasures:",
            "",
            f"  pg_restore --clean --if-exists --no-owner --dbname='{target}' main-<stamp>.dump",
            "  firststep restore --replay-journal",
            "",
            "Keep the live keystore schema. Restore a key-store dump only if the live one is "
            "lost, and know that it brings back the keys of anyone erased after it was made.",
            "`firststep run` also replays the journal at every start.",
        ]
    )
