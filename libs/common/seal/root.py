"""The root key this process holds once unsealed; `secretfile` seals and opens files with it.

Held per process (not passed to each key store) so that every key file, present or future,
is sealed without the store knowing: a process that holds no root key reads and writes plain
files, as the tests' services and the client tools do.
"""

from __future__ import annotations

import threading


class _Held:
    """One slot, read without a lock (a reference swap is atomic), written under one."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.key: bytes | None = None


_HELD = _Held()


def activate(root: bytes) -> None:
    """From now on this process seals what it writes and opens sealed files with `root`."""
    with _HELD.lock:
        _HELD.key = root


def current() -> bytes | None:
    """The root key, or None when this process does not seal."""
    return _HELD.key


def forget() -> None:
    """Drop the root key (at shutdown, or once a one-off tool is done with it)."""
    with _HELD.lock:
        _HELD.key = None
