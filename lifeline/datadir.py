"""One `lifeline up` per data directory: two would run two nats-servers on one store and two
sets of services on the same SQLite files."""

from __future__ import annotations

import os
from pathlib import Path

from lifeline.cli.base import CliError

try:
    import fcntl
except ImportError:  # pragma: no cover - not POSIX
    fcntl = None  # type: ignore[assignment]

LOCK_FILE = "lifeline-up.lock"


def lock_data_dir(data_dir: Path) -> int:
    """Hold an exclusive lock on `<data>/lifeline-up.lock` (the descriptor); refuse if held.

    The children inherit the descriptor, so the lock lasts until the last of them is gone:
    services left running by a killed supervisor still keep a second one out.
    """
    fd = os.open(data_dir / LOCK_FILE, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o600)
    if fcntl is None:  # pragma: no cover - not POSIX
        return fd
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        holder = os.read(fd, 32).decode(errors="replace").strip() or "unknown"
        os.close(fd)
        raise CliError(
            f"{data_dir} is in use by another `lifeline up` (pid {holder}) or the services it "
            "started: two on one data directory would run two nats-servers on one store and "
            "two sets of services on the same databases; stop it first"
        ) from None
    os.ftruncate(fd, 0)
    os.write(fd, f"{os.getpid()}\n".encode())
    return fd
