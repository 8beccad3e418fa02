"""Response bodies of the alerts' retention route."""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel


class SweepRun(BaseModel):
    """A sweep's last run, and the counts of its last run that pruned anything."""

    last_run_at: datetime
    last_pruned_at: datetime | None
    last_counts: dict[str, int]


class AlertsRetentionOut(BaseModel):
    """Days closed alerts, delivery attempts and contact warnings are kept (null: for ever)."""

    alert_days: int | None
    attempt_days: int | None
    warning_days: int | None
    batch: int
    interval_s: float
    sweeps: dict[str, SweepRun]
