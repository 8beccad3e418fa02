"""Pure rules of alerts: their states and the escalation plan of an unacknowledged one.

No I/O here: the scheduler, the matcher and the alert use cases call these with plain values.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum


class AlertStatus(StrEnum):
    """Where an alert stands."""

    OPEN = "open"
    ACKNOWLEDGED = "acknowledged"
    WITHDRAWN = "withdrawn"


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
