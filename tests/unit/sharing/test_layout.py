"""Sharing's modules import each other without a cycle, routes stay on top, modules stay small."""

from __future__ import annotations

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parents[3]
PACKAGE = "services.sharing"
MAX_LINES = 300


def _modules(package: str) -> dict[str, Path]:
    """Dotted name → file of every module of `package` (a package is its `__init__`)."""
    base = ROOT / package.replace(".", "/")
    out = {}
    for path in base.rglob("*.py"):
        if "versions" in path.parts:
            continue
        parts = list(path.relative_to(ROOT).with_suffix("").parts)
        if parts[-1] == "__init__":
            parts.pop()
        out[".".join(parts)] = path
    return out


def import_graph(package: str) -> dict[str, set[str]]:
    """Which modules of `package` each of its modules imports (explicit imports only)."""
    modules = _modules(package)
    graph: dict[str, set[str]] = {name: set() for name in modules}
    for name, path in modules.items():
        is_package = path.name == "__init__.py"
        for node in ast.walk(ast.parse(path.read_text(), str(path))):
            targets: list[str] = []
            if isinstance(node, ast.Import):
                targets = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom):
                base = node.module or ""
                if node.level:
                    anchor = name.split(".")
                    anchor = anchor[: len(anchor) - node.level + (1 if is_package else 0)]
                    base = ".".join([*anchor, base] if base else anchor)
                # `from pkg import mod` imports the module; `from mod import name` the module.
                targets = [
                    f"{base}.{a.name}" if f"{base}.{a.name}" in modules else base
                    for a in node.names
                ]
            for target in targets:
                if target in modules and target != name:
                    graph[name].add(target)
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
        for nxt in sorted(graph[node]):
            if nxt not in index:
                visit(nxt)
                low[node] = min(low[node], low[nxt])
            elif nxt in on_stack:
                low[node] = min(low[node], index[nxt])
        if low[node] == index[node]:
            component = []
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


def test_sharing_has_no_import_cycles() -> None:
    graph = import_graph(PACKAGE)
    assert len(graph) > 40  # every context's modules are really seen
    assert graph[f"{PACKAGE}.vault.service"]  # and their imports
    assert cycles(graph) == []


def test_only_the_app_imports_routers() -> None:
    # Routers import services and deps; nothing below a router ever imports one back.
    graph = import_graph(PACKAGE)
    routers = {name for name in graph if name.rsplit(".", 1)[-1] == "api"}
    assert len(routers) >= 8
    importers = {name for name, deps in graph.items() if deps & routers}
    assert importers == {f"{PACKAGE}.app"}


def test_every_module_stays_under_the_size_limit() -> None:
    sizes = {name: len(path.read_text().splitlines()) for name, path in _modules(PACKAGE).items()}
    assert {name: n for name, n in sizes.items() if n > MAX_LINES} == {}


def test_the_cycle_check_finds_a_cycle() -> None:
    assert cycles({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}) == [["a", "b", "c"]]
