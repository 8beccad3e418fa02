"""Response bodies of the alerts API (listing, showing and acknowledging alerts)."""

from __future__ import annotations

import unicodedata
from datetime import datetime
from typing import Annotated, Literal

from pydantic import AfterValidator, BaseModel, Field, StringConstraints

from libs.common.schemas import Strict


class MatchOut(BaseModel):
    """How sure the match is and why."""

    strength: str
    reason: str
    agreed: list[str]


class AckOut(BaseModel):
    """Who acknowledged, when and how."""

    at: datetime
    by: str
    via: str


class ResolutionOut(BaseModel):
    """What became of the case, as the lawyer who resolved the alert said."""

    outcome: str
    note: str | None
    at: datetime
    by: str


def _note(value: str) -> str | None:
    # A note is prose: line breaks yes, but no escape sequences, NULs or invisible characters.
    value = value.replace("\r\n", "\n").strip()
    if any(c != "\n" and unicodedata.category(c).startswith("C") for c in value):
        raise ValueError("control characters other than line breaks are not allowed")
    return value or None


Outcome = Literal[
    "released", "held_pending_extradition", "extradited", "deported", "not_my_client", "other"
]
Note = Annotated[str, StringConstraints(max_length=2000), AfterValidator(_note)]


class ResolveIn(Strict):
    """What became of the case; the note (may name people) is stored encrypted."""

    outcome: Outcome
    note: Note | None = None


class AlertOut(BaseModel):
    """An alert as the lawyer sees it: routing metadata and a link, never a name."""

    id: str
    status: str
    priority: str
    label: str
    entry_id: str
    match: MatchOut
    # Null when the reporting partner has not released it to the lawyer's organisation.
    incident_type: str | None
    legal_basis: str | None
    country: str | None
    facility_kind: str | None
    occurred_at: str | None
    report_id: str
    report_url: str
    report_count: int
    # A partner holds a report about the person that the organisation may not read (yet).
    restricted: bool = False
    release: str | None = None  # requested | policy | approved | denied
    created_at: datetime
    updated_at: datetime
    acknowledged: AckOut | None = None
    resolution: ResolutionOut | None = None
    # The latest follow-up's status (released, deported …) where the lawyer may read it.
    case_status: str | None = None


class AttemptOut(BaseModel):
    """One delivery attempt."""

    attempt: int
    started_at: datetime
    outcome: str
    http_status: int | None
    error: str | None


class DeliveryOut(BaseModel):
    """One message to one endpoint and its attempts."""

    id: str
    channel: str
    kind: str
    step: int
    status: str
    attempts: list[AttemptOut]
    delivered_at: datetime | None


class UpdateOut(BaseModel):
    """A follow-up of the alert's report, as it reached the alert (`followups/`)."""

    report_id: str
    status: str | None  # None where the lawyer's organisation may not read it
    worse: bool
    reopened: bool  # it re-opened escalation of the acknowledged alert
    at: datetime


class AlertDetail(AlertOut):
    """An alert with its deliveries and the follow-ups that updated it."""

    deliveries: list[DeliveryOut]
    updates: list[UpdateOut] = []


class AlertPage(BaseModel):
    """One page of alerts, newest first."""

    alerts: list[AlertOut]
    next_cursor: str | None = Field(description="the next page's `cursor`; null on the last page")
    next_before: str | None = Field(deprecated=True, description="deprecated: use `next_cursor`")


class AckResult(BaseModel):
    """The acknowledged alert; `already` when someone had acknowledged it before."""

    alert: AlertOut
    already: bool
