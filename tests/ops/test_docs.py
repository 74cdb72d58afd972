"""The README stays true: every setting is documented, the quick start is the two commands."""

from __future__ import annotations

from pathlib import Path

from bot.settings import Settings

README = (Path(__file__).resolve().parents[2] / "README.md").read_text()


def test_every_setting_is_in_the_readme_table() -> None:
    missing = [
        f"FIRSTSTEP_{name.upper()}"
        for name in Settings.model_fields
        if f"`FIRSTSTEP_{name.upper()}`" not in README
    ]
    assert missing == []


def test_quick_start_is_the_two_commands() -> None:
    quick = README.split("## Quick start", 1)[1].split("##", 1)[0]
    assert "make run" in quick
    assert "make test" in quick


def test_ci_runs_the_readme_test_command() -> None:
    ci = (Path(__file__).resolve().parents[2] / ".ci" / "run").read_text()
    assert "make test" in ci
