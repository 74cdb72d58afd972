"""`firststep`: run the bot, try it in the sandbox, and look after keys and the database.

Every failure the operator can fix ends as one line on stderr saying what to do, with
exit status 2 — never a traceback.
"""

from __future__ import annotations

import asyncio
import gc
import sys
from collections.abc import Callable, Coroutine
from datetime import UTC, datetime
from pathlib import Path
from typing import Annotated, Any, NoReturn, TypeVar

import typer
from pydantic import ValidationError
from sqlalchemy.exc import SQLAlchemyError

from bot import crisis_cli
from bot.settings import Settings, describe_settings_error, load_settings
from storage.crypto import KeyRing, KeyRingError
from storage.db import Database, DatabaseError

T = TypeVar("T")

app = typer.Typer(add_completion=False, no_args_is_help=True, help=__doc__)
keys_app = typer.Typer(no_args_is_help=True, help="The key ring: create, rotate, retire.")
db_app = typer.Typer(no_args_is_help=True, help="The database schema.")
mentors_app = typer.Typer(no_args_is_help=True, help="Peer mentors: invite, list, approve, revoke.")
coordinators_app = typer.Typer(no_args_is_help=True, help="Pilot coordinators: invite, list.")
app.add_typer(keys_app, name="keys")
app.add_typer(db_app, name="db")
app.add_typer(mentors_app, name="mentors")
app.add_typer(coordinators_app, name="coordinators")
app.add_typer(crisis_cli.app, name="crisis")

NO_TOKEN = (
    "No bot token: set FIRSTSTEP_TELEGRAM_TOKEN (in the environment or .env), "  # noqa: S105
    "or try the service locally with `firststep sandbox` (or `make run`)."
)


def fail(message: str) -> NoReturn:
    typer.echo(f"firststep: {message}", err=True)
    raise typer.Exit(2)


def settings_or_fail() -> Settings:
    try:
        return load_settings()
    except ValidationError as error:
        fail(describe_settings_error(error))


NOT_UPGRADED = (
    "the database has no First Step tables yet: run `firststep db upgrade` "
    "(or `firststep run`) first"
)


def unreachable_database(error: BaseException) -> DatabaseError:
    """One line for a database the command cannot reach; never the URL (it may hold a
    password), only the operating system's reason."""
    reason = error.strerror if isinstance(error, OSError) and error.strerror else None
    return DatabaseError(
        f"cannot reach the database ({reason or type(error).__name__}): check "
        "FIRSTSTEP_DATABASE_URL and that the server is running"
    )


def refused_by_database(error: SQLAlchemyError) -> DatabaseError:
    """One line for a database that answered with an error; the driver's class name only,
    because its message can quote statements and connection details."""
    cause = getattr(error, "orig", None) or error
    return DatabaseError(
        f"the database refused the request ({type(cause).__name__}): check "
        "FIRSTSTEP_DATABASE_URL, and run `firststep db upgrade` if the schema is old"
    )


def run_async(coroutine: Coroutine[Any, Any, T]) -> T:
    try:
        return asyncio.run(coroutine)
    except (KeyRingError, DatabaseError) as error:
        fail(str(error))
    except SQLAlchemyError as error:
        fail(str(refused_by_database(error)))


async def open_ready(settings: Settings) -> Database:
    """The database, reachable, durable and upgraded, or a DatabaseError saying what to fix.
    For commands that work on an existing schema (keys, purge, the journal replay)."""
    from storage.migrate import current_revision

    database = Database.from_url(settings.database_url)
    try:
        await database.verify()
        if await current_revision(database) is None:
            raise DatabaseError(NOT_UPGRADED)
    except OSError as error:
        await database.dispose()
        raise unreachable_database(error) from None
    except SQLAlchemyError as error:
        await database.dispose()
        raise refused_by_database(error) from None
    except BaseException:
        await database.dispose()
        raise
    return database


