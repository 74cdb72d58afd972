"""No import cycle in conversations/, and the runner imports no flow.

Every import statement counts, wherever it stands: at the top of a module, inside a
function (the old runner imported the flows' prompts, the notice and the request's
clean-up inside functions, which made a ten-module cycle), or under TYPE_CHECKING.
The checker is run on small made-up packages too, so it is shown to catch both.
"""

from __future__ import annotations

import ast
from collections.abc import Iterator
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
PACKAGE = "conversations"
# The machinery every flow stands on. None of it may reach a flow, by any path.
RUNNER = (
    "conversations.flow",
    "conversations.registry",
    "conversations.outcome",
    "conversations.callbacks",
    "conversations.menu",
    "conversations.common",
    "conversations.context",
    "conversations.keyboards",
    "conversations.steps",
    "conversations.texts",
)
FLOWS = ("conversations.person", "conversations.mentor", "conversations.relay")


def modules(root: Path, package: str) -> dict[str, Path]:
    """Every module of the package by dotted name (a package by its __init__)."""
    found: dict[str, Path] = {}
    for path in sorted((root / package).rglob("*.py")):
        parts = path.relative_to(root).with_suffix("").parts
        name = ".".join(parts[:-1] if parts[-1] == "__init__" else parts)
        found[name] = path
    return found


def imported_names(tree: ast.AST, here: str) -> Iterator[str]:
    """Every module an import statement in `tree` may load, wherever it stands.
    `from a import b` names `a.b` as well as `a` (b may be a module)."""
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            yield from (alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = here.split(".")[: -node.level]
                base = ".".join([*anchor, base] if base else anchor)
            yield base
            yield from (f"{base}.{alias.name}" for alias in node.names)


def import_graph(root: Path, package: str) -> dict[str, set[str]]:
    """Module → the package's modules it imports (never itself)."""
    known = modules(root, package)
    graph: dict[str, set[str]] = {}
    for name, path in known.items():
        tree = ast.parse(path.read_text("utf-8"))
        graph[name] = {other for other in imported_names(tree, name) if other in known} - {name}
    return graph


def cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """The strongly connected components with more than one module (Tarjan)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []

    def visit(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        on_stack.add(node)
        for other in sorted(graph[node]):
            if other not in index:
                visit(other)
                low[node] = min(low[node], low[other])
            elif other in on_stack:
                low[node] = min(low[node], index[other])
        if low[node] == index[node]:
            component: list[str] = []
            while True:
                top = stack.pop()
                on_stack.discard(top)
                component.append(top)
                if top == node:
                    break
            if len(component) > 1:
                found.append(sorted(component))

    for node in sorted(graph):
        if node not in index:
            visit(node)
    return found


def reachable(graph: dict[str, set[str]], start: str) -> set[str]:
    seen: set[str] = set()
    todo = [start]
    while todo:
        for other in graph.get(todo.pop(), set()):
            if other not in seen:
                seen.add(other)
                todo.append(other)
    return seen


def flows_reached(graph: dict[str, set[str]]) -> dict[str, list[str]]:
    """For each runner module, the flow modules it reaches by any chain of imports."""
    return {
        runner: sorted(m for m in reachable(graph, runner) if m.startswith(FLOWS))
        for runner in RUNNER
        if runner in graph
    }


def test_conversations_has_no_import_cycle() -> None:
    graph = import_graph(ROOT, PACKAGE)
    assert len(graph) > 30  # the walk did find the package's modules
    assert cycles(graph) == []


def test_the_runner_reaches_no_flow() -> None:
    graph = import_graph(ROOT, PACKAGE)
    assert set(RUNNER) <= set(graph)
    assert flows_reached(graph) == {runner: [] for runner in RUNNER}


# -- the checks can fail: the shape this replaced, in a made-up package ---------------------

OLD_SHAPE = {
    "__init__.py": "",
    "texts.py": "",
    "flow.py": (
        "from conversations import texts\n"
        "def prompt_for(person):\n"
        "    from conversations.prompts import PROMPTS  # imported late\n"
        "    return PROMPTS\n"
    ),
    "prompts.py": "from conversations.person import start\nPROMPTS = start.PROMPTS\n",
    "person/__init__.py": "",
    "person/start.py": "from conversations.flow import prompt_for\nPROMPTS = {}\n",
}
NEW_SHAPE = {
    "__init__.py": "",
    "registry.py": "PROMPTS_KEY = 'k'\n",
    "flow.py": "from conversations.registry import PROMPTS_KEY\n",
    "person/__init__.py": "",
    "person/start.py": "from conversations.flow import PROMPTS_KEY\nfrom . import other\n",
    "person/other.py": "from ..registry import PROMPTS_KEY\n",
}


def write(root: Path, files: dict[str, str]) -> None:
    for name, text in files.items():
        path = root / PACKAGE / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, "utf-8")


def test_the_checks_catch_a_runner_that_imports_a_flow_inside_a_function(
    tmp_path: Path,
) -> None:
    write(tmp_path / "old", OLD_SHAPE)
    graph = import_graph(tmp_path / "old", PACKAGE)
    assert cycles(graph) == [
        ["conversations.flow", "conversations.person.start", "conversations.prompts"]
    ]
    assert flows_reached(graph)["conversations.flow"] == [
        "conversations.person",
        "conversations.person.start",
    ]

    write(tmp_path / "new", NEW_SHAPE)
    graph = import_graph(tmp_path / "new", PACKAGE)
    assert graph["conversations.person.start"] == {
        "conversations.flow",
        "conversations.person",
        "conversations.person.other",
    }
    assert graph["conversations.person.other"] == {"conversations.registry"}
    assert cycles(graph) == []
    assert flows_reached(graph)["conversations.flow"] == []
