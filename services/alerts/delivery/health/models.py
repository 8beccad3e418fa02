"""The table of warnings: one row per episode (a contact failing, a lawyer unreachable)."""

from __future__ import annotations

from datetime import datetime

from sqlmodel import Field

from services.alerts.models import AlertsTable


class ContactWarning(AlertsTable, table=True):
    """What one warning says; its deliveries (`kind` contact_warning) carry its id as alert id."""

    __tablename__ = "contact_warnings"

    id: str = Field(primary_key=True, max_length=36)
    lawyer_id: str = Field(max_length=128, index=True)  # whose contact, or who is unreachable
    org_id: str = Field(max_length=128)
    contact_id: str | None = Field(default=None, max_length=36)  # None: about the lawyer
    channel: str = Field(max_length=16)  # the contact's kind ("" for an unreachable lawyer)
    name: str | None = Field(default=None, max_length=100)  # the contact's name, never address
    problem: str = Field(max_length=16)  # failing | key_expiring | key_expired | unreachable
    created_at: datetime
    ended_at: datetime | None = None  # an unreachable lawyer's episode ends when one works


WARNINGS = ContactWarning.__table__  # type: ignore[attr-defined]
