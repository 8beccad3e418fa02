"""Alerts' retention periods as cut-off times (pure rules)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from services.alerts.retention.domain import CLOSED, AlertsRetention

NOW = datetime(2026, 12, 4, 12, 0, tzinfo=UTC)


def test_each_kind_has_its_own_cutoff_and_none_keeps_for_ever() -> None:
    limits = AlertsRetention(90, 30, None, batch=100, interval_s=60)
    assert limits.cutoffs(NOW) == {
        "alerts": NOW - timedelta(days=90),
        "delivery_attempts": NOW - timedelta(days=30),
        "contact_warnings": None,
    }


def test_only_closed_alerts_may_go() -> None:
    assert set(CLOSED) == {"resolved", "withdrawn"}
