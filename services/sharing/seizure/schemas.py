"""Request and response bodies of the seizure routes."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from pydantic import BaseModel, StringConstraints

from services.sharing.access.schemas import Id, Strict
from services.sharing.seizure.domain import Taken
from services.sharing.seizure.repository import SeizureRow

# Free text for the record, kept in the seizure row only: never logged, never in the audit log.
Reason = Annotated[
    str,
    StringConstraints(
        strip_whitespace=True,
        min_length=1,
        max_length=1000,
        pattern=r"^[^\x00-\x08\x0b-\x1f\x7f]+$",
    ),
]


class SeizureCreate(Strict):
    """Seize one client or one partner (exactly one of the two ids)."""

    client_id: Id | None = None
    partner_id: Id | None = None
    reason: Reason


class SeizureOut(BaseModel):
    """A seizure: its target, what it took, and whether it was lifted."""

    id: str
    target_kind: str
    target_id: str
    partner_id: str
    status: str
    reason: str
    counts: dict[str, int]
    taken: dict[str, list[str]]
    created_at: datetime
    created_by: str
    lifted_at: datetime | None
    lifted_by: str | None
    lift_approval_id: str | None

    @classmethod
    def of(cls, row: SeizureRow) -> SeizureOut:
        """From a stored seizure."""
        return cls(
            id=row.id,
            target_kind=row.target_kind,
            target_id=row.target_id,
            partner_id=row.partner_id,
            status=row.status,
            reason=row.reason,
            counts=Taken(**row.taken).counts(),
            taken=row.taken,
            created_at=row.created_at,
            created_by=row.created_by,
            lifted_at=row.lifted_at,
            lifted_by=row.lifted_by,
            lift_approval_id=row.lift_approval_id,
        )
