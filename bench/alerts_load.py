"""The alerts bench's set-up: a watchlist of a million entries loaded in one transaction, and
the CPU time of each process of the network read from /proc.

Loading writes straight into alerts' database (SQLite file or PostgreSQL) the rows the
watchlist API would write: entries in id order, their tokens in key order (appends to the
primary key), with the value lookup index dropped for the load and built again after it (one
sort instead of seven million random inserts), then COPY on PostgreSQL and executemany on
SQLite. A few thousand token sets are kept for the reports that must match; the rest are
generated in chunks and forgotten.
"""

from __future__ import annotations

import base64
import io
import os
import signal
import sqlite3
import ssl
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import psycopg

from libs.common import nats as natsx
from libs.common.provenance import EventSigner
from libs.common.seal import root as seal_root
from libs.common.seal import sealfile
from lifeline.bus_pki import BusFiles
from tests.support.bus import admit_everywhere

KINDS = (
    "name_dob",
    "name_year",
    "name",
    "part_dob_head",
    "part_dob_tail",
    "part_dob_head",
    "part_dob_tail",
)
INCIDENTS = "abduction,deportation,detention,extradition_decision,extradition_request"
ENTRY_COLUMNS = (
    "id, lawyer_id, org_id, label, incident_types, legal_bases, countries, token_count,"
    " created_at, updated_at"
)
LOOKUP_INDEX = "ix_entry_tokens_lookup"
CHUNK = 20_000


def token_set() -> list[dict[str, Any]]:
    """Seven tokens as one identity with a full date of birth yields (random values)."""
    return [{"kind": k, "version": 1, "value": _value()} for k in KINDS]


def _value() -> str:
    return base64.urlsafe_b64encode(os.urandom(64)).rstrip(b"=").decode()


def _chunks(
    lawyer: str, org: str, count: int, kept: list[list[dict[str, Any]]]
) -> Iterator[tuple[list[tuple[Any, ...]], list[tuple[Any, ...]]]]:
    """(entries, tokens) rows in chunks, ids ascending; the first `len(kept)` sets are kept's."""
    now = datetime.now(UTC).strftime("%Y-%m-%d %H:%M:%S.%f")
    ids = sorted(str(uuid.uuid4()) for _ in range(count))
    kinds = len(KINDS)
    for start in range(0, count, CHUNK):
        end = min(count, start + CHUNK)
        # One read of the random source per chunk: seven million small reads cost a minute.
        raw = os.urandom(64 * kinds * (end - start))
        values = [
            base64.urlsafe_b64encode(raw[i : i + 64]).rstrip(b"=").decode()
            for i in range(0, len(raw), 64)
        ]
        entries, tokens = [], []
        for i in range(start, end):
            entries.append((ids[i], lawyer, org, f"bulk {i:07d}", INCIDENTS, "", "", 7, now, now))
            if i < len(kept):
                tokens += [(ids[i], t["kind"], 1, t["value"]) for t in kept[i]]
                continue
            at = (i - start) * kinds
            tokens += [
                (ids[i], k, 1, v) for k, v in zip(KINDS, values[at : at + kinds], strict=True)
            ]
        yield entries, tokens


def load(db: str, lawyer: str, org: str, count: int, keep: int) -> list[list[dict[str, Any]]]:
    """Write `count` entries into alerts' database (a SQLite path or a PostgreSQL URL) in one
    transaction; returns the token sets of the first `keep`."""
    kept = [token_set() for _ in range(min(keep, count))]
    rows = _chunks(lawyer, org, count, kept)
    if db.startswith("postgresql"):
        _load_postgres(db.replace("postgresql+psycopg://", "postgresql://"), rows)
    else:
        _load_sqlite(db, rows)
    return kept


def _load_sqlite(path: str, rows: Iterator[tuple[list[Any], list[Any]]]) -> None:
    conn = sqlite3.connect(path, timeout=60, isolation_level=None)
    try:
        conn.execute("PRAGMA cache_size=-500000")  # 500 MB: the primary key's pages stay hot
        conn.execute("PRAGMA temp_store=MEMORY")  # the lookup index's sort
        conn.execute("BEGIN IMMEDIATE")
        ddl = conn.execute(
            "SELECT sql FROM sqlite_master WHERE type='index' AND name=?", (LOOKUP_INDEX,)
        ).fetchone()[0]
        conn.execute(f"DROP INDEX {LOOKUP_INDEX}")
        for entries, tokens in rows:
            conn.executemany(
                f"INSERT INTO watchlist_entries ({ENTRY_COLUMNS}) VALUES (?,?,?,?,?,?,?,?,?,?)",
                entries,
            )
            conn.executemany(
                "INSERT INTO entry_tokens (entry_id, kind, version, value) VALUES (?,?,?,?)",
                tokens,
            )
        conn.execute(ddl)
        conn.execute("COMMIT")
        # Fold the bulk load into the database file now, not during the measurement.
        conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    finally:
        conn.close()


def _copy_text(rows: list[tuple[Any, ...]]) -> bytes:
    """COPY's text format; the values here hold no tab, newline or backslash."""
    out = io.StringIO()
    for row in rows:
        out.write("\t".join(str(v) for v in row) + "\n")
    return out.getvalue().encode()


def _load_postgres(url: str, rows: Iterator[tuple[list[Any], list[Any]]]) -> None:
    with psycopg.connect(url) as conn:
        ddl = conn.execute(
            "SELECT indexdef FROM pg_indexes WHERE indexname = %s", (LOOKUP_INDEX,)
        ).fetchone()
        assert ddl is not None
        conn.execute(f"DROP INDEX {LOOKUP_INDEX}")
        with conn.cursor() as cur:
            for entries, tokens in rows:
                with cur.copy(f"COPY watchlist_entries ({ENTRY_COLUMNS}) FROM STDIN") as copy:
                    copy.write(_copy_text(entries))
                with cur.copy("COPY entry_tokens (entry_id, kind, version, value) FROM STDIN") as c:
                    c.write(_copy_text(tokens))
        conn.execute(ddl[0])
        conn.commit()
    with psycopg.connect(url, autocommit=True) as conn:
        # What autovacuum would do soon after on a real server: plans made on real sizes.
        conn.execute("ANALYZE watchlist_entries")
        conn.execute("ANALYZE entry_tokens")


@dataclass(frozen=True)
class BenchBus:
    """The bench's way onto the network's bus: a user that may do anything, and intake's
    event-signing key (alerts acts only on a `report.received` that intake signed)."""

    tls: ssl.SSLContext
    signer: EventSigner


def bench_bus(data_dir: Path, nats_pid: int) -> BenchBus:
    """Admit the bench to the bus of a development-mode network (its root key is on disk)."""
    seal_root.activate(sealfile.read_dev_root(data_dir / sealfile.SEAL_FILE))
    files = BusFiles(data_dir / "bus")
    admit_everywhere(files, "bench")
    os.kill(nats_pid, signal.SIGHUP)  # nats-server reloads its users
    tls = natsx.tls_context(files.ca, files.cert("bench"), files.key("bench"))
    return BenchBus(tls, EventSigner.load(files.event_key("intake"), files.event_cert("intake")))
