"""Consumer bookkeeping each consuming service keeps in its own database: inbox, dead letters."""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any

from sqlalchemy import BigInteger, Table
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import Field, SQLModel

from libs.common.clock import SYSTEM_CLOCK
from libs.common.consumer import DeadLetter
from libs.common.events import Envelope
from libs.common.sql import insert_ignore


class ProcessedEventBase(SQLModel):
    """Columns of a service's inbox: one row per event it has handled (idempotency by event id)."""

    event_id: str = Field(primary_key=True, max_length=64)
    event_type: str = Field(max_length=128, index=True)
    processed_at: datetime = Field(default_factory=SYSTEM_CLOCK.now)


class DeadLetterBase(SQLModel):
    """Columns of a service's dead-letter table: messages it gave up on, kept for replay."""

    id: int | None = Field(default=None, primary_key=True)
    event_id: str | None = Field(default=None, max_length=64, index=True)
    subject: str = Field(max_length=256)
    # JetStream sequences are 64-bit, as the migrations made the column.
    stream_seq: int = Field(sa_type=BigInteger)
    reason: str = Field(max_length=256)
    payload: bytes
    recorded_at: datetime = Field(default_factory=SYSTEM_CLOCK.now)


def inbox_row(event: Envelope, now: datetime) -> dict[str, Any]:
    """Column values of the inbox row that marks an event handled (at `now`)."""
    return {"event_id": event.id, "event_type": event.type, "processed_at": now}


async def mark_processed(
    session: AsyncSession, table: Table, event: Envelope, now: datetime
) -> bool:
    """Record the event in the inbox; False means it was handled before (skip it)."""
    return await insert_ignore(session, table, inbox_row(event, now))


WITHHELD = "(withheld: sharing keeps the report)"


def dead_letter_row(letter: DeadLetter, now: datetime) -> dict[str, Any]:
    """Column values for one dead letter (recorded at `now`)."""
    return {
        "event_id": letter.event_id,
        "subject": letter.subject,
        "stream_seq": letter.stream_seq,
        "reason": letter.reason,
        "payload": letter.payload,
        "recorded_at": now,
    }


def without_sealed_report(payload: bytes) -> bytes:
    """The payload with a `report.received`'s sealed report withheld (for a reader that has no
    use for it: an erasure could not reach that copy)."""
    try:
        event = json.loads(payload)
        data = event["data"]
    except (ValueError, KeyError, TypeError):
        return payload
    if not isinstance(data, dict) or "sealed" not in data:
        return payload
    data["sealed"] = WITHHELD
    return json.dumps(event, separators=(",", ":")).encode()
