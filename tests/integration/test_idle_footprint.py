"""What the long-lived processes of `lifeline up` load before they serve, checked in fresh
interpreters: heavy modules that only rare paths need stay out (bench/rss_bench.py measures)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

# rbcl: libsodium and its ristretto255 group, for the OPRF only sharing evaluates.
HEAVY = ("alembic", "sqlalchemy", "fastapi", "rich", "pygments", "pysequoia", "icalendar", "rbcl")


def _loaded(code: str) -> set[str]:
    """The HEAVY modules a fresh interpreter holds after running `code`."""
    probe = f"import sys\n{code}\nprint(__import__('json').dumps(sorted(sys.modules)))"
    out = subprocess.run(
        [sys.executable, "-c", probe], capture_output=True, text=True, check=True
    ).stdout
    return set(json.loads(out.splitlines()[-1])) & set(HEAVY)


@pytest.mark.parametrize(
    ("service", "allowed"),
    [
        ("sharing", {"sqlalchemy", "fastapi", "rbcl"}),
        ("intake", {"sqlalchemy", "fastapi"}),
        ("alerts", {"sqlalchemy", "fastapi"}),
        # No database: the outage handlers and the OpenAPI rules do not load SQLAlchemy for it.
        ("console", {"fastapi"}),
    ],
)
def test_a_service_process_loads_no_more_than_it_serves_with(
    service: str, allowed: set[str]
) -> None:
    # Alembic runs in a child at start; httpx's CLI, OpenPGP and iCalendar on first use.
    assert _loaded(f"import services.{service}.__main__") == allowed


@pytest.mark.parametrize("service", ["sharing", "intake", "alerts"])
def test_the_migration_child_loads_the_migrations_only(service: str, tmp_path: Path) -> None:
    # It runs at every start on a new or older database: the service's models and web stack
    # would double its cost (bench/startup_bench.py measures).
    url = f"sqlite:///{tmp_path / 'db.sqlite'}"
    run = (
        f"import os, runpy; os.environ['LIFELINE_MIGRATE_DATABASE_URL'] = {url!r}\n"
        f"sys.argv = ['migrate', 'services/{service}/migrations']\n"
        "runpy.run_module('libs.common.migrate', run_name='__main__')"
    )
    out = subprocess.run(
        [sys.executable, "-c", f"import sys\n{run}\nprint(__import__('json').dumps(list(sys.modules)))"],
        capture_output=True, text=True, check=True,
    ).stdout  # fmt: skip
    loaded = set(json.loads(out.splitlines()[-1]))
    assert "alembic" in loaded  # it did migrate
    assert not {"fastapi", "sqlmodel", "pydantic", "nats"} & loaded
    assert not [m for m in loaded if m.startswith("services.")]


def test_the_supervisor_loads_no_service_and_no_web_stack() -> None:
    code = "from lifeline.cli.main import build_parser; build_parser(only='up')"
    assert _loaded(code) == set()
    services = subprocess.run(
        [sys.executable, "-c", f"import sys\n{code}\n"
         "print(sorted(m for m in sys.modules if m.endswith('.app') or m == 'pydantic'))"],
        capture_output=True, text=True, check=True,
    ).stdout.strip()  # fmt: skip
    # Not even pydantic (~8 MB resident): it runs for as long as the network does.
    assert services == "[]"


def test_the_probe_sees_what_the_whole_command_line_loads() -> None:
    code = "from lifeline.cli.main import build_parser; build_parser()"
    # The whole CLI may load what its commands need; `up` alone must not (above).
    assert "fastapi" in _loaded(code) or "sqlalchemy" in _loaded(code)
