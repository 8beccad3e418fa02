"""Alerts' instruments: the first delivered page of an alert is timed once, from intake."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from libs.common.metrics import Metrics
from services.alerts import metrics as alerts_metrics
from services.alerts.metrics import AlertsMetrics

T0 = datetime(2026, 12, 4, 20, 0, tzinfo=UTC)


def _first_pages(m: AlertsMetrics) -> tuple[float, float]:
    """(count, sum) of the time-to-first-page histogram."""
    (family,) = [f for f in m.first_page.collect()]
    values = {s.name: s.value for s in family.samples}
    return (
        values["lifeline_time_to_first_page_seconds_count"],
        values["lifeline_time_to_first_page_seconds_sum"],
    )


def test_only_the_first_delivered_page_of_an_awaited_alert_is_timed() -> None:
    registry = Metrics("alerts")
    m = AlertsMetrics(registry)
    m.await_first_pages({"a1"}, T0)
    second = T0 + timedelta(seconds=0.2)
    m.attempt("webhook", "a1", "alert", "retry", T0 + timedelta(seconds=0.1))
    m.attempt("webhook", "a1", "ack_notice", "delivered", second)  # not a page
    assert _first_pages(m) == (0, 0)
    m.attempt("email", "a1", "alert", "delivered", second)
    m.attempt("webhook", "a1", "alert", "delivered", T0 + timedelta(seconds=9))  # the second
    m.attempt("webhook", "a2", "alert", "delivered", second)  # never awaited here
    assert _first_pages(m) == (1, 0.2)
    delivered = registry.registry.get_sample_value(
        "lifeline_deliveries_total", {"channel": "webhook", "outcome": "delivered"}
    )
    assert delivered == 3


def test_the_awaited_alerts_are_bounded(monkeypatch) -> None:  # type: ignore[no-untyped-def]
    monkeypatch.setattr(alerts_metrics, "MAX_AWAITED", 2)
    m = AlertsMetrics(Metrics("alerts"))
    m.await_first_pages({"a1"}, T0)
    m.await_first_pages({"a2"}, T0)
    m.await_first_pages({"a3"}, T0)  # another replica paged a1: it is forgotten
    for alert_id in ("a1", "a2", "a3"):
        m.attempt("webhook", alert_id, "alert", "delivered", T0 + timedelta(seconds=1))
    assert _first_pages(m) == (2, 2.0)
