"""`lifeline backup create`: copy a running network's databases and keys into one file."""

from __future__ import annotations

import os
import sqlite3
import tarfile
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from libs.common.crypto.hpke_keys import HpkePublicKey
from lifeline.backup import contents, sqlite
from lifeline.backup.archive import EncryptingWriter


@dataclass(frozen=True)
class Created:
    """What was written: where, how big, how many rows per service."""

    path: Path
    size: int
    rows: dict[str, dict[str, int]]
    files: int


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


def create(
    data_dir: Path, out: Path, recipient: HpkePublicKey, *, catch_up_timeout: float = 60.0
) -> Created:
    """Snapshot intake, then sharing and alerts once they handled what intake had published,
    then read the key files; write them encrypted to `out` (0600, replaced atomically)."""
    created_at = datetime.now(UTC).isoformat()
    images: dict[str, bytes] = {}
    rows: dict[str, dict[str, int]] = {}
    published: set[str] = set()
    for service in contents.SERVICES:
        path = data_dir / f"{service}.db"
        if service != "intake":
            sqlite.wait_until_handled(path, published, catch_up_timeout)
        snap = sqlite.snapshot(path)
        try:
            if service == "intake":
                published = sqlite.relayed_events(snap)
            rows[service] = _row_counts(snap)
            images[service] = sqlite.image(snap)
        finally:
            snap.close()
    # Keys after the databases: a key is added before anything uses it, so the copy holds
    # every key version the database copies need (docs/backup.md, "Consistency").
    files = contents.data_files(data_dir)
    tmp = out.with_name(f".{out.name}.partial")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    try:
        with os.fdopen(fd, "wb") as sink:
            with (
                EncryptingWriter(sink, recipient, created_at) as writer,
                tarfile.open(fileobj=writer, mode="w|", format=tarfile.PAX_FORMAT) as tar,
            ):
                contents.add(tar, contents.MANIFEST, contents.manifest(created_at, files, rows))
                for service, data in images.items():
                    contents.add(tar, contents.database_member(service), data)
                for rel in files:
                    contents.add(tar, contents.file_member(rel), (data_dir / rel).read_bytes())
            sink.flush()
            os.fsync(sink.fileno())
        os.replace(tmp, out)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    return Created(out, out.stat().st_size, rows, len(files))
