"""Tables of the alerts service (its own database; no other service reads them).

SQLModel defines the tables; the hot paths (matching, delivery) use SQLAlchemy Core statements
on `Model.__table__`. Lists (rule incident types, countries …) are comma-separated strings: they
are short, never queried by element, and portable between SQLite and PostgreSQL.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import BigInteger, Index, Integer, LargeBinary, Text, text
from sqlalchemy.orm import registry
from sqlmodel import Field, SQLModel

from libs.common.inbox import DeadLetterBase, ProcessedEventBase, utcnow


class AlertsTable(SQLModel, registry=registry()):
    """Base of every alerts table: its own metadata, so services never share a schema."""


class ProcessedEvent(ProcessedEventBase, AlertsTable, table=True):
    """Events this service has handled: redeliveries are skipped by event id."""

    __tablename__ = "processed_events"


class DeadLetter(DeadLetterBase, AlertsTable, table=True):
    """Messages this service could never process, kept for inspection and replay."""

    __tablename__ = "dead_letters"


class Lawyer(AlertsTable, table=True):
    """A lawyer is an API client (with lawyer scopes) that has a profile here."""

    __tablename__ = "lawyers"

    client_id: str = Field(primary_key=True, max_length=128)
    org_id: str = Field(max_length=128, index=True)
    created_at: datetime = Field(default_factory=utcnow)
    updated_at: datetime = Field(default_factory=utcnow)


class Organisation(AlertsTable, table=True):
    """Escalation timing of one organisation (N, M, repeats); its duty contacts are contacts."""

    __tablename__ = "organisations"

    org_id: str = Field(primary_key=True, max_length=128)
    escalate_after_min: int
    duty_after_min: int
    repeat_every_min: int
    max_repeats: int
    updated_at: datetime = Field(default_factory=utcnow)
    updated_by: str = Field(max_length=128)


class Contact(AlertsTable, table=True):
    """One channel endpoint: a lawyer's webhook/email, a backup contact or an org duty contact."""

    __tablename__ = "contacts"
    __table_args__ = (Index("ix_contacts_org_role", "org_id", "role"),)

    id: str = Field(primary_key=True, max_length=36)
    org_id: str = Field(max_length=128)
    lawyer_id: str | None = Field(default=None, max_length=128, index=True)
    role: str = Field(max_length=16)  # primary | secondary | backup | duty
    channel: str = Field(max_length=16)  # webhook | email
    address: str = Field(max_length=2048)
    name: str | None = Field(default=None, max_length=100)
    # Webhook signing secret, AES-GCM encrypted with a key kept in the data directory.
    secret: bytes | None = Field(default=None, sa_type=LargeBinary)
    pgp_key: str | None = Field(default=None, sa_type=Text)
    position: int = 0
    disabled_at: datetime | None = None
    disabled_reason: str | None = Field(default=None, max_length=64)
    created_at: datetime = Field(default_factory=utcnow)


class WatchlistEntry(AlertsTable, table=True):
    """A lawyer's client, known here only by the lawyer's label and identity tokens."""

    __tablename__ = "watchlist_entries"
    __table_args__ = (
        # One live entry per label (imports are idempotent by label); removed ones keep theirs.
        Index(
            "uq_entries_lawyer_label_live",
            "lawyer_id",
            "label",
            unique=True,
            sqlite_where=text("removed_at IS NULL"),
            postgresql_where=text("removed_at IS NULL"),
        ),
    )

    id: str = Field(primary_key=True, max_length=36)
    lawyer_id: str = Field(max_length=128, index=True)
    org_id: str = Field(max_length=128)
    label: str = Field(max_length=200)
    incident_types: str = Field(max_length=512)
    legal_bases: str = Field(default="", max_length=512)
    countries: str = Field(default="", max_length=1024)
    token_count: int = 0
    created_at: datetime = Field(default_factory=utcnow)
    updated_at: datetime = Field(default_factory=utcnow)
    removed_at: datetime | None = None


class EntryToken(AlertsTable, table=True):
    """The token index: (value, key version) -> entry, so matching never scans the watchlist."""

    __tablename__ = "entry_tokens"
    __table_args__ = (Index("ix_entry_tokens_lookup", "value", "version"),)

    entry_id: str = Field(primary_key=True, max_length=36)
    kind: str = Field(primary_key=True, max_length=32)
    version: int = Field(primary_key=True)
    value: str = Field(primary_key=True, max_length=128)