def _load_ring(settings: Settings) -> KeyRing:
    from bot.keyring import load_keyring

    try:
        return load_keyring(settings)
    except KeyRingError as error:
        fail(str(error))


@app.command()
def run(
    or_sandbox: Annotated[
        bool, typer.Option("--or-sandbox", help="Start the sandbox when no token is set.")
    ] = False,
    webhook: Annotated[
        bool,
        typer.Option(
            "--webhook",
            help="Receive updates on a webhook behind a reverse proxy (needs "
            "FIRSTSTEP_WEBHOOK_URL and FIRSTSTEP_WEBHOOK_SECRET). Default: long polling.",
        ),
    ] = False,
) -> None:
    """Run the bot: long polling against FIRSTSTEP_TELEGRAM_API_URL, or --webhook."""
    # Start-up's objects live as long as the process, so collecting while they are made
    # finds nothing and costs time (bot/__main__.py): the collector stays off until the
    # bot is ready, when bot.app freezes them and turns it back on (or until we stop).
    gc.disable()
    try:
        _run(or_sandbox=or_sandbox, webhook=webhook)
    finally:
        gc.enable()


def _run(*, or_sandbox: bool, webhook: bool) -> None:
    settings = settings_or_fail()
    if settings.telegram_token is None:
        if or_sandbox:
            sandbox()
            return
        fail(NO_TOKEN)
    unconfirmed = settings.unconfirmed_text()
    if unconfirmed is not None:
        fail(unconfirmed)
    if webhook:
        from bot.webhook import webhook_problem

        problem = webhook_problem(settings)
        if problem is not None:
            fail(problem)
    _load_ring(settings)
    run_async(_check_database(settings))
    from telegram.error import InvalidToken, NetworkError

    from bot.housekeeping import WebChatUnavailable

    try:
        if webhook:
            from bot.webhook import run_webhook

            run_webhook(settings)
            return
        from bot.runner import run_polling

        run_polling(settings)
    except InvalidToken:
        # PTB's own message quotes the whole token: never print it.
        fail(TOKEN_REFUSED)
    except NetworkError as error:
        fail(telegram_unreachable(error))
    except WebChatUnavailable as error:
        fail(str(error))


TOKEN_REFUSED = (
    "Telegram refused the bot token (getMe answered 401 or 404): check "  # noqa: S105
    "FIRSTSTEP_TELEGRAM_TOKEN, and FIRSTSTEP_TELEGRAM_API_URL if you changed it"
)


def telegram_unreachable(error: Exception) -> str:
    """One line for a Telegram the bot cannot reach; the error's class, never its text
    (a request error can carry the URL, and the URL carries the token)."""
    return (
        f"cannot reach Telegram ({type(error).__name__}): check the network and "
        "FIRSTSTEP_TELEGRAM_API_URL, then start again"
    )


async def _check_database(settings: Settings) -> None:
    from storage.migrate import upgrade_if_behind

    database = Database.from_url(settings.database_url)
    try:
        await database.verify()
        await upgrade_if_behind(database)
        await _replay_journal(database)
    except OSError as error:
        raise unreachable_database(error) from None
    finally:
        await database.dispose()


@app.command()
def sandbox(
    port: Annotated[int | None, typer.Option(help="Web page port (default 8080).")] = None,
) -> None:
    """Try the whole service locally: a fake Telegram, the real bot, and a web chat page."""
    try:
        from bot.sandbox.serve import SandboxError, serve_sandbox
    except ModuleNotFoundError as error:  # pragma: no cover - the sandbox ships with it
        if error.name != "bot.sandbox.serve":
            raise
        fail("the sandbox is not installed in this build")
    settings = settings_or_fail()
    try:
        serve_sandbox(settings, port=port)
    except SandboxError as error:
        fail(str(error))


@db_app.command("upgrade")
def db_upgrade() -> None:
    """Bring the schema up to date (also done by `firststep run`)."""
    settings = settings_or_fail()
    run_async(_check_database(settings))
    typer.echo("database is up to date")


