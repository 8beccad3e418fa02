"""Tables of alerts: the alert rows, the (report, entry) matches behind them, erased reports,
used ack links."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Index, LargeBinary, Text
from sqlmodel import Field

from services.alerts.alerts.domain import EVERY_DETAIL
from services.alerts.models import AlertsTable


class Alert(AlertsTable, table=True):
    """One alert to one lawyer: a (group of) report(s) about one watchlist entry."""

    __tablename__ = "alerts"
    __table_args__ = (
        Index("ix_alerts_lawyer_created", "lawyer_id", "created_at"),
        Index("ix_alerts_due", "status", "next_step_at"),
        Index("ix_alerts_group", "entry_id", "incident_type", "country"),
        Index("ix_alerts_remind", "status", "remind_at"),
        Index("ix_alerts_closed", "status", "updated_at"),
    )

    id: str = Field(primary_key=True, max_length=36)
    lawyer_id: str = Field(max_length=128)
    org_id: str = Field(max_length=128)
    entry_id: str = Field(max_length=36)
    status: str = Field(max_length=16)  # open | acknowledged | resolved | withdrawn
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
    # The report-derived fields (above) its lawyer's organisation may read, space-separated;
    # the rest are kept for a release but never shown (`domain.redacted`).
    disclosed: str = Field(default=EVERY_DETAIL, sa_type=Text)
    release: str | None = Field(
        default=None, max_length=16
    )  # requested | policy | approved | denied
    report_count: int = 1
    created_at: datetime
    updated_at: datetime
    acked_at: datetime | None = None
    acked_by: str | None = Field(default=None, max_length=200)
    ack_via: str | None = Field(default=None, max_length=16)
    step: int = 0
    next_step_at: datetime | None = None
    withdrawn_at: datetime | None = None
    # What became of the case (`domain.OUTCOMES`), and the lawyer's note, sealed: it may name
    # people (`delivery.secrets.SecretBox.seal_note`).
    resolution: str | None = Field(default=None, max_length=32)
    resolution_note: bytes | None = Field(default=None, sa_type=LargeBinary)
    resolved_at: datetime | None = None
    resolved_by: str | None = Field(default=None, max_length=200)
    # The latest follow-up's status as the lawyer may see it (`followups/`); a worse one
    # re-opens an acknowledged alert: escalation then counts from `reopened_at`, and its pages
    # are keyed by `reopen_count` so a second round is not mistaken for the first.
    case_status: str | None = Field(default=None, max_length=32)
    reopened_at: datetime | None = None
    reopen_count: int = 0
    # Resolve reminders of an acknowledged alert (`reminders.py`): when the next is due, and
    # how many went out since the (latest) acknowledgement.
    remind_at: datetime | None = None
    reminders_sent: int = 0


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
    disclosed: str = Field(default=EVERY_DETAIL, sa_type=Text)
    # `domain.person_key` of the report for this entry: what "not my client" suppresses.
    person: str | None = Field(default=None, max_length=64)
    received_at: datetime
    created_at: datetime


class Suppression(AlertsTable, table=True):
    """ "Not my client": reports about this person (`person` key) no longer alert this entry."""

    __tablename__ = "entry_suppressions"
    __table_args__ = (Index("ix_suppressions_entry", "entry_id", "person"),)

    id: str = Field(primary_key=True, max_length=36)
    entry_id: str = Field(max_length=36)
    person: str = Field(max_length=64)
    alert_id: str = Field(max_length=36)  # the alert resolved "not my client"
    created_at: datetime
    created_by: str = Field(max_length=200)
    # Matches it kept from alerting: counted, never silently dropped.
    suppressed: int = 0
    last_suppressed_at: datetime | None = None
    lifted_at: datetime | None = None
    lifted_by: str | None = Field(default=None, max_length=200)


class ErasedReport(AlertsTable, table=True):
    """Reports sharing erased: a late `report.received` for one of them derives nothing."""

    __tablename__ = "erased_reports"

    report_id: str = Field(primary_key=True, max_length=64)
    erased_at: datetime


class UsedAckLink(AlertsTable, table=True):
    """An ack link that acted: a second use is refused; kept until the link expires."""

    __tablename__ = "used_ack_links"

    link_id: str = Field(primary_key=True, max_length=32)
    alert_id: str = Field(max_length=36)
    used_at: datetime
    expires_at: datetime = Field(index=True)


ALERTS = Alert.__table__  # type: ignore[attr-defined]
MATCHES = AlertMatch.__table__  # type: ignore[attr-defined]
ERASED = ErasedReport.__table__  # type: ignore[attr-defined]
USED_LINKS = UsedAckLink.__table__  # type: ignore[attr-defined]
SUPPRESSIONS = Suppression.__table__  # type: ignore[attr-defined]
