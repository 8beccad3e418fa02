"""One way to keep key material in a file: a versioned JSON document, created once, re-read
when another process changes it, changed only under a lock.

Every key store of the network (KEKs, intake-sealing keys, PRF seeds, token-signing keys, the
alerts service's own keys) is a `KeyFile` with its own codec, so they all behave alike: a
replica or the admin CLI that rotates a key is seen by every other process at its next use
(one `stat` per use), two processes starting on an empty data directory agree on one file,
and a change that fails half-way leaves the old file in place.
"""

from __future__ import annotations

import json
import os
import threading
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Generic, TypeVar

from libs.common.crypto.errors import KeyStoreError
from libs.common.errors import LifelineError
from libs.common.secretfile import create_private, locked, read_private, write_private

T = TypeVar("T")


class KeyFileError(KeyStoreError):
    """A key file is missing, unsafe, of another format or corrupt."""


@dataclass(frozen=True)
class KeyCodec(Generic[T]):
    """How one store's value becomes the body of its document and back."""

    format: str
    parse: Callable[[dict[str, Any]], T]
    dump: Callable[[T], dict[str, Any]]


class KeyFile(Generic[T]):
    """A 0600 JSON file `{"format": …, …}` holding one store's keys."""

    def __init__(
        self, path: Path, codec: KeyCodec[T], *, initial: Callable[[], T] | None = None
    ) -> None:
        self.path = path
        self.codec = codec
        self._lock = threading.Lock()
        self._value: T | None = None
        self._stamp: tuple[int, int, int] | None = None
        if initial is not None and not path.exists():
            # link()-based: replicas starting together on an empty data dir agree on one file.
            create_private(path, self._encode(initial()))
        self.reload()

    def current(self) -> T:
        """The keys as the file holds them now (re-read only if the file changed)."""
        try:
            st = os.stat(self.path)
        except OSError as exc:
            # Carrying on with keys that exist only in memory could write data that is
            # unreadable after the next restart: stop instead.
            raise KeyFileError(f"key file {self.path} is gone: {exc.strerror}") from None
        with self._lock:
            if (st.st_ino, st.st_mtime_ns, st.st_size) == self._stamp and self._value is not None:
                return self._value
        return self.reload()

    def reload(self) -> T:
        """Read and check the file now."""
        try:
            raw = read_private(self.path)
            st = os.stat(self.path)
        except (LifelineError, OSError) as exc:
            raise KeyFileError(str(exc)) from None
        value = self._decode(raw)
        with self._lock:
            self._value, self._stamp = value, (st.st_ino, st.st_mtime_ns, st.st_size)
        return value

    def update(self, change: Callable[[T], T]) -> T:
        """Read the file afresh, apply `change`, write the result; one process at a time.

        `change` gets a freshly parsed value, so it may mutate it; raising refuses the change
        and leaves the file untouched. What is written is parsed back first: a value the
        codec cannot read again is never written.
        """
        with locked(self.path):
            new = change(self.reload())
            raw = self._encode(new)
            self._decode(raw)
            write_private(self.path, raw)
            return self.reload()

    def _encode(self, value: T) -> bytes:
        body = self.codec.dump(value)
        return json.dumps({"format": self.codec.format, **body}, indent=2).encode()

    def _decode(self, raw: bytes) -> T:
        try:
            doc = json.loads(raw)
        except ValueError:
            raise KeyFileError(f"{self.path} is not a Lifeline key file") from None
        if not isinstance(doc, dict) or doc.get("format") != self.codec.format:
            raise KeyFileError(f"{self.path} is not a {self.codec.format} key file")
        try:
            return self.codec.parse(doc)
        except KeyFileError:
            raise
        except (ValueError, KeyError, TypeError, AttributeError, LifelineError) as exc:
            raise KeyFileError(f"{self.path} is corrupt ({type(exc).__name__})") from None
