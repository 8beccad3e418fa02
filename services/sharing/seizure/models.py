"""The table of seizures: what was cut off, why, what it took, and whether it was lifted."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Text
from sqlmodel import Field

from services.sharing.models import SharingTable


class Seizure(SharingTable, table=True):
    """One seizure of a client or a partner, and its lifting."""

    __tablename__ = "seizures"

    id: str = Field(primary_key=True, max_length=64)
    target_kind: str = Field(max_length=16)  # client | partner
    target_id: str = Field(max_length=64, index=True)
    partner_id: str = Field(max_length=64, index=True)
    # The target's status before the seizure: lifting restores it, never more.
    prior_status: str = Field(max_length=16)
    reason: str = Field(sa_type=Text)  # operator's words: kept here, not in the audit log
    status: str = Field(max_length=16)  # active | lifted
    counts: str = Field(sa_type=Text)  # JSON: what the seizure revoked, cancelled, withdrew
    created_at: datetime
    created_by: str = Field(max_length=128)
    lifted_at: datetime | None = None
    lifted_by: str | None = Field(default=None, max_length=128)
    lift_approval_id: str | None = Field(default=None, max_length=64)


SEIZURES = Seizure.__table__  # type: ignore[attr-defined]