class Alert(AlertsTable, table=True):
    """One alert to one lawyer: a (group of) report(s) about one watchlist entry."""

    __tablename__ = "alerts"
    __table_args__ = (
        Index("ix_alerts_lawyer_created", "lawyer_id", "created_at"),
        Index("ix_alerts_due", "status", "next_step_at"),
        Index("ix_alerts_group", "entry_id", "incident_type", "country"),
    )

    id: str = Field(primary_key=True, max_length=36)
    lawyer_id: str = Field(max_length=128)
    org_id: str = Field(max_length=128)
    entry_id: str = Field(max_length=36)
    status: str = Field(max_length=16)  # open | acknowledged | withdrawn
    decision: str = Field(max_length=16)
    reason: str = Field(max_length=200)
    agreed: str = Field(max_length=200)
    priority: str = Field(max_length=16)
    incident_type: str = Field(max_length=32)
    legal_basis: str = Field(max_length=32)
    country: str = Field(max_length=2)
    facility_kind: str = Field(max_length=32)
    occurred_at: str = Field(max_length=40)
    report_id: str = Field(max_length=64)
    report_count: int = 1
    created_at: datetime = Field(default_factory=utcnow)
    updated_at: datetime = Field(default_factory=utcnow)
    acked_at: datetime | None = None
    acked_by: str | None = Field(default=None, max_length=200)
    ack_via: str | None = Field(default=None, max_length=16)
    step: int = 0
    next_step_at: datetime | None = None
    withdrawn_at: datetime | None = None


class AlertMatch(AlertsTable, table=True):
    """One row per (report, entry): the idempotency key of matching, grouped into an alert."""

    __tablename__ = "alert_matches"

    report_id: str = Field(primary_key=True, max_length=64)
    entry_id: str = Field(primary_key=True, max_length=36)
    alert_id: str = Field(max_length=36, index=True)
    decision: str = Field(max_length=16)
    reason: str = Field(max_length=200)
    agreed: str = Field(max_length=200)
    priority: str = Field(max_length=16)
    incident_type: str = Field(max_length=32)
    legal_basis: str = Field(max_length=32)
    country: str = Field(max_length=2)
    facility_kind: str = Field(max_length=32)
    occurred_at: str = Field(max_length=40)
    received_at: datetime
    created_at: datetime = Field(default_factory=utcnow)


class ErasedReport(AlertsTable, table=True):
    """Reports sharing erased: a late `report.received` for one of them derives nothing."""

    __tablename__ = "erased_reports"

    report_id: str = Field(primary_key=True, max_length=64)
    erased_at: datetime = Field(default_factory=utcnow)


class Delivery(AlertsTable, table=True):
    """One message to one endpoint, a durable job; its id is the key and the `webhook-id`."""

    __tablename__ = "deliveries"
    __table_args__ = (Index("ix_deliveries_due", "status", "next_attempt_at"),)

    # uuid5 of (alert, step, channel, endpoint): the same job can never be created twice.
    id: str = Field(primary_key=True, max_length=36)
    alert_id: str = Field(max_length=36, index=True)
    contact_id: str = Field(max_length=36)
    channel: str = Field(max_length=16)
    kind: str = Field(max_length=16)  # alert | escalation | ack_notice | withdrawal
    step: int = 0
    status: str = Field(max_length=16)  # pending | sending | delivered | failed | cancelled
    attempts: int = 0
    next_attempt_at: datetime = Field(default_factory=utcnow)
    lease_until: datetime | None = None
    # Set while a message is on the wire: an ack waits for these before it returns.
    in_flight_until: datetime | None = None
    last_error: str | None = Field(default=None, max_length=64)
    created_at: datetime = Field(default_factory=utcnow)
    updated_at: datetime = Field(default_factory=utcnow)
    delivered_at: datetime | None = None


class DeliveryAttempt(AlertsTable, table=True):
    """Every attempt of every delivery, kept for the lawyer and the operator to inspect."""

    __tablename__ = "delivery_attempts"

    id: int | None = Field(
        default=None,
        primary_key=True,
        sa_type=BigInteger().with_variant(Integer, "sqlite"),
        sa_column_kwargs={"autoincrement": True},
    )
    delivery_id: str = Field(max_length=36, index=True)
    attempt: int
    started_at: datetime
    finished_at: datetime
    outcome: str = Field(max_length=16)  # delivered | retry | failed | gone | cancelled
    http_status: int | None = None
    error: str | None = Field(default=None, max_length=64)
    retry_after_s: float | None = None


metadata = AlertsTable.metadata
