"""Alerts' own instruments: deliveries, time to the first page and to acknowledgement."""

from __future__ import annotations

from datetime import datetime, timedelta

from prometheus_client import Counter, Histogram

from libs.common.metrics import Metrics
from services.alerts.delivery.domain import PAGE_KINDS

# Seconds: a first page lands in tens of milliseconds; an acknowledgement takes minutes to hours.
PAGE_BUCKETS = (0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0, 300.0, 900.0)
ACK_BUCKETS = (10.0, 30.0, 60.0, 120.0, 300.0, 600.0, 900.0, 1800.0, 3600.0, 7200.0, 21600.0)
# Alerts whose first page this process handed to its worker and has not yet seen delivered.
# Bounded: a page that never lands here (another replica sent it) must not grow it for ever.
MAX_AWAITED = 10_000


class AlertsMetrics:
    """`lifeline_deliveries_total{channel, outcome}`, `lifeline_time_to_first_page_seconds`
    (the report's arrival at intake → the first successful page of its alert) and
    `lifeline_time_to_ack_seconds{via}` (the alert's creation, or re-opening, → its
    acknowledgement)."""

    def __init__(self, metrics: Metrics) -> None:
        r = metrics.registry
        self.deliveries = Counter(
            "lifeline_deliveries",
            "Delivery attempts, by channel kind and outcome (delivered, retry, failed, gone, "
            "cancelled).",
            ["channel", "outcome"],
            registry=r,
        )
        self.first_page = Histogram(
            "lifeline_time_to_first_page_seconds",
            "From a report's arrival at intake to the first page of its alert delivered.",
            buckets=PAGE_BUCKETS,
            registry=r,
        )
        self.ack = Histogram(
            "lifeline_time_to_ack_seconds",
            "From an alert's creation (or re-opening) to its acknowledgement, by how (api, link).",
            ["via"],
            buckets=ACK_BUCKETS,
            registry=r,
        )
        self._awaited: dict[str, datetime] = {}

    @classmethod
    def detached(cls) -> AlertsMetrics:
        """Instruments in a registry nobody scrapes (a part built without a service)."""
        return cls(Metrics("alerts"))

    def await_first_pages(self, alert_ids: set[str], received_at: datetime) -> None:
        """New alerts whose first pages were just handed to the worker."""
        for alert_id in alert_ids:
            if len(self._awaited) >= MAX_AWAITED:
                self._awaited.pop(next(iter(self._awaited)))
            self._awaited[alert_id] = received_at

    def attempt(self, channel: str, alert_id: str, kind: str, outcome: str, now: datetime) -> None:
        """Count one recorded attempt; the first delivered page of an awaited alert is timed."""
        self.deliveries.labels(channel, outcome).inc()
        if outcome == "delivered" and kind in PAGE_KINDS:
            received_at = self._awaited.pop(alert_id, None)
            if received_at is not None:
                self.first_page.observe(max((now - received_at).total_seconds(), 0.0))

    def acknowledged(self, via: str, waited: timedelta) -> None:
        """Time one acknowledgement."""
        self.ack.labels(via).observe(max(waited.total_seconds(), 0.0))
