"""The project's import graph, read with `ast` (no module is imported), and its cycles."""

from __future__ import annotations

import ast
from functools import cache
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
TOP = ("services", "libs", "lifeline")


@cache
def modules() -> dict[str, Path]:
    """Dotted name → file of every project module (a package is its `__init__`)."""
    out = {}
    for top in TOP:
        for path in (ROOT / top).rglob("*.py"):
            if "versions" in path.parts:  # migration revisions: data, not code
                continue
            parts = list(path.relative_to(ROOT).with_suffix("").parts)
            if parts[-1] == "__init__":
                parts.pop()
            out[".".join(parts)] = path
    return out


@cache
def imports_of(name: str) -> tuple[frozenset[str], frozenset[str]]:
    """(project modules, other top-level packages) that module `name` imports, at any depth."""
    known, path = modules(), modules()[name]
    is_package = path.name == "__init__.py"
    ours: set[str] = set()
    theirs: set[str] = set()
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
            targets = [f"{base}.{a.name}" if f"{base}.{a.name}" in known else base
                       for a in node.names]  # fmt: skip
        for target in targets:
            if target.split(".")[0] in TOP:
                if target in known and target != name:
                    ours.add(target)
            else:
                theirs.add(target.split(".")[0])
    return frozenset(ours), frozenset(theirs)


def graph(package: str) -> dict[str, set[str]]:
    """The import graph restricted to the modules of `package`."""
    inside = {n for n in modules() if n == package or n.startswith(package + ".")}
    return {n: set(imports_of(n)[0]) & inside for n in inside}


def reachable(name: str) -> set[str]:
    """Every project module `name` imports, directly or through others (itself included)."""
    seen: set[str] = set()
    stack = [name]
    while stack:
        node = stack.pop()
        if node not in seen:
            seen.add(node)
            stack.extend(imports_of(node)[0])
    return seen


def cycles(edges: dict[str, set[str]]) -> list[list[str]]:
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
        for nxt in sorted(edges.get(node, ())):
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

    for node in sorted(edges):
        if node not in index:
            visit(node)
    return found
