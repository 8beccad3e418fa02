"""The table of approvals: a gated action's exact request, its decision and its outcome."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Text
from sqlmodel import Field

from services.sharing.models import SharingTable


class Approval(SharingTable, table=True):
    """One gated action waiting for (or decided by) a second operator."""

    __tablename__ = "approvals"

    id: str = Field(primary_key=True, max_length=64)
    action: str = Field(max_length=32)  # approvals.domain.ApprovalAction
    # What it acts on (client, partner, report, seizure id): shown, and how a seizure finds it.
    target: str = Field(max_length=128, index=True)
    request: str = Field(sa_type=Text)  # JSON: exactly what runs once approved
    status: str = Field(max_length=16, index=True)
    requested_by: str = Field(max_length=128, index=True)
    requested_org: str = Field(max_length=64, index=True)
    requester: str = Field(sa_type=Text)  # JSON: role and scopes the action runs with
    requested_at: datetime
    expires_at: datetime
    decided_by: str | None = Field(default=None, max_length=128)
    decided_at: datetime | None = None
    outcome: str | None = Field(default=None, sa_type=Text)  # JSON: the result, or the error


APPROVALS = Approval.__table__  # type: ignore[attr-defined]