def _save(ring: KeyRing, settings: Settings) -> None:
    if settings.keyring_json is not None:
        fail(
            "the key ring comes from FIRSTSTEP_KEYRING_JSON; change it in your secret "
            "manager (print a new one with `firststep keys init --stdout`)"
        )
    ring.save(settings.keyring, overwrite=True)


def _ring_command(change: Callable[[KeyRing], tuple[KeyRing, str]]) -> None:
    settings = settings_or_fail()
    ring = _load_ring(settings)
    try:
        new_ring, message = change(ring)
    except KeyRingError as error:
        fail(str(error))
    _save(new_ring, settings)
    typer.echo(message)


@keys_app.command("init")
def keys_init(
    stdout: Annotated[bool, typer.Option("--stdout", help="Print the ring instead.")] = False,
) -> None:
    """Create the key ring (never overwrites an existing one)."""
    ring = KeyRing.generate()
    if stdout:
        typer.echo(ring.to_json())
        return
    settings = settings_or_fail()
    if settings.keyring.exists():
        fail(f"{settings.keyring} already exists; it is never overwritten")
    try:
        ring.save(settings.keyring)
    except KeyRingError as error:
        fail(str(error))
    typer.echo(f"created {settings.keyring} (mode 0600). Back it up apart from the database.")


@keys_app.command("add")
def keys_add(
    pepper: Annotated[bool, typer.Option("--pepper", help="Add a pepper, not a KEK.")] = False,
) -> None:
    """Add a new KEK (or pepper) that is not yet primary: roll it out, then promote it."""

    def change(ring: KeyRing) -> tuple[KeyRing, str]:
        if pepper:
            new, version = ring.with_new_pepper()
            return new, f"added pepper version {version} (not primary)"
        new, version = ring.with_new_kek()
        return new, f"added KEK version {version} (not primary)"

    _ring_command(change)


@keys_app.command("promote")
def keys_promote(
    version: int,
    pepper: Annotated[bool, typer.Option("--pepper", help="Promote a pepper.")] = False,
) -> None:
    """Make a version primary: new keys are wrapped (or pseudonyms made) with it."""

    def change(ring: KeyRing) -> tuple[KeyRing, str]:
        if pepper:
            return ring.promote_pepper(version), f"pepper version {version} is primary"
        return ring.promote_kek(version), f"KEK version {version} is primary"

    _ring_command(change)


@keys_app.command("retire")
def keys_retire(
    version: int,
    pepper: Annotated[bool, typer.Option("--pepper", help="Retire a pepper.")] = False,
) -> None:
    """Remove an old version; refused while any data key (or, for a pepper, any person or
    mentor) still uses it."""
    settings = settings_or_fail()
    from storage.repositories.subjects import kek_usage, pepper_usage

    counter = pepper_usage if pepper else kek_usage

    async def usage() -> dict[int, int]:
        database = await open_ready(settings)
        try:
            return await counter(database)
        finally:
            await database.dispose()

    in_use = run_async(usage()).get(version, 0)
    if in_use and pepper:
        fail(
            f"pepper version {version} still keys {in_use} people or mentors: keep it until "
            "they have written since the new pepper became primary (each is re-keyed then)"
        )
    if in_use:
        fail(f"KEK version {version} still wraps {in_use} keys: run `firststep keys rewrap`")

    def change(ring: KeyRing) -> tuple[KeyRing, str]:
        if pepper:
            return ring.retire_pepper(version), f"pepper version {version} retired"
        return ring.retire_kek(version), f"KEK version {version} retired"

    _ring_command(change)


@keys_app.command("rewrap")
def keys_rewrap(
    batch: Annotated[int, typer.Option(help="Keys per transaction.")] = 200,
) -> None:
    """Rewrap every data key under the primary KEK (safe to stop and run again)."""
    settings = settings_or_fail()
    ring = _load_ring(settings)
    from storage.repositories.subjects import rewrap_batch

    async def rewrap_all() -> int:
        database = await open_ready(settings)
        total = 0
        try:
            while moved := await rewrap_batch(database, ring, limit=batch):
                total += moved
                await database.between_batches()  # the bot's steps get the lock in turn
        finally:
            await database.dispose()
        return total

    total = run_async(rewrap_all())
    typer.echo(f"rewrapped {total} keys under KEK version {ring.primary_kek_version}")


