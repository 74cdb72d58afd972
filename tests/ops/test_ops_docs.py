"""The operator documents say what the code does: retention numbers match the settings'
defaults, and the privacy notice quotes the texts the bot really sends."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from bot.settings import ENV_PREFIX, Settings
from conversations import texts, web_texts
from conversations.mentor.notices import describe_delay

DOCS = Path(__file__).resolve().parents[2] / "docs"
RETENTION_SETTINGS = (
    "retention_inactive_days",
    "retention_after_close_days",
    "retention_referral_days",
    "retention_outbox_days",
    "retention_processed_update_hours",
    "request_draft_max_hours",
    "backup_erasure_days",
    "backup_main_days",
    "chat_idle_close_days",
)


def default(name: str) -> int:
    value = Settings.model_fields[name].default
    assert isinstance(value, int)
    return value


def table_rows(markdown: str) -> list[list[str]]:
    return [
        [cell.strip() for cell in line.strip().strip("|").split("|")]
        for line in markdown.splitlines()
        if line.startswith("|") and not re.match(r"^\|[-| ]+\|$", line)
    ]


def rows_naming(path: Path, setting: str) -> list[list[str]]:
    variable = f"`{ENV_PREFIX}{setting.upper()}`"
    return [row for row in table_rows(path.read_text("utf-8")) if variable in row]


@pytest.mark.parametrize("setting", RETENTION_SETTINGS)
def test_dpia_retention_table_matches_the_defaults(setting: str) -> None:
    (row,) = rows_naming(DOCS / "dpia-notes.md", setting)
    unit = "hours" if setting.endswith("_hours") else "days"
    number = re.search(rf"(\d+) {unit}", row[1])
    assert number is not None, row
    assert int(number.group(1)) == default(setting), row


@pytest.mark.parametrize("setting", [*RETENTION_SETTINGS[:6], "chat_idle_close_days"])
def test_operating_runbook_retention_table_matches_the_defaults(setting: str) -> None:
    (row,) = rows_naming(DOCS / "operating.md", setting)
    unit = "hours" if setting.endswith("_hours") else "days"
    number = re.search(rf"(\d+) {unit}", row[1])
    assert number is not None, row
    assert int(number.group(1)) == default(setting), row


def quoted_lines(markdown: str) -> set[str]:
    return {line[1:].strip() for line in markdown.splitlines() if line.startswith(">")}


@pytest.mark.parametrize(
    "text",
    [
        texts.NOTICE,
        texts.NOTICE_MORE,
        texts.FORGET_DONE,
        texts.MYDATA_ALWAYS,
        web_texts.NOTICE_WEB,
        web_texts.NOTICE_MORE_WEB,
        web_texts.FORGET_DONE_WEB,
        web_texts.MYDATA_ALWAYS_WEB,
    ],
)
def test_privacy_notice_quotes_what_the_bot_says(text: str) -> None:
    quoted = quoted_lines((DOCS / "privacy-notice.md").read_text("utf-8"))
    for line in text.splitlines():
        if line.strip():
            assert line.strip() in quoted, line


def test_privacy_notice_fills_in_the_defaults() -> None:
    notice = (DOCS / "privacy-notice.md").read_text("utf-8")
    assert f"`{{inactive_days}}` = {default('retention_inactive_days')} " in notice
    assert f"`{{after_close_days}}` = {default('retention_after_close_days')} " in notice
    assert f"`{{backup_days}}` = {default('backup_erasure_days')}" in notice
    assert f"`{{main_backup_days}}` = {default('backup_main_days')}" in notice
    draft_delay = describe_delay(default("request_draft_max_hours") * 60)
    assert f"`{{draft_delay}}` = {draft_delay} " in notice
    assert f"`{{idle_days}}` = {default('chat_idle_close_days')}\n" in notice
    assert f"> {Settings.model_fields['work_coach_policy'].default}" in notice
    for number, unit in (
        (default("retention_inactive_days"), "days after your last message"),
        (default("retention_after_close_days"), "days after the request ended"),
        (default("retention_referral_days"), "days after it ended"),
        (default("backup_erasure_days"), "days, so a wiped person"),
        (default("backup_main_days"), "days (locked data only)"),
        (default("request_draft_max_hours"), "hours after your last message"),
        (default("chat_idle_close_days"), "days ends then"),
    ):
        assert f"{number} {unit}" in notice


def test_every_new_ops_setting_is_documented() -> None:
    runbook = (DOCS / "operating.md").read_text("utf-8")
    for name in (
        "webhook_url",
        "webhook_secret",
        "health_listen",
        "health_port",
        "purge_at_utc",
        "backup_erasure_days",
        "backup_main_days",
        "webchat_port",
        "webchat_origin",
        "webchat_exit_url",
        "webchat_new_chats_per_minute",
    ):
        assert f"{ENV_PREFIX}{name.upper()}" in runbook, name
