"""Pure rules of alerts' retention: what may go, and after how long."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from services.alerts.alerts.domain import AlertStatus

# Only a closed alert may go: an open or acknowledged one is a case someone still works on.
CLOSED: tuple[str, ...] = (AlertStatus.RESOLVED.value, AlertStatus.WITHDRAWN.value)
# A delivery still to be sent (or on the wire) keeps its alert or warning, and its attempts.
UNFINISHED: tuple[str, ...] = ("pending", "sending")
SWEEP = "alerts"


@dataclass(frozen=True)
class AlertsRetention:
    """Days each kind of record is kept (None: for ever), and how much one run may prune."""

    alert_days: int | None
    attempt_days: int | None
    warning_days: int | None
    batch: int
    interval_s: float

    def cutoffs(self, now: datetime) -> dict[str, datetime | None]:
        """What was last touched before these times is past its period."""
        return {
            "alerts": _before(self.alert_days, now),
            "delivery_attempts": _before(self.attempt_days, now),
            "contact_warnings": _before(self.warning_days, now),
        }

    def as_dict(self) -> dict[str, object]:
        """The periods and bounds as the API shows them."""
        return {
            "alert_days": self.alert_days,
            "attempt_days": self.attempt_days,
            "warning_days": self.warning_days,
            "batch": self.batch,
            "interval_s": self.interval_s,
        }


def _before(days: int | None, now: datetime) -> datetime | None:
    return None if days is None else now - timedelta(days=days)
