"""`lifeline backup create`: copy a running network's databases and keys into one file."""

from __future__ import annotations

import os
import sqlite3
import tarfile
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from libs.common.crypto.hpke_keys import HpkePublicKey
from libs.common.db import is_sqlite
from lifeline.backup import contents, postgres, sqlite
from lifeline.backup.archive import EncryptingWriter


@dataclass(frozen=True)
class Created:
    """What was written: where, how big, how many rows per service."""

    path: Path
    size: int
    rows: dict[str, dict[str, int]]
    files: int


@dataclass
class _Copy:
    kind: str
    data: bytes
    rows: dict[str, int]
    published: set[str]  # intake only: the report events it had published


def _row_counts(conn: sqlite3.Connection) -> dict[str, int]:
    tables = [
        r[0]
        for r in conn.execute(
            "SELECT name FROM sqlite_master WHERE type = 'table' "
            "AND name NOT LIKE 'sqlite_%' ORDER BY name"
        )
    ]
    # Table names come from the database's own catalogue, quoted as identifiers.
    count = 'SELECT count(*) FROM "{}"'
    return {t: conn.execute(count.format(t.replace('"', '""'))).fetchone()[0] for t in tables}


def _copy(service: str, data_dir: Path, url: str) -> _Copy:
    if url and not is_sqlite(url):
        data, rows, events = postgres.snapshot(url)
        published = events.get("reports", set()) - events.get("outbox", set())
        return _Copy("postgresql", data, rows, published)
    snap = sqlite.snapshot(data_dir / f"{service}.db")
    try:
        published = sqlite.relayed_events(snap) if service == "intake" else set()
        return _Copy("sqlite", sqlite.image(snap), _row_counts(snap), published)
    finally:
        snap.close()


def _handled(service: str, data_dir: Path, url: str) -> Callable[[], set[str]]:
    if url and not is_sqlite(url):
        return lambda: postgres.handled_events(url)
    return lambda: sqlite.handled_events(data_dir / f"{service}.db")


def wait_until_handled(
    service: str, handled: Callable[[], set[str]], events: set[str], timeout: float
) -> None:
    """Block until `service` has handled every event in `events`."""
    deadline = time.monotonic() + timeout
    while missing := events - handled():
        if time.monotonic() > deadline:
            raise TimeoutError(
                f"{service} has not handled {len(missing)} published report(s) within "
                f"{timeout:.0f} s: is it running and connected to the bus?"
            )
        time.sleep(0.1)


def create(
    data_dir: Path,
    out: Path,
    recipient: HpkePublicKey,
    *,
    urls: dict[str, str] | None = None,
    catch_up_timeout: float = 60.0,
) -> Created:
    """Copy intake, then sharing and alerts once they handled what intake had published,
    then read the key files; write them encrypted to `out` (0600, replaced atomically)."""
    urls = urls or {}
    created_at = datetime.now(UTC).isoformat()
    copies: dict[str, _Copy] = {}
    for service in contents.SERVICES:
        url = urls.get(service, "")
        if service != "intake":
            published = copies["intake"].published
            wait_until_handled(service, _handled(service, data_dir, url), published,
                               catch_up_timeout)  # fmt: skip
        copies[service] = _copy(service, data_dir, url)
    # Keys after the databases: a key is added before anything uses it, so the copy holds
    # every key version the database copies need (docs/backup.md, "Consistency").
    files = contents.data_files(data_dir)
    rows = {s: c.rows for s, c in copies.items()}
    kinds = {s: c.kind for s, c in copies.items()}
    tmp = out.with_name(f".{out.name}.partial")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    try:
        with os.fdopen(fd, "wb") as sink:
            with (
                EncryptingWriter(sink, recipient, created_at) as writer,
                tarfile.open(fileobj=writer, mode="w|", format=tarfile.PAX_FORMAT) as tar,
            ):
                manifest = contents.manifest(created_at, files, rows, kinds)
                contents.add(tar, contents.MANIFEST, manifest)
                for service, copy in copies.items():
                    contents.add(tar, contents.database_member(service, copy.kind), copy.data)
                for rel in files:
                    contents.add(tar, contents.file_member(rel), (data_dir / rel).read_bytes())
            sink.flush()
            os.fsync(sink.fileno())
        os.replace(tmp, out)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    return Created(out, out.stat().st_size, rows, len(files))
