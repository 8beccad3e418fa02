"""Admin routes of two-person approval: list, show, approve, deny (operators only)."""

# No `from __future__ import annotations`: FastAPI reads the route annotations at runtime.

from datetime import datetime
from typing import Annotated

from fastapi import APIRouter, Depends, Path, Query

from libs.common.paging import Lister, Page, split_page
from libs.common.problems import problems
from services.sharing.approvals.domain import ApprovalStatus
from services.sharing.approvals.schemas import ApprovalOut
from services.sharing.deps import AdminCaller, ApprovalsDep

router = APIRouter(prefix="/v1/admin/approvals", tags=["admin"])

APPROVALS = Lister("approvals", (datetime, str), default=200, maximum=1000)  # newest first
ApprovalId = Annotated[str, Path(pattern=r"^apr_[0-9a-f]{16}$")]


@router.get("", response_model=list[ApprovalOut], summary="List approvals, newest first.")
async def list_approvals(
    _: AdminCaller,
    approvals: ApprovalsDep,
    page: Annotated[Page, Depends(APPROVALS.dependency())],
    status: Annotated[ApprovalStatus | None, Query()] = None,
) -> list[ApprovalOut]:
    """Every approval (or those in one status); pending ones past their time show as expired."""
    rows, more = split_page(
        await approvals.listing(status, page.position, page.limit + 1), page.limit
    )
    page.follow((rows[-1].requested_at, rows[-1].id) if more else None)
    return [ApprovalOut.of(r) for r in rows]


@router.get("/{approval_id}", response_model=ApprovalOut, summary="Show one approval.")
async def get_approval(
    approval_id: ApprovalId, _: AdminCaller, approvals: ApprovalsDep
) -> ApprovalOut:
    """The approval, or 404."""
    return ApprovalOut.of(await approvals.get(approval_id))


@router.post(
    "/{approval_id}/approve",
    response_model=ApprovalOut,
    summary="Approve as a second operator: the action runs now, exactly once.",
    responses=problems(409),
)
async def approve(
    approval_id: ApprovalId, caller: AdminCaller, approvals: ApprovalsDep
) -> ApprovalOut:
    """403 `same_operator` for the requester itself; 409 once decided or expired."""
    return ApprovalOut.of(await approvals.approve(caller.client_id, approval_id))


@router.post(
    "/{approval_id}/deny",
    response_model=ApprovalOut,
    summary="Deny as a second operator: the action never runs.",
    responses=problems(409),
)
async def deny(
    approval_id: ApprovalId, caller: AdminCaller, approvals: ApprovalsDep
) -> ApprovalOut:
    """403 `same_operator` for the requester itself; 409 once decided or expired."""
    return ApprovalOut.of(await approvals.deny(caller.client_id, approval_id))
