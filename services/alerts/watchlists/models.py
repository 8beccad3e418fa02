"""Tables of lawyers and their watchlists: entries and the token index matching reads."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Index, text
from sqlmodel import Field

from services.alerts.models import AlertsTable


class Lawyer(AlertsTable, table=True):
    """A lawyer is an API client (with lawyer scopes) that has a profile here."""

    __tablename__ = "lawyers"

    client_id: str = Field(primary_key=True, max_length=128)
    org_id: str = Field(max_length=128, index=True)
    # What the lawyer's emails and ack pages are written in (`delivery/messages`).
    language: str = Field(default="en", max_length=8)
    created_at: datetime
    updated_at: datetime


class WatchlistEntry(AlertsTable, table=True):
    """A lawyer's client, known here only by the lawyer's label and identity tokens."""

    __tablename__ = "watchlist_entries"
    __table_args__ = (
        # One live entry per label (imports are idempotent by label); removed ones keep theirs.
        Index(
            "uq_entries_lawyer_label_live",
            "lawyer_id",
            "label",
            unique=True,
            sqlite_where=text("removed_at IS NULL"),
            postgresql_where=text("removed_at IS NULL"),
        ),
    )

    id: str = Field(primary_key=True, max_length=36)
    lawyer_id: str = Field(max_length=128, index=True)
    org_id: str = Field(max_length=128)
    label: str = Field(max_length=200)
    incident_types: str = Field(max_length=512)
    legal_bases: str = Field(default="", max_length=512)
    countries: str = Field(default="", max_length=1024)
    token_count: int = 0
    created_at: datetime
    updated_at: datetime
    removed_at: datetime | None = None


class EntryToken(AlertsTable, table=True):
    """The token index: (value, key version) -> entry, so matching never scans the watchlist."""

    __tablename__ = "entry_tokens"
    __table_args__ = (Index("ix_entry_tokens_lookup", "value", "version"),)

    entry_id: str = Field(primary_key=True, max_length=36)
    kind: str = Field(primary_key=True, max_length=32)
    version: int = Field(primary_key=True)
    value: str = Field(primary_key=True, max_length=128)


LAWYERS = Lawyer.__table__  # type: ignore[attr-defined]
ENTRIES = WatchlistEntry.__table__  # type: ignore[attr-defined]
TOKENS = EntryToken.__table__  # type: ignore[attr-defined]
