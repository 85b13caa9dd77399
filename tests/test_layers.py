"""The core's modules import one another without cycles.

Every import counts, at module level or inside a function (deferred or under TYPE_CHECKING): a
cycle hidden behind a function-level import is still one. Each subpackage of the core (launchers,
transport, workloads, doctor) is one node; every other module of the core is its own node.
"""

from __future__ import annotations

import ast
from collections.abc import Iterator
from pathlib import Path

import katatui

ROOT = Path(katatui.__file__).parent
CORE = "katatui.core"
GROUPED = frozenset({"launchers", "transport", "workloads", "doctor"})


def module_name(path: Path) -> str:
    parts = list(path.relative_to(ROOT.parent).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def node(module: str) -> str:
    parts = module.split(".")
    if len(parts) > 3 and parts[2] in GROUPED:
        return ".".join(parts[:3])
    return module


def imported(path: Path, module: str, known: set[str]) -> Iterator[str]:
    """The katatui modules ``path`` imports anywhere in its text (``from pkg import mod`` names the
    module ``pkg.mod`` when there is one)."""
    package = module if path.name == "__init__.py" else module.rpartition(".")[0]
    for n in ast.walk(ast.parse(path.read_text())):
        if isinstance(n, ast.Import):
            yield from (a.name for a in n.names if a.name in known)
        elif isinstance(n, ast.ImportFrom):
            if n.level:
                base = package.split(".")[: len(package.split(".")) - n.level + 1]
                source = ".".join(base + ([n.module] if n.module else []))
            else:
                source = n.module or ""
            for a in n.names:
                target = f"{source}.{a.name}"
                if target in known:
                    yield target
                elif source in known:
                    yield source


def core_graph() -> dict[str, set[str]]:
    paths = {module_name(p): p for p in ROOT.rglob("*.py")}
    known = set(paths)
    graph: dict[str, set[str]] = {}
    for module, path in paths.items():
        if not module.startswith(CORE + "."):
            continue
        for target in imported(path, module, known):
            a, b = node(module), node(target)
            if b.startswith(CORE + ".") and a != b:
                graph.setdefault(a, set()).add(b)
    return graph


def cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """The strongly connected components of more than one node (Tarjan)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []

    def visit(v: str) -> None:
        index[v] = low[v] = len(index)
        stack.append(v)
        on_stack.add(v)
        for w in sorted(graph.get(v, ())):
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on_stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            component = []
            while True:
                w = stack.pop()
                on_stack.discard(w)
                component.append(w)
                if w == v:
                    break
            if len(component) > 1:
                found.append(sorted(component))

    for v in sorted(graph):
        if v not in index:
            visit(v)
    return found


def test_the_graph_sees_the_core() -> None:
    graph = core_graph()
    assert "katatui.core.launchers" in graph["katatui.core.engine"]
    assert "katatui.core.workloads" in graph["katatui.core.profile"]
    assert "katatui.core.proctree" in graph["katatui.core.workloads"]


def test_a_cycle_is_found() -> None:
    assert cycles({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}) == [["a", "b", "c"]]


def test_the_core_has_no_import_cycles() -> None:
    assert cycles(core_graph()) == []
