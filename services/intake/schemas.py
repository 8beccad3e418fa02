"""Response bodies of intake's API (the request body is `libs.common.reports.ReportIn`)."""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import BaseModel


class ReportAccepted(BaseModel):
    """A submission was accepted (202) or recognised as a retry of an earlier one (200)."""

    report_id: str
    status: Literal["received", "duplicate"]


class Receipt(BaseModel):
    """How far a report has travelled: received → published → stored by sharing."""

    report_id: str
    client_report_id: str
    status: Literal["received", "published", "stored"]
    received_at: datetime
    published_at: datetime | None
    stored_at: datetime | None
    follows: str | None = None  # the earlier report a follow-up updates
    erased_at: datetime | None = None  # sharing erased it: it cannot be followed up