@keys_app.command("status")
def keys_status() -> None:
    """Versions in the ring and how many data keys each KEK wraps; never the keys."""
    settings = settings_or_fail()
    ring = _load_ring(settings)
    from storage.repositories.subjects import kek_usage, pepper_usage

    async def usage() -> tuple[dict[int, int], dict[int, int]]:
        database = await open_ready(settings)
        try:
            return await kek_usage(database), await pepper_usage(database)
        finally:
            await database.dispose()

    counts, keyed = run_async(usage())
    for version in ring.kek_versions:
        primary = " (primary)" if version == ring.primary_kek_version else ""
        typer.echo(f"KEK v{version}{primary}: wraps {counts.get(version, 0)} keys")
    for version in ring.pepper_versions:
        primary = " (primary)" if version == ring.primary_pepper_version else ""
        typer.echo(f"pepper v{version}{primary}: keys {keyed.get(version, 0)} people or mentors")


# --------------------------------------------------------------------- mentors


async def _with_database(
    settings: Settings, work: Callable[[Database], Coroutine[Any, Any, T]]
) -> T:
    """Open the database (migrated to the current schema), run `work`, close it."""
    from storage.migrate import upgrade

    database = Database.from_url(settings.database_url)
    try:
        await database.verify()
        await upgrade(database)
        return await work(database)
    except OSError as error:
        raise unreachable_database(error) from None
    finally:
        await database.dispose()


def _invite(role: str, office_id: str | None, area: str | None, as_json: bool) -> None:
    import json
    from datetime import UTC, datetime, timedelta

    from storage.models import MentorRole
    from storage.repositories.mentors import create_invite

    settings = settings_or_fail()

    async def work(database: Database) -> Any:
        async with database.transaction() as connection:
            return await create_invite(
                connection,
                role=MentorRole(role),
                office_id=office_id,
                pilot_area=area,
                now=datetime.now(UTC),
                ttl=timedelta(hours=settings.invite_ttl_hours),
            )

    invite = run_async(_with_database(settings, work))
    expires = invite.expires_at.strftime("%Y-%m-%d %H:%M UTC")
    if as_json:
        typer.echo(
            json.dumps(
                {
                    "code": invite.code,
                    "office": office_id,
                    "area": area,
                    "role": role,
                    "expires_at": invite.expires_at.isoformat(),
                }
            )
        )
        return
    where = office_id if office_id else (area or "every pilot area")
    typer.echo(f"One-time invite for a {role} ({where}). It works once, until {expires}.")
    typer.echo("Give it to them privately. They send the bot: /join CODE")
    typer.echo("(or open the bot's link with ?start=join-CODE). The code:")
    typer.echo(invite.code)


@mentors_app.command("invite")
def mentors_invite(
    office: Annotated[str, typer.Option("--office", help="Office id, as in jobcentres.csv.")],
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
) -> None:
    """Make a one-time code for a new peer mentor at one office (the code is the last line)."""
    from storage.directory import office_by_id

    found = office_by_id(office)
    if found is None:
        fail(f"no office {office!r} takes referrals: use an office_id from jobcentres.csv")
    _invite("mentor", found.office_id, found.pilot_area, as_json)


@coordinators_app.command("invite")
def coordinators_invite(
    area: Annotated[
        str | None, typer.Option("--area", help="Pilot area (default: every area).")
    ] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
) -> None:
    """Make a one-time code for a coordinator, who gets alerts for unclaimed requests."""
    from storage.directory import all_offices

    areas = sorted({o.pilot_area for o in all_offices() if o.offered})
    if area is not None and area not in areas:
        fail(f"no pilot area {area!r}: choose one of {', '.join(areas)}")
    _invite("coordinator", None, area, as_json)


