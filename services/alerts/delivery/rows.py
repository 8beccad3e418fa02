"""A delivery job's row as inserted: pending, or already claimed by the process that made it."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import RowMapping

from libs.common import tracing
from services.alerts.delivery.domain import delivery_id


@dataclass(frozen=True)
class Claim:
    """Create jobs already claimed by this process (first pages: no claim round trip)."""

    lease_s: float
    in_flight_s: float


def job_row(
    alert_id: str,
    contact: RowMapping,
    step: int,
    kind: str,
    now: datetime,
    *,
    claim: Claim | None = None,
    round_: int = 0,
) -> dict[str, Any]:
    """The job of one send to `contact` (its id is its idempotency key)."""
    row = {
        "id": delivery_id(alert_id, step, contact["channel"], contact["id"], round_),
        "alert_id": alert_id,
        "contact_id": contact["id"],
        "channel": contact["channel"],
        "kind": kind,
        "step": step,
        "status": "pending",
        "attempts": 0,
        "next_attempt_at": now,
        "created_at": now,
        "updated_at": now,
        "trace_context": tracing.stored(),
    }
    if claim is not None:
        # As `repository.claim_due` would leave it: leased, on the wire, attempt 1.
        row.update(
            status="sending",
            attempts=1,
            lease_until=now + timedelta(seconds=claim.lease_s),
            in_flight_until=now + timedelta(seconds=claim.in_flight_s),
        )
    return row
