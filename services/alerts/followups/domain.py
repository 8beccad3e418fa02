"""Pure rules of follow-ups: how bad a case status is, and whether a change re-opens an alert.

No I/O here: the follow-up use case calls these with plain values.
"""

from __future__ import annotations

from typing import Final

# How bad each status of a case is for the person (`libs.common.reports.Status`): a follow-up
# whose status ranks above the case's current one is worse news and re-opens escalation.
# `unknown` has no rank: it says nothing about the case and changes nothing.
SEVERITY: Final[dict[str, int]] = {
    "released": 0,
    "ongoing": 1,
    "transferred": 2,
    "extradition_decided": 3,
    "extradited": 4,
    "deported": 4,
}
# An alert says someone is held: that is where a case stands before any follow-up.
BASELINE: Final = "ongoing"
FOLLOWUP_STEP: Final = 2_000  # follow-up notices' key space: FOLLOWUP_STEP + n, per contact


def current_status(statuses: list[str]) -> str:
    """Where a case stands after these follow-up statuses (oldest first): the last known one."""
    known = [s for s in statuses if s in SEVERITY]
    return known[-1] if known else BASELINE


def is_worse(new: str, current: str) -> bool:
    """Is `new` worse for the person than `current`? (Unknown statuses never are.)"""
    if new not in SEVERITY:
        return False
    return SEVERITY[new] > SEVERITY.get(current, SEVERITY[BASELINE])


def reopens(new: str, current: str, alert_status: str) -> bool:
    """A worse status re-opens escalation of an acknowledged alert (an open one escalates
    already; a resolved or withdrawn case is closed)."""
    return alert_status == "acknowledged" and is_worse(new, current)


def notice_step(sequence: int) -> int:
    """The delivery step of the `sequence`-th (1-based) follow-up notice of an alert."""
    return FOLLOWUP_STEP + sequence
