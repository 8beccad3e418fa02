"""Tables of delivery jobs: one message to one endpoint, and every attempt at sending it."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import BigInteger, Index, Integer
from sqlmodel import Field

from services.alerts.models import AlertsTable


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
    next_attempt_at: datetime
    lease_until: datetime | None = None
    # Set while a message is on the wire: an ack waits for these before it returns.
    in_flight_until: datetime | None = None
    last_error: str | None = Field(default=None, max_length=64)
    created_at: datetime
    updated_at: datetime
    delivered_at: datetime | None = None
    # The trace that created the job (`tracing.stored`): its sends continue it.
    trace_context: str | None = Field(default=None, max_length=1024)


class DeliveryAttempt(AlertsTable, table=True):
    """Every attempt of every delivery, kept for the lawyer and the operator to inspect."""

    __tablename__ = "delivery_attempts"
    __table_args__ = (Index("ix_delivery_attempts_finished", "finished_at"),)

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


DELIVERIES = Delivery.__table__  # type: ignore[attr-defined]
ATTEMPTS = DeliveryAttempt.__table__  # type: ignore[attr-defined]
