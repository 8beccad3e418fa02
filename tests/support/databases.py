"""Scratch PostgreSQL databases: created empty on a server, dropped afterwards."""

from __future__ import annotations

import uuid
from collections.abc import Iterator

import psycopg


def pg_scratch_database(server_url: str, prefix: str = "lifeline_test") -> Iterator[str]:
    """Yield the SQLAlchemy URL of a new, empty database on `server_url`; drop it after."""
    name = f"{prefix}_{uuid.uuid4().hex[:12]}"
    admin = server_url.replace("postgresql+psycopg://", "postgresql://")
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    base, _, _ = admin.rpartition("/")
    try:
        yield f"{base.replace('postgresql://', 'postgresql+psycopg://')}/{name}"
    finally:
        with psycopg.connect(admin, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
