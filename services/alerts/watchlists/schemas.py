"""Request and response bodies of the watchlist API."""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import BaseModel, Field

from libs.common.reports import Country, IdentityToken, IncidentType, LegalBasis, Line
from libs.common.schemas import Strict


class RuleIn(Strict):
    """When an entry alerts; omitted incident types mean the default set."""

    incident_types: list[IncidentType] | None = Field(default=None, min_length=1, max_length=12)
    legal_bases: list[LegalBasis] = Field(default_factory=list, max_length=8)
    countries: list[Country] = Field(default_factory=list, max_length=250)


class RuleOut(BaseModel):
    """An entry's rule (empty legal bases or countries = any)."""

    incident_types: list[str]
    legal_bases: list[str]
    countries: list[str]


class EntryIn(Strict):
    """A watchlist entry: the lawyer's label and the client's identity tokens, never a name."""

    label: Line
    tokens: list[IdentityToken] = Field(min_length=1, max_length=32)
    rule: RuleIn | None = None
    # Re-adding a label with other tokens or rule is a conflict unless this is set.
    replace: bool = False


class SuppressionOut(BaseModel):
    """ "Not my client": reports about that person no longer alert this entry (lift to undo)."""

    id: str
    alert_id: str  # the alert resolved "not my client"
    created_at: datetime
    created_by: str
    suppressed: int  # matches it kept from alerting since
    last_suppressed_at: datetime | None


class EntryOut(BaseModel):
    """A watchlist entry as the lawyer sees it (tokens are not returned)."""

    id: str
    label: str
    rule: RuleOut
    token_count: int
    created_at: datetime
    updated_at: datetime
    status: Literal["created", "unchanged", "replaced"] | None = None
    # Shown by `GET /v1/watchlist/entries/{id}` only (a list leaves them out).
    suppressions: list[SuppressionOut] | None = None


class EntryPage(BaseModel):
    """One page of entries, ordered by id; `next_cursor` asks for the next."""

    entries: list[EntryOut]
    next_cursor: str | None = Field(description="the next page's `cursor`; null on the last page")
    next_after: str | None = Field(deprecated=True, description="deprecated: use `next_cursor`")
