"""Start-up (issue 16, item 5): the path to the first getUpdates leaves out what it does
not need — Alembic when the schema is current, the directory's tables until polling
runs. Speed itself is measured by `python -m bench --only startup`, not timed here."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from alembic.config import Config
from alembic.script import ScriptDirectory

from storage.db import Database
from storage.migrate import HEAD_REVISION, MIGRATIONS, current_revision, upgrade_if_behind

ROOT = Path(__file__).resolve().parents[2]


def test_head_revision_is_alembics_head() -> None:
    """A new migration script must move HEAD_REVISION on, or start-up would skip it."""
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    assert ScriptDirectory.from_config(config).get_current_head() == HEAD_REVISION


# Only an empty database (Alembic), the web chat (its aiohttp server), PostgreSQL and the
# poster (segno) need these: none is on the way to a SQLite bot's first getUpdates.
NOT_AT_START = (
    "alembic",
    "aiohttp.web",
    "bot.webchat.server",
    "sqlalchemy.dialects.postgresql",
    "segno",
)


def test_the_start_up_path_does_not_import_what_it_does_not_need() -> None:
    code = (
        "import sys, bot.__main__, bot.cli, bot.runner, bot.housekeeping, storage.migrate, "
        "storage.operations.backup\n"
        f"print(*[name for name in {NOT_AT_START!r} if name in sys.modules])\n"
    )
    env = {k: v for k, v in os.environ.items() if not k.startswith("FIRSTSTEP_")}
    done = subprocess.run(
        [sys.executable, "-c", code],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        check=True,
        timeout=120,
    )
    assert done.stdout.split() == []


async def test_upgrade_if_behind_upgrades_a_new_database_and_then_leaves_it(
    database_url: str,
) -> None:
    database = Database.from_url(database_url)
    try:
        assert await upgrade_if_behind(database) is True
        assert await current_revision(database) == HEAD_REVISION
        assert await upgrade_if_behind(database) is False
    finally:
        await database.dispose()
