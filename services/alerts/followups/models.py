"""Tables of follow-ups: which original a report follows, and each alert's updates."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import UniqueConstraint
from sqlmodel import Field

from services.alerts.models import AlertsTable


class FollowUp(AlertsTable, table=True):
    """A follow-up report and the original of its chain (a follow-up of a follow-up too)."""

    __tablename__ = "follow_ups"

    report_id: str = Field(primary_key=True, max_length=64)
    original_id: str = Field(max_length=64, index=True)
    received_at: datetime


class AlertUpdate(AlertsTable, table=True):
    """One follow-up as it reached one alert: one row per (alert, follow-up report)."""

    __tablename__ = "alert_updates"
    __table_args__ = (UniqueConstraint("alert_id", "report_id"),)

    id: int | None = Field(default=None, primary_key=True)
    alert_id: str = Field(max_length=36, index=True)
    report_id: str = Field(max_length=64)
    sequence: int  # 1, 2 … per alert: the key of its notices
    status: str = Field(max_length=32)
    # Whether the lawyer's organisation may read the follow-up's status (policy, like details).
    shown: bool = True
    worse: bool = False
    reopened: bool = False
    created_at: datetime


FOLLOW_UPS = FollowUp.__table__  # type: ignore[attr-defined]
UPDATES = AlertUpdate.__table__  # type: ignore[attr-defined]
