"""Response bodies of the alerts' retention route."""

from __future__ import annotations

from pydantic import BaseModel

from libs.common.retention import SweepRun


class AlertsRetentionOut(BaseModel):
    """Days closed alerts, delivery attempts and contact warnings are kept (null: for ever)."""

    alert_days: int | None
    attempt_days: int | None
    warning_days: int | None
    batch: int
    interval_s: float
    sweeps: dict[str, SweepRun]
