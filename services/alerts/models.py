"""Tables of the alerts service (its own database; no other service reads them).

This module holds the base every table of the service derives from and the consumer
bookkeeping; each context keeps its own tables (`watchlists/models.py`, `alerts/models.py`,
`delivery/models.py`, `delivery/profiles/models.py`, `rotas/models.py`), and
`migrations/env.py` imports them all.

SQLModel defines the tables; the hot paths (matching, delivery) use SQLAlchemy Core statements
on `Model.__table__`. Lists (rule incident types, countries …) are comma-separated strings: they
are short, never queried by element, and portable between SQLite and PostgreSQL.
"""

from __future__ import annotations

from sqlalchemy.orm import registry
from sqlmodel import SQLModel

from libs.common.idempotency import IdempotencyBase
from libs.common.inbox import DeadLetterBase, ProcessedEventBase
from libs.common.outbox import OutboxBase


class AlertsTable(SQLModel, registry=registry()):
    """Base of every alerts table: its own metadata, so services never share a schema."""


class ProcessedEvent(ProcessedEventBase, AlertsTable, table=True):
    """Events this service has handled: redeliveries are skipped by event id."""

    __tablename__ = "processed_events"


class DeadLetter(DeadLetterBase, AlertsTable, table=True):
    """Messages this service could never process, kept for inspection and replay."""

    __tablename__ = "dead_letters"


class IdempotencyKey(IdempotencyBase, AlertsTable, table=True):
    """A client's Idempotency-Key on a create, with the first answer to replay."""

    __tablename__ = "idempotency_keys"


class Outbox(OutboxBase, AlertsTable, table=True):
    """Events (release requests) written with the alert that asks, relayed to JetStream."""

    __tablename__ = "outbox"


INBOX = ProcessedEvent.__table__  # type: ignore[attr-defined]
DEAD_LETTERS = DeadLetter.__table__  # type: ignore[attr-defined]
OUTBOX = Outbox.__table__  # type: ignore[attr-defined]
metadata = AlertsTable.metadata
IDEMPOTENCY_KEYS = IdempotencyKey.__table__  # type: ignore[attr-defined]
