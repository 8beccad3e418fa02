"""The table of alerts' retention: the sweep's last runs."""

from __future__ import annotations

from libs.common.retention import RetentionRunBase
from services.alerts.models import AlertsTable


class RetentionRun(RetentionRunBase, AlertsTable, table=True):
    """The sweep's last run (alerts, deliveries, attempts, warnings pruned)."""

    __tablename__ = "retention_runs"


RUNS = RetentionRun.__table__  # type: ignore[attr-defined]
