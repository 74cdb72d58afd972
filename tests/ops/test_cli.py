"""The command line: settings errors and a missing token stop start-up with one line."""

from __future__ import annotations

import json
import os
import stat
import subprocess
import sys
from pathlib import Path

import pytest

from bot.settings import load_settings
from tests.support.ops import OPERATOR_TEXTS

ROOT = Path(__file__).resolve().parents[2]
TOKEN = "123456:" + "A" * 30


def firststep(tmp_path: Path, *args: str, **env: str) -> subprocess.CompletedProcess[str]:
    clean = {k: v for k, v in os.environ.items() if not k.startswith("FIRSTSTEP_")}
    clean["PYTHONPATH"] = str(ROOT)
    clean.update(env)
    return subprocess.run(
        [sys.executable, "-m", "bot", *args],
        cwd=tmp_path,
        env=clean,
        capture_output=True,
        text=True,
        timeout=60,
    )


@pytest.mark.parametrize(
    "missing",
    ["FIRSTSTEP_VOLUNTARY_POLICY", "FIRSTSTEP_MENTOR_EMPLOYER", "FIRSTSTEP_SAFEGUARDING_POLICY"],
)
def test_run_without_an_operator_text_says_which_in_one_line(tmp_path: Path, missing: str) -> None:
    """What only the operator can confirm (About this service) must be set to run for real."""
    texts = {name: value for name, value in OPERATOR_TEXTS.items() if name != missing}
    result = firststep(tmp_path, "run", FIRSTSTEP_TELEGRAM_TOKEN=TOKEN, **texts)
    assert result.returncode == 2
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert f"{missing} is empty" in lines[0]
    assert "Traceback" not in result.stderr


def test_run_without_token_says_how_to_fix_in_one_line(tmp_path: Path) -> None:
    result = firststep(tmp_path, "run")
    assert result.returncode == 2
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert "FIRSTSTEP_TELEGRAM_TOKEN" in lines[0]
    assert "sandbox" in lines[0]
    assert "Traceback" not in result.stderr


@pytest.mark.parametrize(
    ("variable", "value", "expected"),
    [
        ("FIRSTSTEP_TELEGRAM_TOKEN", "not-a-token", "FIRSTSTEP_TELEGRAM_TOKEN"),
        ("FIRSTSTEP_DATABASE_URL", "mysql://x", "FIRSTSTEP_DATABASE_URL"),
        ("FIRSTSTEP_RATE_LIMIT_MESSAGES", "lots", "FIRSTSTEP_RATE_LIMIT_MESSAGES"),
        ("FIRSTSTEP_LOG_LEVEL", "LOUD", "FIRSTSTEP_LOG_LEVEL"),
        ("FIRSTSTEP_CONCURRENT_PEOPLE", "0", "FIRSTSTEP_CONCURRENT_PEOPLE"),
        ("FIRSTSTEP_CONCURRENT_PEOPLE", "many", "FIRSTSTEP_CONCURRENT_PEOPLE"),
        ("FIRSTSTEP_CHAT_IDLE_CLOSE_DAYS", "soon", "FIRSTSTEP_CHAT_IDLE_CLOSE_DAYS"),
        ("FIRSTSTEP_CHAT_IDLE_CLOSE_DAYS", "0", "greater than or equal to 1"),
        ("FIRSTSTEP_WEBCHAT_PORT", "web", "FIRSTSTEP_WEBCHAT_PORT"),
        ("FIRSTSTEP_WEBCHAT_PORT", "70000", "FIRSTSTEP_WEBCHAT_PORT"),
        ("FIRSTSTEP_WEBCHAT_ORIGIN", "chat.example", "FIRSTSTEP_WEBCHAT_ORIGIN"),
        ("FIRSTSTEP_WEBCHAT_ORIGIN", "https://chat.example/path", "FIRSTSTEP_WEBCHAT_ORIGIN"),
        ("FIRSTSTEP_WEBCHAT_EXIT_URL", "javascript:x", "FIRSTSTEP_WEBCHAT_EXIT_URL"),
        ("FIRSTSTEP_WEBCHAT_NEW_CHATS_PER_MINUTE", "0", "FIRSTSTEP_WEBCHAT_NEW_CHATS_PER_MINUTE"),
    ],
)
def test_bad_setting_is_one_line_naming_the_variable(
    tmp_path: Path, variable: str, value: str, expected: str
) -> None:
    result = firststep(tmp_path, "run", **{variable: value})
    assert result.returncode == 2
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert expected in lines[0]
    assert value not in lines[0] or value in ("LOUD", "0")  # never echo a possibly secret value


def test_key_backups_kept_longer_than_main_backups_stop_start_up_in_one_line(
    tmp_path: Path,
) -> None:
    """What /forget tells people (key copies gone first, locked copies later) holds only
    when FIRSTSTEP_BACKUP_ERASURE_DAYS <= FIRSTSTEP_BACKUP_MAIN_DAYS."""
    secret = "webhookSecretValue_4417"
    result = firststep(
        tmp_path,
        "run",
        FIRSTSTEP_BACKUP_ERASURE_DAYS="40",
        FIRSTSTEP_BACKUP_MAIN_DAYS="30",
        FIRSTSTEP_WEBHOOK_SECRET=secret,
    )
    assert result.returncode == 2
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert "FIRSTSTEP_BACKUP_ERASURE_DAYS" in lines[0]
    assert "FIRSTSTEP_BACKUP_MAIN_DAYS" in lines[0]
    assert "lower FIRSTSTEP_BACKUP_ERASURE_DAYS or raise FIRSTSTEP_BACKUP_MAIN_DAYS" in lines[0]
    assert secret not in lines[0] and "40" not in lines[0]
    assert "Traceback" not in result.stderr