def _list(role: str | None) -> None:
    from storage.repositories.mentors import MentorSummary, list_mentors

    settings = settings_or_fail()

    async def work(database: Database) -> list[MentorSummary]:
        async with database.transaction() as connection:
            return await list_mentors(connection)

    rows = [r for r in run_async(_with_database(settings, work)) if role in (None, r.role)]
    if not rows:
        typer.echo("nobody yet: make an invite with `firststep mentors invite --office ID`")
        return
    typer.echo(f"{'id':10} {'role':12} {'office':32} {'area':14} {'status':17} availability")
    for r in rows:
        availability = "unreachable" if r.unreachable else ("available" if r.available else "away")
        if r.role == "coordinator":
            availability = "-"
        typer.echo(
            f"{r.id[:8]:10} {r.role:12} {r.office_id or '-':32} {r.pilot_area or 'all':14} "
            f"{r.status:17} {availability}"
        )


@mentors_app.command("list")
def mentors_list() -> None:
    """Mentors and coordinators: id prefix, office, status, availability (never a Telegram id)."""
    _list(None)


@coordinators_app.command("list")
def coordinators_list() -> None:
    """Coordinators only."""
    _list("coordinator")


def _change(mentor_id_prefix: str, verb: str) -> None:
    from datetime import UTC, datetime

    from conversations.mentor.accounts import approve_mentor, revoke_mentor
    from storage.repositories.mentors import MentorLookupError, find_by_prefix

    settings = settings_or_fail()
    ring = _load_ring(settings)

    async def work(database: Database) -> str:
        async with database.transaction() as connection:
            try:
                mentor = await find_by_prefix(connection, mentor_id_prefix)
            except MentorLookupError as error:
                return f"!{error}"
            now = datetime.now(UTC)
            if verb == "approve":
                if not await approve_mentor(connection, ring, mentor.id, now):
                    return f"!{mentor.id[:8]} is {mentor.status}, not waiting for approval"
                return f"approved {mentor.id[:8]}: they get requests from now on"
            handed_back = await revoke_mentor(connection, ring, mentor.id, now)
            if handed_back is None:
                return f"!{mentor.id[:8]} is already revoked"
            return (
                f"revoked {mentor.id[:8]}: no more requests or actions; "
                f"{handed_back} open chat(s) handed back to their pilot area"
            )

    message = run_async(_with_database(settings, work))
    if message.startswith("!"):
        fail(message[1:])
    typer.echo(message)


@mentors_app.command("approve")
def mentors_approve(
    mentor_id: Annotated[str, typer.Argument(help="Id (or its first characters) from list.")],
) -> None:
    """Let a new mentor receive requests (when FIRSTSTEP_MENTOR_APPROVAL is on)."""
    _change(mentor_id, "approve")


@mentors_app.command("revoke")
def mentors_revoke(
    mentor_id: Annotated[str, typer.Argument(help="Id (or its first characters) from list.")],
) -> None:
    """End a mentor's or coordinator's access; their open chats go back to the area."""
    _change(mentor_id, "revoke")


# -- Posters -------------------------------------------------------------------------

NO_BOT_USERNAME = (
    "set FIRSTSTEP_BOT_USERNAME to the bot's @username (from @BotFather): the poster's "
    "Telegram code opens it"
)
NO_WEBCHAT_URL = (
    "FIRSTSTEP_WEBCHAT_URL is not set: this poster has only the Telegram code "
    "(set it to the web chat's https address to add the web chat code)"
)


