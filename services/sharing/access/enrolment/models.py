"""The table of enrolment codes (hashes only) and what each one enrolled."""

from __future__ import annotations

from datetime import datetime

from sqlmodel import Field

from services.sharing.models import SharingTable


class Enrolment(SharingTable, table=True):
    """One one-time enrolment code for one client; the code itself is never stored."""

    __tablename__ = "enrolments"

    id: str = Field(primary_key=True, max_length=64)
    client_id: str = Field(foreign_key="api_clients.id", index=True, max_length=64)
    code_hash: str = Field(max_length=64, unique=True)
    status: str = Field(max_length=16)  # open | used | cancelled
    created_at: datetime
    created_by: str = Field(max_length=128)
    expires_at: datetime
    ended_at: datetime | None = None  # used or cancelled
    kid: str | None = Field(default=None, max_length=64)  # the key it enrolled


ENROLMENTS = Enrolment.__table__  # type: ignore[attr-defined]
