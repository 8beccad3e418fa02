"""Table of release requests: one per (report, asking organisation)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Index, Text, UniqueConstraint
from sqlmodel import Field

from services.sharing.models import SharingTable


class ReleaseRequest(SharingTable, table=True):
    """A lawyer's organisation asked for fields of a report it may not read."""

    __tablename__ = "release_requests"
    __table_args__ = (
        UniqueConstraint("report_id", "partner_id", name="uq_release_requests_report_partner"),
        Index("ix_release_requests_submitter", "submitter_id", "status"),
    )

    id: str = Field(primary_key=True, max_length=36)
    report_id: str = Field(max_length=64)
    submitter_id: str = Field(max_length=64)  # the partner that decides
    partner_id: str = Field(max_length=64)  # the asking organisation
    client_id: str = Field(max_length=128)  # the lawyer whose alert asked first
    alert_id: str = Field(max_length=64)
    fields: str = Field(sa_type=Text)  # space-separated report fields asked for
    status: str = Field(max_length=16)  # pending | released | approved | denied | withdrawn
    released: str = Field(default="", sa_type=Text)  # fields released so far
    requested_at: datetime
    decided_at: datetime | None = None
    decided_by: str | None = Field(default=None, max_length=128)
    grant_id: str | None = Field(default=None, max_length=36)


RELEASE_REQUESTS = ReleaseRequest.__table__  # type: ignore[attr-defined]
