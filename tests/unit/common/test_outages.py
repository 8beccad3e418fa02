"""What the web layer answers 503 for: a dependency away, never a bug that looks like one."""

from __future__ import annotations

import errno

import httpx
import nats.errors
import pytest
from sqlalchemy import exc as sa_exc

from libs.common.outages import unreachable


class _DriverError(Exception):
    pass


def _dbapi(kind: type[sa_exc.DBAPIError], *, invalidated: bool = False) -> sa_exc.DBAPIError:
    return kind("SELECT 1", None, _DriverError("x"), connection_invalidated=invalidated)


@pytest.mark.parametrize(
    ("exc", "dependency"),
    [
        (_dbapi(sa_exc.OperationalError), "database"),
        (_dbapi(sa_exc.InterfaceError), "database"),
        (_dbapi(sa_exc.DBAPIError, invalidated=True), "database"),
        (sa_exc.TimeoutError("QueuePool limit reached"), "database"),
        (ConnectionRefusedError(errno.ECONNREFUSED, "refused"), "network"),
        (OSError(errno.EHOSTUNREACH, "no route"), "network"),
        (TimeoutError(), "network"),
        (httpx.ConnectError("refused"), "network"),
        (nats.errors.NoRespondersError(), "nats"),
        (nats.errors.ConnectionClosedError(), "nats"),
    ],
)
def test_outages_are_recognised(exc: BaseException, dependency: str) -> None:
    assert unreachable(exc) == dependency


@pytest.mark.parametrize(
    "exc",
    [
        _dbapi(sa_exc.IntegrityError),
        _dbapi(sa_exc.ProgrammingError),
        FileNotFoundError(errno.ENOENT, "missing"),
        PermissionError(errno.EACCES, "denied"),
        ValueError("bug"),
    ],
)
def test_bugs_are_not_outages(exc: BaseException) -> None:
    assert unreachable(exc) is None
