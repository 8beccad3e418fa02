"""Bodies of the release-request routes."""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, Field

from services.sharing.vault.schemas import FieldName, Strict


class ApproveIn(Strict):
    """Release some of the fields asked for (all of them when `fields` is left out)."""

    fields: list[FieldName] | None = Field(default=None, min_length=1, max_length=64)


class ReleaseRequestOut(BaseModel):
    """A request, as its submitter sees it: who asked, when, for what, and the decision."""

    id: str
    report_id: str
    partner_id: str  # the organisation whose lawyer asked
    asked_by: str  # the lawyer's client id
    alert_id: str
    fields: list[str]
    released: list[str]  # released so far (by policy or approval)
    status: str  # pending | released (by policy) | approved | denied | withdrawn (erased)
    requested_at: datetime
    decided_at: datetime | None
    decided_by: str | None


class ReleaseRequestList(BaseModel):
    """Release requests, newest first."""

    requests: list[ReleaseRequestOut]
    next_cursor: str | None = Field(
        default=None, description="the next page's `cursor`; null on the last page"
    )
