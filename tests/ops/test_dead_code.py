"""No dead code: every module-level name in bot/, conversations/ and storage/ is used.

Why: an unused helper (a second `say`, a redaction hook nobody installs, a text no screen
shows) still has to be read, kept typed and translated. The check is a word count, like
`vulture` at its surest: a name defined at a module's top level must appear somewhere else
in the project's Python (its own package, bench/, scripts/ or tests/). Decorated functions
(Typer commands, handlers registered by decorator) and Alembic revisions are left out:
they are called by a framework, by name or by registration.
"""

from __future__ import annotations

import ast
import re
from collections import Counter
from collections.abc import Iterator
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
PACKAGES = ("bot", "conversations", "storage")
READERS = (*PACKAGES, "bench", "scripts", "tests")


def defined_names(tree: ast.Module) -> Iterator[str]:
    """Top-level functions, classes and assigned names a person could call or import."""
    for node in tree.body:
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef):
            if not node.decorator_list:
                yield node.name
        elif isinstance(node, ast.Assign):
            yield from (t.id for t in node.targets if isinstance(t, ast.Name))
        elif isinstance(node, ast.AnnAssign) and isinstance(node.target, ast.Name):
            yield node.target.id


def unused(root: Path, packages: tuple[str, ...], readers: tuple[str, ...]) -> list[str]:
    """`path: name` for each top-level name that appears only where it is defined."""
    sources = {
        path: path.read_text("utf-8")
        for folder in readers
        for path in sorted((root / folder).rglob("*.py"))
    }
    words = Counter(word for text in sources.values() for word in re.findall(r"\w+", text))
    found: list[str] = []
    for path, text in sources.items():
        relative = path.relative_to(root)
        if relative.parts[0] not in packages or "migrations" in relative.parts:
            continue
        for name in defined_names(ast.parse(text)):
            if not name.startswith("__") and words[name] < 2:
                found.append(f"{relative.as_posix()}: {name}")
    return found


def test_every_top_level_name_is_used() -> None:
    assert unused(ROOT, PACKAGES, READERS) == []


def test_the_check_finds_a_helper_nobody_calls(tmp_path: Path) -> None:
    (tmp_path / "app").mkdir()
    (tmp_path / "tests").mkdir()
    (tmp_path / "app" / "logs.py").write_text(
        "import logging\n"
        "HELLO = 'Hello'\n"
        "UNSHOWN = 'Never on a screen'\n"
        "def install(handler: logging.Handler) -> None: ...\n"
        "def used() -> str:\n"
        "    return HELLO\n"
        "@command()\n"
        "def cli_only() -> None: ...\n",
        "utf-8",
    )
    (tmp_path / "tests" / "test_logs.py").write_text("from app.logs import used\n", "utf-8")
    assert unused(tmp_path, ("app",), ("app", "tests")) == [
        "app/logs.py: UNSHOWN",
        "app/logs.py: install",
    ]
