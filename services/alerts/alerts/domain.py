"""Pure rules of alerts: their states and the escalation plan of an unacknowledged one.

No I/O here: the scheduler, the matcher and the alert use cases call these with plain values.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Any

from services.alerts.matching.domain import priority


class AlertStatus(StrEnum):
    """Where an alert stands."""

    OPEN = "open"
    ACKNOWLEDGED = "acknowledged"
    RESOLVED = "resolved"  # acknowledged, and the lawyer said what became of the case
    WITHDRAWN = "withdrawn"


# What became of the person an alert is about (`POST /v1/alerts/{id}/resolve`).
OUTCOMES = (
    "released",
    "held_pending_extradition",
    "extradited",
    "deported",
    "not_my_client",
    "other",
)


class Audience(StrEnum):
    """Who an escalation step reaches."""

    LAWYER = "lawyer"
    BACKUP = "backup"
    DUTY = "duty"


@dataclass(frozen=True)
class EscalationPolicy:
    """Per organisation: re-notify + backups after N, duty after M, repeats capped."""

    escalate_after_min: int = 10
    duty_after_min: int = 30
    repeat_every_min: int = 15
    max_repeats: int = 4


@dataclass(frozen=True)
class Step:
    """One escalation step: minutes after the alert, and who is paged."""

    offset_min: int
    audiences: frozenset[Audience]


def escalation_plan(policy: EscalationPolicy) -> tuple[Step, ...]:
    """Steps after the first page (step 0); each reaches everyone reached so far and more."""
    n, m = policy.escalate_after_min, policy.duty_after_min
    marks = sorted({n, m})
    steps: list[Step] = []
    reached: set[Audience] = {Audience.LAWYER}
    for offset in marks:
        if offset == n:
            reached.add(Audience.BACKUP)
        if offset == m:
            reached.add(Audience.DUTY)
        steps.append(Step(offset, frozenset(reached)))
    last = marks[-1]
    for k in range(1, policy.max_repeats + 1):
        steps.append(Step(last + k * policy.repeat_every_min, frozenset(reached)))
    return tuple(steps)


def step_due(
    created_at: datetime, plan: Sequence[Step], step: int, minute_s: float
) -> datetime | None:
    """When step `step` (1-based) of the plan is due, or None after the last one."""
    if step > len(plan):
        return None
    return created_at + timedelta(seconds=plan[step - 1].offset_min * minute_s)


# --- what the recipient may see ------------------------------------------------------------

# The report-derived fields of an alert, by the report field that governs each: an alert shows
# one only where the lawyer's organisation may read that field of the report (docs/alerts.md).
DETAILS: dict[str, str] = {
    "incident_type": "incident_type",
    "legal_basis": "legal_basis",
    "country": "place.country",
    "facility_kind": "place.facility_kind",
    "occurred_at": "occurred_at",
}
EVERY_DETAIL = " ".join(DETAILS)


def disclosed_of(report_fields: Iterable[str]) -> str:
    """The alert fields (space-separated) that these readable report fields allow."""
    readable = set(report_fields)
    return " ".join(name for name, governs in DETAILS.items() if governs in readable)


def widened(disclosed: str, more: str) -> str:
    """Both sets of alert fields, in their order (a release never hides what was shown)."""
    shown = set(disclosed.split()) | set(more.split())
    return " ".join(name for name in DETAILS if name in shown)


def asked_for(disclosed: str) -> list[str]:
    """The report fields a release request asks for: those behind the hidden alert fields."""
    shown = set(disclosed.split())
    return [governs for name, governs in DETAILS.items() if name not in shown]


def redacted(values: Mapping[str, Any], disclosed: str) -> dict[str, Any]:
    """The alert's values with every undisclosed detail blanked; the priority shown does not
    betray a hidden legal basis (escalation still follows the real one)."""
    shown = set(disclosed.split())
    out = dict(values)
    for name in DETAILS:
        if name not in shown:
            out[name] = ""
    if "legal_basis" not in shown and "priority" in out and "decision" in out:
        out["priority"] = priority(out["decision"], "").value
    return out


# --- after the acknowledgement ------------------------------------------------------------

REMINDER_STEP = 3_000  # resolve reminders' delivery key space: REMINDER_STEP + n, per contact


@dataclass(frozen=True)
class ReminderPolicy:
    """An acknowledged, unresolved alert reminds its lawyer after `after_min`, then every
    `repeat_min` (0: once), at most `max_reminders` times (0: never)."""

    after_min: int = 1440
    repeat_min: int = 1440
    max_reminders: int = 3

    @property
    def limit(self) -> int:
        """How many reminders an acknowledgement gets at most."""
        return min(self.max_reminders, 1) if self.repeat_min <= 0 else self.max_reminders


def reminder_due(
    acked_at: datetime, policy: ReminderPolicy, nth: int, minute_s: float
) -> datetime | None:
    """When the `nth` (1-based) resolve reminder is due, or None past the last one."""
    if nth < 1 or nth > policy.limit:
        return None
    minutes = policy.after_min + (nth - 1) * max(policy.repeat_min, 0)
    return acked_at + timedelta(seconds=minutes * minute_s)


def person_key(report_values: Iterable[str], entry_values: Iterable[str]) -> str:
    """Who a report is about, as far as one entry can tell: a digest of the report's token
    values that the entry holds (the tokens it matched on). The same identity reported again
    gives the same key; a report that matches the entry on other tokens (another birth date,
    other name forms, more or fewer of them) gives another key."""
    shared = sorted(set(report_values) & set(entry_values))
    return hashlib.sha256("\n".join(shared).encode()).hexdigest()


def false_match_share(by_outcome: Mapping[str, int]) -> float | None:
    """The share of resolved alerts that were not the lawyer's client; None with none."""
    total = sum(by_outcome.values())
    return round(by_outcome.get("not_my_client", 0) / total, 4) if total else None