@app.command()
def poster(
    office: Annotated[
        str | None, typer.Option("--office", help="Office id (see them with --list).")
    ] = None,
    out: Annotated[Path, typer.Option("--out", help="Folder for the SVG and the text.")] = Path(),
    list_offices: Annotated[
        bool, typer.Option("--list", help="List the pilot offices' ids and names.")
    ] = False,
) -> None:
    """Write a printable A4 poster (SVG) for one Jobcentre, with its QR codes and text."""
    from storage.directory import all_offices, office_by_id

    if list_offices:
        for each in sorted(all_offices(), key=lambda o: (o.pilot_area, o.office_id)):
            if each.offered:
                typer.echo(f"{each.office_id:34} {each.pilot_area:14} {each.name}")
        return
    if office is None:
        fail("say which office: firststep poster --office ID (see the ids with --list)")
    found = office_by_id(office)
    if found is None:
        fail(f"no pilot office {office!r}: see the office ids with `firststep poster --list`")
    settings = settings_or_fail()
    if settings.bot_username is None:
        fail(NO_BOT_USERNAME)
    if settings.webchat_url is None:
        typer.echo(f"firststep: {NO_WEBCHAT_URL}", err=True)
    from bot.poster import make_poster, write_poster

    made = make_poster(
        found,
        bot_username=settings.bot_username,
        webchat_url=settings.webchat_url,
        work_coach_policy=settings.work_coach_policy,
    )
    try:
        svg_path, text_path = write_poster(made, out)
    except OSError as error:
        fail(f"cannot write the poster: {error.strerror or error}")
    typer.echo(f"wrote {svg_path} (A4, print at 100%) and {text_path}")


# -- Operations: retention, backups, the pilot report ---------------------------------


def _utc_now() -> datetime:
    return datetime.now(UTC)


async def _replay_journal(database: Database) -> None:
    """Erasures survive any restore: journaled subjects are removed again at every start."""
    from storage.operations.backup import replay_erasure_journal

    replayed = await replay_erasure_journal(database, _utc_now())
    if replayed.total:
        typer.echo(
            f"erasure journal: removed again {replayed.people} people, "
            f"{replayed.mentors} mentors and {replayed.keys} keys that a restore brought back",
            err=True,
        )


@app.command()
def purge(
    dry_run: Annotated[
        bool, typer.Option("--dry-run", help="Count what would go; remove nothing.")
    ] = False,
) -> None:
    """Apply the retention schedule now (`firststep run` also does it daily)."""
    settings = settings_or_fail()
    from storage.operations.retention import RetentionPolicy, record_purge
    from storage.operations.retention import purge as purge_now

    # The key ring lets an unfinished mentor request lose only its phone number; without
    # one here, the purge drops the whole unfinished request (storage.repositories.request_drafts).
    has_ring = settings.keyring_json is not None or settings.keyring.exists()
    ring = _load_ring(settings) if has_ring else None
    if ring is None:
        typer.echo(
            "no key ring here: unfinished mentor requests lose all they held, "
            "not only a phone number",
            err=True,
        )

    async def go() -> dict[str, int]:
        database = await open_ready(settings)
        try:
            now = _utc_now()
            policy = RetentionPolicy.from_settings(settings)
            counts = await purge_now(database, now, policy, ring=ring, dry_run=dry_run)
            if not dry_run:
                await record_purge(database, now, counts)
            return counts
        finally:
            await database.dispose()

    counts = run_async(go())
    verb = "would remove" if dry_run else "removed"
    for name, number in counts.items():
        typer.echo(f"{name}: {verb} {number}")
    if dry_run:
        typer.echo("dry run: nothing was removed")


