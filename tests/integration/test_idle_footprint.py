"""What the long-lived processes of `lifeline up` load before they serve, checked in fresh
interpreters: heavy modules that only rare paths need stay out (bench/rss_bench.py measures)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

# rbcl: libsodium and its ristretto255 group, for the OPRF only sharing evaluates. The
# PostgreSQL dialect package loads every PostgreSQL driver's dialect (~2 MB), which SQLite
# never uses; cryptography and PyJWT (~8 MB) are for keys and tokens, nats-py for the bus.
HEAVY = (
    "alembic",
    "sqlalchemy",
    "sqlalchemy.dialects.postgresql",
    "fastapi",
    "cryptography",
    "jwt",
    "nats",
    "rich",
    "pygments",
    "pysequoia",
    "icalendar",
    "rbcl",
)
SERVICE = {"sqlalchemy", "fastapi", "cryptography", "jwt", "nats"}


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
        ("sharing", SERVICE | {"rbcl"}),
        ("intake", SERVICE),
        # A partial index names its PostgreSQL option, and SQLAlchemy loads the dialect to
        # check it (`watchlists/models.py`).
        ("alerts", SERVICE | {"sqlalchemy.dialects.postgresql"}),
        # No database, bus or token: the outage handlers and the OpenAPI rules load none of
        # SQLAlchemy, nats-py, cryptography or PyJWT for it.
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


def test_the_supervisor_loads_no_service_no_web_stack_and_no_key_library() -> None:
    # What `lifeline up` becomes once it has prepared the network (`lifeline.launch`).
    code = "import lifeline.supervisor"
    assert _loaded(code) == set()
    loaded = subprocess.run(
        [sys.executable, "-c", f"import sys\n{code}\n"
         "print(sorted(m for m in sys.modules if m.endswith('.app') or m in "
         "('pydantic', 'httpx', 'shamir_mnemonic', 'libs.sdk', 'lifeline.launch')))"],
        capture_output=True, text=True, check=True,
    ).stdout.strip()  # fmt: skip
    # Not even pydantic (~8 MB resident), httpx or the seal: it runs as long as the network.
    assert loaded == "[]"


def test_the_up_command_loads_no_service_and_no_web_stack() -> None:
    # It prepares the seal and the bus's certificates (cryptography), then hands over.
    code = "from lifeline.cli.main import build_parser; build_parser(only='up')"
    assert _loaded(code) <= {"cryptography", "jwt"}


def test_the_probe_sees_what_the_whole_command_line_loads() -> None:
    code = "from lifeline.cli.main import build_parser; build_parser()"
    # The whole CLI may load what its commands need; `up` alone must not (above).
    assert "fastapi" in _loaded(code) or "sqlalchemy" in _loaded(code)
