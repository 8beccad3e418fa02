"""Response bodies of the approval routes, and the 202 a gated route answers."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from fastapi.responses import JSONResponse
from pydantic import BaseModel

from services.sharing.approvals.repository import ApprovalRow


class ApprovalOut(BaseModel):
    """An approval: the exact request, who asked, who decided, and how the action ended."""

    id: str
    action: str
    target: str
    status: str
    request: dict[str, Any]
    requested_by: str
    requested_org: str
    requested_at: datetime
    expires_at: datetime
    decided_by: str | None
    decided_at: datetime | None
    outcome: dict[str, Any] | None

    @classmethod
    def of(cls, row: ApprovalRow) -> ApprovalOut:
        """From a stored approval."""
        return cls(
            id=row.id,
            action=row.action,
            target=row.target,
            status=row.status,
            request=row.request,
            requested_by=row.requester.client_id,
            requested_org=row.requester.partner_id,
            requested_at=row.requested_at,
            expires_at=row.expires_at,
            decided_by=row.decided_by,
            decided_at=row.decided_at,
            outcome=row.outcome,
        )


class Pending(BaseModel):
    """What a gated route answers (202): the approval the action now waits for."""

    approval: ApprovalOut


def pending(row: ApprovalRow) -> JSONResponse:
    """The 202 answer of a gated route: nothing happened yet."""
    body = Pending(approval=ApprovalOut.of(row)).model_dump(mode="json")
    return JSONResponse(body, status_code=202)


# For the gated routes' OpenAPI: what a 202 carries.
PENDING_RESPONSE: dict[int | str, dict[str, Any]] = {
    202: {"model": Pending, "description": "Waiting for a second operator's approval."}
}