@app.command()
def backup(
    out: Annotated[Path, typer.Option("--out", help="Folder that receives the backup.")],
    only: Annotated[
        str | None,
        typer.Option("--only", help="main or keystore (they are kept on different clocks)."),
    ] = None,
    keep: Annotated[
        bool,
        typer.Option(
            "--keep/--prune",
            help="Keep older backups in --out, or (default) delete those past their clock: "
            "key store FIRSTSTEP_BACKUP_ERASURE_DAYS, main FIRSTSTEP_BACKUP_MAIN_DAYS.",
        ),
    ] = False,
) -> None:
    """Back up the main data and the key store apart (SQLite), or say how (PostgreSQL)."""
    settings = settings_or_fail()
    from storage.operations.backup import (
        BackupError,
        backup_sqlite,
        postgres_instructions,
        sqlite_main_path,
    )

    if not settings.is_sqlite:
        typer.echo(postgres_instructions(settings.database_url))
        return
    if only not in (None, "main", "keystore"):
        fail("--only takes main or keystore")
    parts = (only,) if only else ("main", "keystore")
    try:
        result = backup_sqlite(
            sqlite_main_path(settings.database_url),
            out,
            _utc_now(),
            parts=parts,
            keystore_days=None if keep else settings.backup_erasure_days,
            main_days=None if keep else settings.backup_main_days,
        )
    except (BackupError, OSError) as error:
        fail(f"backup failed: {error}")
    typer.echo(f"backed up {' and '.join(result.parts)} to {result.folder}")
    for folder in result.pruned:
        typer.echo(f"deleted old backup {folder}")


@app.command()
def restore(
    source: Annotated[
        Path | None, typer.Option("--from", help="A backup folder made by `firststep backup`.")
    ] = None,
    with_keystore: Annotated[
        bool,
        typer.Option(
            "--with-keystore",
            help="Also restore the key store (only when the live one is lost).",
        ),
    ] = False,
    replay_journal: Annotated[
        bool,
        typer.Option(
            "--replay-journal", help="Only erase journaled subjects again (after pg_restore)."
        ),
    ] = False,
) -> None:
    """Restore the main data from a backup, keep the live key store, replay erasures."""
    settings = settings_or_fail()
    from storage.operations.backup import (
        BackupError,
        postgres_instructions,
        replay_erasure_journal,
        restore_sqlite,
        sqlite_main_path,
    )

    if replay_journal:

        async def replay() -> str:
            database = await open_ready(settings)
            try:
                done = await replay_erasure_journal(database, _utc_now())
            finally:
                await database.dispose()
            return f"erasure journal replayed: {done.people} people, {done.keys} keys removed"

        typer.echo(run_async(replay()))
        return
    if not settings.is_sqlite:
        typer.echo(postgres_instructions(settings.database_url))
        return
    if source is None:
        fail("say which backup to restore: firststep restore --from <backup folder>")
    try:
        done = run_async(
            restore_sqlite(
                source,
                sqlite_main_path(settings.database_url),
                _utc_now(),
                with_keystore=with_keystore,
            )
        )
    except (BackupError, OSError) as error:
        fail(f"restore failed: {error}")
    typer.echo(
        f"restored the main data from {source}; kept the "
        f"{'restored' if with_keystore else 'live'} key store; erasure journal replayed: "
        f"{done.people} people and {done.keys} keys removed again"
    )


@app.command()
def report(
    out: Annotated[Path, typer.Option("--out", help="Folder for report.html and the CSVs.")],
    since: Annotated[
        str | None, typer.Option("--since", help="First day (YYYY-MM-DD) to include.")
    ] = None,
    until: Annotated[
        str | None, typer.Option("--until", help="Last day (YYYY-MM-DD) to include.")
    ] = None,
) -> None:
    """Write the pilot report: aggregate figures only, counts under 5 suppressed."""
    settings = settings_or_fail()
    from datetime import date

    from bot.report_html import write_report
    from storage.operations.report import build_report

    try:
        first = date.fromisoformat(since) if since else None
        last = date.fromisoformat(until) if until else None
    except ValueError:
        fail("--since and --until take a date like 2026-01-31")

    async def make() -> list[Path]:
        database = await open_ready(settings)
        try:
            built = await build_report(database, _utc_now(), since=first, until=last)
        finally:
            await database.dispose()
        return write_report(built, out)

    try:
        written = run_async(make())
    except OSError as error:
        fail(f"cannot write the report: {error.strerror or error}")
    typer.echo(f"wrote {len(written)} files to {out} (open {written[0].name} in a browser)")


def main() -> None:
    try:
        app()
    except KeyboardInterrupt:
        sys.exit(130)
