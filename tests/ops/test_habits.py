"""The house habits hold: a fast inner loop, coverage in `make test`, types over the tests,
and a pre-commit hook that runs what `make lint` runs.

Why: each is a promise in the README; these fail when the Makefile, pyproject.toml or
.pre-commit-config.yaml drift from it.
"""

from __future__ import annotations

import re
import shlex
import subprocess
import sys
import tomllib
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[2]
MAKEFILE = (ROOT / "Makefile").read_text("utf-8")
PYPROJECT = tomllib.loads((ROOT / "pyproject.toml").read_text("utf-8"))
VENV_BIN = Path(sys.executable).parent
# What the inner loop leaves out, by file: crash recovery, the browser, the sandbox process.
SLOW_FILES = (
    "tests/delivery/test_crash_delivery.py",
    "tests/sandbox/test_sandbox_browser.py",
    "tests/sandbox/test_sandbox.py",
)


def recipe(target: str) -> list[str]:
    """The command lines of one Makefile target."""
    found = re.search(rf"^{re.escape(target)}:.*\n((?:\t.*\n)+)", MAKEFILE, re.MULTILINE)
    assert found is not None, f"no `{target}` target in the Makefile"
    return [line.strip() for line in found.group(1).splitlines()]


def make_variable(name: str) -> str:
    found = re.search(rf"^{name} := (.*)$", MAKEFILE, re.MULTILINE)
    assert found is not None, name
    return found.group(1).strip()


def test_test_fast_leaves_out_the_slow_browser_and_sandbox_tests() -> None:
    expression = make_variable("FAST")
    assert any('-m "$(FAST)"' in line for line in recipe("test-fast"))
    markers = {line.split(":")[0] for line in PYPROJECT["tool"]["pytest"]["ini_options"]["markers"]}
    assert {"slow", "browser", "sandbox"} <= markers
    collected = subprocess.run(
        [sys.executable, "-m", "pytest", "--collect-only", "-q", "-m", expression],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    ids = [line for line in collected.splitlines() if "::" in line]
    assert len(ids) > 500  # the inner loop still runs nearly everything
    files = {test_id.split("::")[0] for test_id in ids}
    assert files.isdisjoint(SLOW_FILES)
    assert "tests/person/test_flow_journey.py" in files
    assert not any("eight_mentors_accept_at_once" in test_id for test_id in ids)  # marked slow


def test_make_test_measures_and_shows_coverage() -> None:
    lines = recipe("test")
    assert any("pytest" in line and "--cov" in line.split() for line in lines)
    assert any("coverage report --format=total" in line for line in lines)
    measured = PYPROJECT["tool"]["coverage"]["run"]["source"]
    assert measured == ["bot", "conversations", "storage"]
    assert "fail_under" not in PYPROJECT["tool"]["coverage"].get("report", {})


def test_mypy_checks_the_tests_too() -> None:
    assert "tests" in PYPROJECT["tool"]["mypy"]["packages"]
    assert PYPROJECT["tool"]["mypy"]["strict"] is True


def test_pre_commit_runs_make_lint_with_nothing_fetched() -> None:
    path = ROOT / ".pre-commit-config.yaml"
    config = yaml.safe_load(path.read_text("utf-8"))
    assert [repo["repo"] for repo in config["repos"]] == ["local"]  # no hook downloaded
    hooks = {hook["id"]: hook for hook in config["repos"][0]["hooks"]}
    assert shlex.split(hooks["lint"]["entry"]) == ["make", "lint"]
    assert "stages" not in hooks["lint"]  # on every commit
    assert recipe("lint") == ["$(BIN)/ruff check .", "$(BIN)/ruff format --check ."]
    assert all(hook["language"] == "system" for hook in hooks.values())
    subprocess.run(
        [str(VENV_BIN / "pre-commit"), "validate-config", str(path)], cwd=ROOT, check=True
    )


def test_tests_live_in_area_folders_with_helpers_in_support() -> None:
    tests = ROOT / "tests"
    loose = sorted(
        p.name for p in tests.glob("*.py") if p.name not in ("__init__.py", "conftest.py")
    )
    assert loose == []
    helpers = sorted(
        path.relative_to(tests).as_posix()
        for path in tests.glob("*/*.py")
        if path.parent.name != "support" and not path.name.startswith(("test_", "__init__"))
    )
    assert helpers == []  # a module two tests share belongs in tests/support/
    assert (tests / "support" / "__init__.py").exists()
