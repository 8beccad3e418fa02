"""The layout rules of docs/architecture.md, checked: no import cycles, routers only under the
app, pure domain modules, role-file names, and modules that stay readable in one sitting."""

from __future__ import annotations

import re

import pytest

from tests.support import imports

SERVICES = ["services.sharing", "services.alerts", "services.intake"]
PACKAGES = [*SERVICES, "libs.common", "libs.sdk", "lifeline"]
MAX_LINES = 300
# What a pure rule must never reach, directly or through another project module.
IO = {"sqlalchemy", "sqlmodel", "alembic", "aiosqlite", "psycopg", "httpx", "nats", "fastapi",
      "starlette", "uvicorn", "smtplib", "aiosmtplib", "socket", "subprocess",
      "pysequoia"}  # fmt: skip
DRIFT = re.compile(r"^(repo|repository|service|api|schemas|models)_\w+\.py$")


@pytest.mark.parametrize("package", PACKAGES)
def test_no_import_cycles(package: str) -> None:
    graph = imports.graph(package)
    assert len(graph) > 5 and any(graph.values())  # the modules and their imports are seen
    assert imports.cycles(graph) == []


@pytest.mark.parametrize("service", SERVICES)
def test_only_the_app_imports_routers(service: str) -> None:
    # Routers import services and deps; nothing below a router ever imports one back.
    graph = imports.graph(service)
    routers = {name for name in graph if name.rsplit(".", 1)[-1] == "api"}
    assert routers
    importers = {name for name, deps in graph.items() if deps & routers}
    assert importers == {f"{service}.app"}


@pytest.mark.parametrize(
    "domain", sorted(n for n in imports.modules() if n.rsplit(".", 1)[-1] == "domain")
)
def test_domain_modules_are_pure(domain: str) -> None:
    reached = {
        lib: module
        for module in imports.reachable(domain)
        for lib in imports.imports_of(module)[1] & IO
    }
    assert reached == {}, f"{domain} reaches I/O: {reached}"


@pytest.mark.parametrize("package", PACKAGES)
def test_modules_stay_under_the_size_limit(package: str) -> None:
    sizes = {
        name: len(path.read_text().splitlines())
        for name, path in imports.modules().items()
        if name == package or name.startswith(package + ".")
    }
    assert {name: n for name, n in sizes.items() if n > MAX_LINES} == {}


def test_one_file_naming_scheme() -> None:
    drift = [str(p) for p in imports.modules().values() if DRIFT.match(p.name)]
    assert drift == []


def test_the_checks_can_fail() -> None:
    assert imports.cycles({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}) == [["a", "b", "c"]]
    assert DRIFT.match("repo_alerts.py") and DRIFT.match("service_reads.py")
    assert not DRIFT.match("repository.py")
    assert "sqlalchemy" in imports.imports_of("libs.common.db")[1]
