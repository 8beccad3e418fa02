"""Shared fixtures: a real nats-server per session, SQLite always, PostgreSQL when configured."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.support.databases import Databases, PgScratch
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


BACKENDS = ["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)]


@pytest.fixture(scope="session")
def pg_scratch() -> Iterator[PgScratch | None]:
    """The session's maker of scratch PostgreSQL databases (None without a server)."""
    url = os.environ.get(PG_ENV)
    if not url:
        yield None
        return
    scratch = PgScratch(url)
    yield scratch
    scratch.close()


def _databases(request: pytest.FixtureRequest, directory: Path) -> Databases:
    if request.param == "postgresql" and not os.environ.get(PG_ENV):
        pytest.skip(PG_SKIP_REASON)
    pg: PgScratch | None = request.getfixturevalue("pg_scratch")
    return Databases(request.param, directory, pg)


@pytest.fixture(params=BACKENDS)
def db_url_factory(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Databases]:
    """Makes fresh, empty databases of one backend: SQLite files, or PostgreSQL databases."""
    databases = _databases(request, tmp_path)
    yield databases
    databases.close()


@pytest.fixture(scope="module", params=BACKENDS)
def module_db_url_factory(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Databases]:
    """The same, shared by a module's tests: for stacks set up once per module and backend.

    Only for tests isolated from each other by fresh ids (new partners, clients, reports),
    which assert nothing about what else is in the database. The stack lives while the module's
    other tests run: its services bind the same durable NATS consumers as theirs, so a module
    whose other tests wait for events those consumers deliver keeps them in another module.
    """
    databases = _databases(request, tmp_path_factory.mktemp("module-db"))
    yield databases
    databases.close()


@pytest.fixture(scope="module")
def module_nats(session_nats: NatsServer) -> NatsServer:
    """The session's nats-server, its streams emptied once for the module's shared stacks."""
    session_nats.purge()
    return session_nats


@pytest.fixture
def pg_url(pg_scratch: PgScratch | None) -> Iterator[str]:
    """One fresh PostgreSQL database, for behaviour SQLite does not have (row locks)."""
    if pg_scratch is None:
        pytest.skip(PG_SKIP_REASON)
    url = pg_scratch.take()
    yield url
    pg_scratch.give_back(url)


@pytest.fixture
def db_url(db_url_factory: Databases) -> str:
    """One fresh database of the parametrised backend."""
    return db_url_factory("service")