@pytest.mark.parametrize(("erasure", "main"), [(7, 30), (30, 30), (0, 1)])
def test_key_backups_no_longer_than_main_backups_are_accepted(erasure: int, main: int) -> None:
    settings = load_settings(backup_erasure_days=erasure, backup_main_days=main)
    assert (settings.backup_erasure_days, settings.backup_main_days) == (erasure, main)


@pytest.mark.parametrize(
    ("settings", "earlier", "later"),
    [
        (
            {"FIRSTSTEP_LADDER_OFFICE_REMINDER_MINUTES": "2000"},
            "LADDER_OFFICE_REMINDER_MINUTES",
            "LADDER_AREA_MINUTES",
        ),
        (
            {"FIRSTSTEP_LADDER_AREA_MINUTES": "2880"},
            "LADDER_AREA_MINUTES",
            "LADDER_COORDINATOR_MINUTES",
        ),
        (
            {"FIRSTSTEP_REFERRAL_PENDING_MAX_DAYS": "1"},
            "LADDER_COORDINATOR_MINUTES",
            "REFERRAL_PENDING_MAX_DAYS",
        ),
    ],
)
def test_a_ladder_out_of_order_stops_start_up_in_one_line(
    tmp_path: Path, settings: dict[str, str], earlier: str, later: str
) -> None:
    """Remind, widen, alert coordinators, expire: each counts from the request."""
    result = firststep(tmp_path, "run", **settings)
    assert result.returncode == 2
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert f"lower FIRSTSTEP_{earlier} or raise FIRSTSTEP_{later}" in lines[0]
    assert "Traceback" not in result.stderr


@pytest.mark.parametrize(
    ("settings", "expected"),
    [
        ({"FIRSTSTEP_REQUEST_DRAFT_MAX_HOURS": "0"}, "FIRSTSTEP_REQUEST_DRAFT_MAX_HOURS"),
        (
            {"FIRSTSTEP_REQUEST_DRAFT_MAX_HOURS": "48", "FIRSTSTEP_RETENTION_INACTIVE_DAYS": "2"},
            "lower FIRSTSTEP_REQUEST_DRAFT_MAX_HOURS",
        ),
    ],
)
def test_a_bad_request_draft_clock_stops_start_up_in_one_line(
    tmp_path: Path, settings: dict[str, str], expected: str
) -> None:
    """An unfinished request's phone number must go, and before the person does."""
    result = firststep(tmp_path, "run", **settings)
    assert result.returncode == 2
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert expected in lines[0]
    assert "Traceback" not in result.stderr


def test_a_request_draft_clock_shorter_than_the_inactivity_clock_is_accepted() -> None:
    settings = load_settings(request_draft_max_hours=47, retention_inactive_days=2)
    assert settings.request_draft_max_hours == 47
    assert load_settings().request_draft_max_hours == 24


def test_the_default_ladder_is_in_order() -> None:
    settings = load_settings()
    assert (
        settings.ladder_office_reminder_minutes
        < settings.ladder_area_minutes
        < settings.ladder_coordinator_minutes
        < settings.referral_pending_max_days * 24 * 60
    )


def test_keys_init_creates_private_ring_and_never_overwrites(tmp_path: Path) -> None:
    ring_path = tmp_path / "var" / "keyring.json"
    first = firststep(tmp_path, "keys", "init")
    assert first.returncode == 0, first.stderr
    assert stat.S_IMODE(ring_path.stat().st_mode) == 0o600
    before = ring_path.read_bytes()
    second = firststep(tmp_path, "keys", "init")
    assert second.returncode == 2
    assert "never overwritten" in second.stderr
    assert ring_path.read_bytes() == before
    assert json.loads(before)["format"] == 1


def test_world_readable_ring_is_refused_in_one_line(tmp_path: Path) -> None:
    assert firststep(tmp_path, "keys", "init").returncode == 0
    ring_path = tmp_path / "var" / "keyring.json"
    ring_path.chmod(0o644)
    result = firststep(tmp_path, "keys", "status")
    assert result.returncode == 2
    assert len(result.stderr.strip().splitlines()) == 1
    assert "Traceback" not in result.stderr


@pytest.mark.slow
def test_rotation_through_the_cli(tmp_path: Path) -> None:
    env = {"FIRSTSTEP_DATABASE_URL": f"sqlite+aiosqlite:///{tmp_path / 'db.sqlite'}"}
    assert firststep(tmp_path, "keys", "init", **env).returncode == 0
    assert firststep(tmp_path, "db", "upgrade", **env).returncode == 0
    assert "version 2" in firststep(tmp_path, "keys", "add", **env).stdout
    assert firststep(tmp_path, "keys", "promote", "2", **env).returncode == 0
    assert "rewrapped" in firststep(tmp_path, "keys", "rewrap", **env).stdout
    assert firststep(tmp_path, "keys", "retire", "1", **env).returncode == 0
    status = firststep(tmp_path, "keys", "status", **env).stdout
    assert "KEK v2 (primary)" in status
    assert "KEK v1" not in status
