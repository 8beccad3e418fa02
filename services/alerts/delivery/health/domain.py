"""Pure rules of contact health: a contact's state, which problem to warn of, reachability."""

from __future__ import annotations

import uuid
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any, Final

_NAMESPACE: Final = uuid.UUID("0b7e4f3a-2c1d-5e6f-8a9b-0c1d2e3f4a5b")
STATES: Final = ("ok", "failing", "unknown", "key_expiring", "key_expired")
# States the lawyer is warned of, once per episode each.
PROBLEMS: Final = ("failing", "key_expired", "key_expiring")
UNREACHABLE: Final = "unreachable"  # the problem of a warning about a lawyer, not a contact


@dataclass(frozen=True)
class HealthRules:
    """When a contact counts as failing and how early an expiring key is warned of."""

    failing_after: int = 3
    key_warn_s: float = 14 * 86400.0


def aware(value: datetime | None) -> datetime | None:
    """A stored time as UTC-aware (SQLite hands back naive ones)."""
    if value is None or value.tzinfo is not None:
        return value
    return value.replace(tzinfo=UTC)


def state(row: Any, rules: HealthRules, now: datetime) -> str:
    """A contact's state from its counters, its key's expiry and whether it is disabled."""
    expires = aware(row["key_expires_at"])
    if expires is not None and expires <= now:
        return "key_expired"
    if row["disabled_at"] is not None or row["consecutive_failures"] >= rules.failing_after:
        return "failing"
    if expires is not None and expires - now <= timedelta(seconds=rules.key_warn_s):
        return "key_expiring"
    if row["last_success_at"] is None and row["last_failure_at"] is None:
        return "unknown"
    return "ok"


def working(value: str) -> bool:
    """Whether a contact in this state can be expected to reach its owner."""
    return value not in ("failing", "key_expired")


def to_warn(value: str, warned: str | None) -> str | None:
    """The problem to warn of now: one the current episode has not been warned of yet."""
    if value in PROBLEMS and value != warned:
        return value
    return None


def recovered(value: str, warned: str | None) -> bool:
    """Whether a warned episode is over (the contact works again, or its key was replaced)."""
    return warned is not None and value not in PROBLEMS


def reachable(states: Iterable[str], has_entries: bool) -> bool:
    """False when the lawyer watches someone but none of their own contacts works."""
    return not has_entries or any(working(s) for s in states)


def warning_id(*parts: object) -> str:
    """A warning's key (its deliveries' `alert_id`): the same episode never warns twice."""
    return str(uuid.uuid5(_NAMESPACE, ":".join(str(p) for p in parts)))
