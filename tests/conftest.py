"""Shared fixtures: a real nats-server per session, SQLite always, PostgreSQL when configured."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.support.databases import pg_scratch_database
from tests.support.natsd import NatsServer

PG_ENV = "LIFELINE_TEST_POSTGRES_URL"
PG_SKIP_REASON = (
    f"PostgreSQL tests skipped: set {PG_ENV} (e.g. postgresql://postgres@127.0.0.1:5432/postgres)"
)


def pytest_report_header() -> str:
    """Say up front whether PostgreSQL tests will run."""
    url = os.environ.get(PG_ENV)
    return f"postgresql: {'tests run against ' + url if url else PG_SKIP_REASON}"


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    """Repeat it at the end, where nobody can miss it."""
    if not os.environ.get(PG_ENV):
        terminalreporter.write_line(f"NOTE: {PG_SKIP_REASON}", yellow=True)


@pytest.fixture(scope="session")
def session_nats(tmp_path_factory: pytest.TempPathFactory) -> Iterator[NatsServer]:
    """One real JetStream nats-server for the whole session."""
    server = NatsServer(tmp_path_factory.mktemp("nats"))
    server.start()
    yield server
    server.stop()


@pytest.fixture
def nats_server(session_nats: NatsServer) -> NatsServer:
    """The session's nats-server with its streams emptied.

    Services of every test bind the same durable consumers: without the purge, events a test
    left unconsumed (another service's subject, a report nobody waited for) reach the next
    test's services, whose watchlists may match them.
    """
    session_nats.purge()
    return session_nats


@pytest.fixture
def own_nats(tmp_path: Path) -> Iterator[NatsServer]:
    """A nats-server of this test alone, for tests that stop or kill it."""
    server = NatsServer(tmp_path / "nats")
    server.start()
    yield server
    server.stop()


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def db_url_factory(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[object]:
    """Makes fresh, empty databases of one backend: SQLite files, or PostgreSQL databases."""
    created: list[Iterator[str]] = []

    def make(name: str) -> str:
        if request.param == "sqlite":
            return f"sqlite+aiosqlite:///{tmp_path / (name + '.db')}"
        gen = pg_scratch_database(os.environ[PG_ENV])
        created.append(gen)
        return next(gen)

    if request.param == "postgresql" and not os.environ.get(PG_ENV):
        pytest.skip(PG_SKIP_REASON)
    make.backend = request.param  # type: ignore[attr-defined]
    yield make
    for gen in created:
        for _ in gen:
            pass


@pytest.fixture
def pg_url() -> Iterator[str]:
    """One fresh PostgreSQL database, for behaviour SQLite does not have (row locks)."""
    if not os.environ.get(PG_ENV):
        pytest.skip(PG_SKIP_REASON)
    yield from pg_scratch_database(os.environ[PG_ENV])


@pytest.fixture
def db_url(db_url_factory: object) -> str:
    """One fresh database of the parametrised backend."""
    return db_url_factory("service")  # type: ignore[operator]
