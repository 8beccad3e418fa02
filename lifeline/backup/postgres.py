"""Consistent copies of a running service's PostgreSQL database, and their load into an empty
one: every table read in one `REPEATABLE READ` snapshot, as typed JSON lines."""

from __future__ import annotations

import base64
import datetime as dt
import json
from decimal import Decimal
from typing import Any

from sqlalchemy import MetaData, func, select, text
from sqlalchemy.engine import Connection

from libs.common.db import create_sync_engine

SKIPPED = {"alembic_version"}  # the migrations write it on the target


def _encode(value: Any) -> Any:
    # Tagged so that a restore gets back the same Python types the columns were read as.
    if isinstance(value, bytes | memoryview):
        return {"$b": base64.b64encode(bytes(value)).decode()}
    if isinstance(value, dt.datetime):
        return {"$dt": value.isoformat()}
    if isinstance(value, dt.date):
        return {"$d": value.isoformat()}
    if isinstance(value, Decimal):
        return {"$n": str(value)}
    if isinstance(value, dict | list):
        return {"$j": value}
    return value


def _decode(value: Any) -> Any:
    if not isinstance(value, dict):
        return value
    ((tag, raw),) = value.items()
    decoders: dict[str, Any] = {
        "$b": base64.b64decode,
        "$dt": dt.datetime.fromisoformat,
        "$d": dt.date.fromisoformat,
        "$n": Decimal,
        "$j": lambda v: v,
    }
    return decoders[tag](raw)


def snapshot(url: str) -> tuple[bytes, dict[str, int], dict[str, set[str]]]:
    """Every table of the database as one snapshot: (JSON lines, row counts, event-id columns
    of `reports`, `outbox`, `processed_events`, `dead_letters` for the copy order)."""
    engine = create_sync_engine(url)
    lines: list[bytes] = []
    counts: dict[str, int] = {}
    events: dict[str, set[str]] = {}
    try:
        repeatable = engine.connect().execution_options(isolation_level="REPEATABLE READ")
        with repeatable as conn, conn.begin():
            conn.execute(text("SET TRANSACTION READ ONLY"))
            meta = MetaData()
            meta.reflect(bind=conn)
            for table in meta.sorted_tables:
                if table.name in SKIPPED:
                    continue
                counts[table.name] = 0
                names = [c.name for c in table.columns]
                for row in conn.execute(select(table)):
                    values = dict(zip(names, row, strict=True))
                    encoded = {k: _encode(v) for k, v in values.items()}
                    lines.append(json.dumps({"t": table.name, "r": encoded}).encode())
                    counts[table.name] += 1
                    if values.get("event_id"):
                        events.setdefault(table.name, set()).add(str(values["event_id"]))
    finally:
        engine.dispose()
    return b"\n".join(lines), counts, events


def handled_events(url: str) -> set[str]:
    """Event ids a consuming service has handled or dead-lettered (its live database)."""
    engine = create_sync_engine(url)
    try:
        with engine.connect() as conn:
            done = {r[0] for r in conn.execute(text("SELECT event_id FROM processed_events"))}
            letters = conn.execute(text("SELECT event_id FROM dead_letters"))
            done |= {r[0] for r in letters if r[0]}
    finally:
        engine.dispose()
    return done


def check_empty(url: str) -> None:
    """Refuse a target database that has any table."""
    engine = create_sync_engine(url)
    try:
        with engine.connect() as conn:
            meta = MetaData()
            meta.reflect(bind=conn)
            if meta.tables:
                raise FileExistsError(f"the database {engine.url.database} is not empty")
    finally:
        engine.dispose()


def load(url: str, data: bytes) -> None:
    """Insert a snapshot's rows into a database migrated to the same schema, in one
    transaction, then move every sequence past the highest id it holds."""
    engine = create_sync_engine(url)
    rows: dict[str, list[dict[str, Any]]] = {}
    for line in data.splitlines():
        doc = json.loads(line)
        rows.setdefault(doc["t"], []).append({k: _decode(v) for k, v in doc["r"].items()})
    try:
        with engine.begin() as conn:
            meta = MetaData()
            meta.reflect(bind=conn)
            for table in meta.sorted_tables:
                if rows.get(table.name):
                    conn.execute(table.insert(), rows[table.name])
            _advance_sequences(conn, meta)
    finally:
        engine.dispose()


def _advance_sequences(conn: Connection, meta: MetaData) -> None:
    for table in meta.sorted_tables:
        for column in table.columns:
            seq = conn.execute(
                select(func.pg_get_serial_sequence(table.name, column.name))
            ).scalar()
            if seq:
                top = conn.execute(select(func.max(column))).scalar()
                if top is not None:
                    conn.execute(select(func.setval(seq, top)))
