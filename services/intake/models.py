"""Tables of the intake service (its own database; no other service reads them)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import UniqueConstraint
from sqlalchemy.orm import registry
from sqlmodel import Field, SQLModel

from libs.common.idempotency import IdempotencyBase
from libs.common.inbox import DeadLetterBase, ProcessedEventBase
from libs.common.outbox import OutboxBase


class IntakeTable(SQLModel, registry=registry()):
    """Base of every intake table: its own metadata, so services never share a schema."""


class Report(IntakeTable, table=True):
    """What intake remembers of a submission: ids and progress, never its content."""

    __tablename__ = "reports"
    __table_args__ = (UniqueConstraint("partner_id", "client_report_id"),)

    report_id: str = Field(primary_key=True, max_length=36)
    partner_id: str = Field(max_length=64, index=True)
    client_id: str = Field(max_length=64)
    client_report_id: str = Field(max_length=128)
    # Keyed digest of the validated content: tells a retry from a conflicting resubmission
    # without keeping anything that could confirm a guessed report.
    content_mac: str = Field(max_length=64)
    event_id: str = Field(max_length=36, unique=True)
    received_at: datetime
    published_at: datetime | None = None
    stored_at: datetime | None = None
    # A follow-up's earlier report (always one of the same partner's, checked on submission).
    follows: str | None = Field(default=None, max_length=64)
    # Sharing erased the report (`report.erased`): it can no longer be followed up.
    erased_at: datetime | None = None


class IdempotencyKey(IdempotencyBase, IntakeTable, table=True):
    """A client's Idempotency-Key on a create, with the first answer to replay."""

    __tablename__ = "idempotency_keys"


class Outbox(OutboxBase, IntakeTable, table=True):
    """Events waiting for their publish ack; the sealed report leaves with its row."""

    __tablename__ = "outbox"


class ProcessedEvent(ProcessedEventBase, IntakeTable, table=True):
    """Events this service has handled: redeliveries are skipped by event id."""

    __tablename__ = "processed_events"


class DeadLetter(DeadLetterBase, IntakeTable, table=True):
    """Messages this service could never process, kept for inspection and replay."""

    __tablename__ = "dead_letters"


metadata = IntakeTable.metadata
IDEMPOTENCY_KEYS = IdempotencyKey.__table__  # type: ignore[attr-defined]
