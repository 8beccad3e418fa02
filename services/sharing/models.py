"""The base of sharing's tables (its own database; no other service reads them) and plumbing."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy.orm import registry
from sqlmodel import Field, SQLModel

from libs.common.idempotency import IdempotencyBase
from libs.common.inbox import DeadLetterBase, ProcessedEventBase
from libs.common.outbox import OutboxBase


class SharingTable(SQLModel, registry=registry()):
    """Base of every sharing table: its own metadata, so services never share a schema."""


class ProcessedEvent(ProcessedEventBase, SharingTable, table=True):
    """Events this service has handled: redeliveries are skipped by event id."""

    __tablename__ = "processed_events"


class DeadLetter(DeadLetterBase, SharingTable, table=True):
    """Messages this service could never process, kept for inspection and replay."""

    __tablename__ = "dead_letters"


class IdempotencyKey(IdempotencyBase, SharingTable, table=True):
    """A client's Idempotency-Key on a create, with the first answer to replay."""

    __tablename__ = "idempotency_keys"


class Outbox(OutboxBase, SharingTable, table=True):
    """Events (revocations) written with the change they announce, relayed to JetStream."""

    __tablename__ = "outbox"


class Lease(SharingTable, table=True):
    """A named lease: periodic jobs that must run on one replica at a time hold one."""

    __tablename__ = "leases"

    name: str = Field(primary_key=True, max_length=64)
    holder: str = Field(max_length=64)
    expires_at: datetime


INBOX = ProcessedEvent.__table__  # type: ignore[attr-defined]
DEAD_LETTERS = DeadLetter.__table__  # type: ignore[attr-defined]
OUTBOX = Outbox.__table__  # type: ignore[attr-defined]
LEASES = Lease.__table__  # type: ignore[attr-defined]

# Every context's tables derive from SharingTable; `migrations/env.py` imports them all, so
# that this metadata is the whole schema there (importing them here would be an import cycle).
metadata = SharingTable.metadata
IDEMPOTENCY_KEYS = IdempotencyKey.__table__  # type: ignore[attr-defined]
