"""Which exceptions mean a dependency is unreachable (answered 503), as opposed to a bug (500)."""

from __future__ import annotations

import errno
import sys
from types import ModuleType

import httpx

# How long a client is asked to wait while a dependency is away: a database or NATS restart
# or failover takes seconds; the SDK backs off from here with jitter.
RETRY_AFTER_S = 5


def _sqlalchemy_errors() -> ModuleType | None:
    # SQLAlchemy is not loaded for its errors: a process that never loaded it (the console,
    # which has no database) can never meet one, and saves ~20 MB resident.
    return sys.modules.get("sqlalchemy.exc")


def _nats_errors() -> ModuleType | None:
    # Likewise nats-py, which the console (no bus) never loads.
    return sys.modules.get("nats.errors")


def outage_types() -> tuple[type[Exception], ...]:
    """Exception classes a route can meet while a dependency is away (each is checked further
    in `unreachable`); the web layer installs its 503 handler on exactly these."""
    sa_exc, nats_exc = _sqlalchemy_errors(), _nats_errors()
    database = () if sa_exc is None else (sa_exc.DBAPIError, sa_exc.TimeoutError)
    bus = () if nats_exc is None else (nats_exc.Error,)
    return (*database, OSError, httpx.TransportError, *bus)


_NETWORK_ERRNOS = frozenset(
    {
        errno.ECONNREFUSED,
        errno.ECONNRESET,
        errno.ECONNABORTED,
        errno.EHOSTUNREACH,
        errno.ENETUNREACH,
        errno.ENETDOWN,
        errno.ETIMEDOUT,
        errno.EPIPE,
    }
)
# nats-py's errors that mean the server is away (by name: see `_nats_errors`).
_NATS_DOWN = (
    "ConnectionClosedError",
    "NoServersError",
    "NoRespondersError",
    "StaleConnectionError",
    "ConnectionDrainingError",
    "ConnectionReconnectingError",
)


def unreachable(exc: BaseException) -> str | None:
    """The dependency `exc` says is unreachable ("database", "nats", "network"), else None."""
    sa_exc = _sqlalchemy_errors()
    if sa_exc is not None and isinstance(exc, sa_exc.DBAPIError):
        # OperationalError: refused, reset, locked, shutting down. An IntegrityError or a
        # ProgrammingError is a bug or bad data, not an outage: those stay 500.
        lost = exc.connection_invalidated
        if lost or isinstance(exc, sa_exc.OperationalError | sa_exc.InterfaceError):
            return "database"
        return None
    if sa_exc is not None and isinstance(
        exc, sa_exc.TimeoutError
    ):  # no pooled connection came back in time
        return "database"
    if _nats_down(exc):
        return "nats"
    if isinstance(exc, httpx.TransportError):  # another service, refused or timed out
        return "network"
    if isinstance(exc, ConnectionError | TimeoutError):  # asyncio's and nats' timeouts too
        return "network"
    if isinstance(exc, OSError) and exc.errno in _NETWORK_ERRNOS:
        return "network"
    return None


def _nats_down(exc: BaseException) -> bool:
    """Whether `exc` is one of nats-py's errors for a server that is away."""
    nats_exc = _nats_errors()
    return nats_exc is not None and isinstance(
        exc, tuple(getattr(nats_exc, name) for name in _NATS_DOWN)
    )
