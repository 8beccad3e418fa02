"""The search filters a listing and an export take, as one FastAPI dependency."""

# No `from __future__ import annotations`: FastAPI reads the annotations at runtime.

from datetime import date
from typing import Annotated

from fastapi import Query

from libs.common.reports import IncidentType, LegalBasis
from services.sharing.vault.domain import Search, validate_dates


def search_filters(
    country: Annotated[str | None, Query(pattern=r"^[A-Z]{2}$")] = None,
    incident_type: IncidentType | None = None,
    legal_basis: LegalBasis | None = None,
    occurred_from: date | None = None,
    occurred_to: date | None = None,
) -> Search:
    """Filters on the clear columns; each only matches reports whose field the caller sees."""
    validate_dates(occurred_from, occurred_to)
    return Search(
        country=country,
        incident_type=None if incident_type is None else incident_type.value,
        legal_basis=None if legal_basis is None else legal_basis.value,
        occurred_from=occurred_from,
        occurred_to=occurred_to,
    )
