"""The API views of stored contacts: a contact (never its secret) and its health."""

from __future__ import annotations

from datetime import datetime
from typing import Any, cast

from sqlalchemy import RowMapping

from services.alerts.delivery.health.domain import HealthRules, aware, state
from services.alerts.delivery.profiles.schemas import ContactOut, HealthOut


def health_out(row: RowMapping, rules: HealthRules, now: datetime) -> HealthOut:
    """A contact's health as the API shows it."""
    return HealthOut(
        state=cast(Any, state(row, rules, now)),
        last_success_at=aware(row["last_success_at"]),
        last_failure_at=aware(row["last_failure_at"]),
        last_failure=row["last_failure"],
        consecutive_failures=row["consecutive_failures"],
        key_expires_at=aware(row["key_expires_at"]),
    )


def contact_out(
    row: RowMapping, rules: HealthRules | None = None, now: datetime | None = None
) -> ContactOut:
    """The API view of a contact (with its health when `rules` and `now`): never its secret."""
    return ContactOut(
        id=row["id"],
        role=row["role"],
        channel=row["channel"],
        address=row["address"],
        name=row["name"],
        encrypted=bool(row["pgp_key"]),
        disabled=row["disabled_at"] is not None,
        disabled_reason=row["disabled_reason"],
        health=None if rules is None or now is None else health_out(row, rules, now),
    )
