"""Tables of who-may-read: reading partners' policy documents and per-report grants."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Text
from sqlmodel import Field

from services.sharing.models import SharingTable


class VaultPolicy(SharingTable, table=True):
    """A reading partner's policy document for one role (`*` = every client of the partner)."""

    __tablename__ = "vault_policies"

    partner_id: str = Field(primary_key=True, max_length=64)
    role: str = Field(primary_key=True, max_length=32)
    document: str = Field(sa_type=Text)
    version: int
    updated_at: datetime
    updated_by: str = Field(max_length=128)


class VaultReportGrant(SharingTable, table=True):
    """One report granted to one partner (optionally one role): the only way RED is shared."""

    __tablename__ = "vault_report_grants"

    id: str = Field(primary_key=True, max_length=36)
    report_id: str = Field(max_length=36, index=True)
    partner_id: str = Field(max_length=64, index=True)
    role: str | None = Field(default=None, max_length=32)
    fields: str = Field(sa_type=Text)  # space-separated field names
    created_at: datetime
    created_by: str = Field(max_length=128)


POLICIES = VaultPolicy.__table__  # type: ignore[attr-defined]
REPORT_GRANTS = VaultReportGrant.__table__  # type: ignore[attr-defined]
