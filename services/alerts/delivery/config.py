"""The delivery worker's settings: retry schedule, limits, links and health rules."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

from services.alerts.delivery.health.domain import HealthRules


@dataclass(frozen=True)
class DeliveryConfig:
    """Retry schedule and worker limits (from settings)."""

    schedule: tuple[float, ...]
    jitter: float
    max_attempts: int
    lease_s: float
    poll_s: float
    concurrency: int
    # Longest a send can take (the slowest channel's timeout and a margin): an ack waits at
    # most this.
    in_flight_s: float
    public_url: str  # the base of ack links
    # (alert id, report id) → where the report is opened; alert id → where the alert is: the
    # console's page of the alert when `console` (settings.report_link, alert_link).
    report_link: Callable[[str, str], str]
    alert_link: Callable[[str], str]
    console: bool = False
    # When a contact counts as failing (`delivery/health`).
    health: HealthRules = field(default_factory=HealthRules)
    # How long a finished attempt's bookkeeping waits for others to share its transaction
    # (`recorder.py`); an ack waits for an in-flight page at most this much longer.
    record_linger_s: float = 0.02
