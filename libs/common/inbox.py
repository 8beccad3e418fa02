"""Consumer bookkeeping each consuming service keeps in its own database: inbox, dead letters."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Result, Table, literal_column
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import Field, SQLModel

from libs.common.consumer import DeadLetter
from libs.common.events import Envelope


def utcnow() -> datetime:
    """Timezone-aware now, the only clock the services use."""
    return datetime.now(UTC)


class ProcessedEventBase(SQLModel):
    """Columns of a service's inbox: one row per event it has handled (idempotency by event id)."""

    event_id: str = Field(primary_key=True, max_length=64)
    event_type: str = Field(max_length=128, index=True)
    processed_at: datetime = Field(default_factory=utcnow)


class DeadLetterBase(SQLModel):
    """Columns of a service's dead-letter table: messages it gave up on, kept for replay."""

    id: int | None = Field(default=None, primary_key=True)
    event_id: str | None = Field(default=None, max_length=64, index=True)
    subject: str = Field(max_length=256)
    stream_seq: int
    reason: str = Field(max_length=256)
    payload: bytes
    recorded_at: datetime = Field(default_factory=utcnow)


async def insert_ignore(session: AsyncSession, table: Table, values: dict[str, Any]) -> bool:
    """Insert a row unless its key exists; True when this call inserted it."""
    dialect = session.get_bind().dialect.name
    insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
    # RETURNING, not rowcount: psycopg (async) reports rowcount -1 for ON CONFLICT DO NOTHING,
    # which made every insert look like a duplicate on PostgreSQL.
    stmt = insert(table).values(**values).on_conflict_do_nothing()
    result: Result[Any] = await session.execute(stmt.returning(literal_column("1")))
    return result.first() is not None


def inbox_row(event: Envelope) -> dict[str, Any]:
    """Column values of the inbox row that marks an event handled."""
    return {"event_id": event.id, "event_type": event.type, "processed_at": utcnow()}


async def mark_processed(session: AsyncSession, table: Table, event: Envelope) -> bool:
    """Record the event in the inbox; False means it was handled before (skip it)."""
    return await insert_ignore(session, table, inbox_row(event))


def dead_letter_row(letter: DeadLetter) -> dict[str, Any]:
    """Column values for one dead letter."""
    return {
        "event_id": letter.event_id,
        "subject": letter.subject,
        "stream_seq": letter.stream_seq,
        "reason": letter.reason,
        "payload": letter.payload,
        "recorded_at": utcnow(),
    }
