"""Consistent copies of a running service's SQLite database, and what the copy order waits for."""

from __future__ import annotations

import sqlite3
from pathlib import Path


def snapshot(path: Path) -> sqlite3.Connection:
    """An in-memory copy of the database at one instant, taken with SQLite's online backup API.

    The copy is one read transaction (`pages=-1`): the service keeps writing meanwhile, and the
    copy is what a reader saw at that instant. Nothing is written to the disk.
    """
    if not path.is_file():
        raise FileNotFoundError(f"no database at {path}: is this the network's data directory?")
    src = sqlite3.connect(f"file:{path}?mode=ro", uri=True, timeout=30)
    dst = sqlite3.connect(":memory:")
    try:
        src.backup(dst, pages=-1)
    finally:
        src.close()
    return dst


def image(conn: sqlite3.Connection) -> bytes:
    """The database file's bytes of a snapshot."""
    return conn.serialize()


def relayed_events(intake: sqlite3.Connection) -> set[str]:
    """Event ids of the reports intake had published by its snapshot (no outbox row left)."""
    accepted = {r[0] for r in intake.execute("SELECT event_id FROM reports")}
    pending = {r[0] for r in intake.execute("SELECT event_id FROM outbox")}
    return accepted - pending


def handled_events(path: Path) -> set[str]:
    """Event ids a consuming service has handled or dead-lettered (its live database)."""
    conn = sqlite3.connect(f"file:{path}?mode=ro", uri=True, timeout=30)
    try:
        done = {r[0] for r in conn.execute("SELECT event_id FROM processed_events")}
        done |= {r[0] for r in conn.execute("SELECT event_id FROM dead_letters") if r[0]}
    finally:
        conn.close()
    return done
