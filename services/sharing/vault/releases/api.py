"""Routes of release requests: the submitter lists, approves or denies what lawyers asked for."""

# No `from __future__ import annotations`: FastAPI reads the route annotations at runtime.

from datetime import datetime
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Body, Depends, Path

from libs.common.auth.fastapi import require_any_scope
from libs.common.auth.principal import Principal
from libs.common.auth.scopes import Scope
from libs.common.paging import Lister, Page
from libs.common.problems import problems
from services.sharing.deps import ReleasesDep
from services.sharing.vault.releases.schemas import ApproveIn, ReleaseRequestList, ReleaseRequestOut

router = APIRouter(prefix="/v1/release-requests", tags=["release requests"])

# Deciding what leaves a partner is granting: `reports:manage` (its readers and partner
# administrators) or the operator's `admin`; lawyers and write-only keys decide nothing.
Decider = Annotated[Principal, Depends(require_any_scope(Scope.REPORTS_MANAGE, Scope.ADMIN))]
RELEASES = Lister("release-requests", (datetime, str), default=50, maximum=200)  # newest first
RequestId = Annotated[str, Path(pattern=r"^[0-9a-f-]{36}$")]


@router.get(
    "",
    response_model=ReleaseRequestList,
    summary="Requests to release alert details of the caller's partner's reports, newest first.",
)
async def list_requests(
    principal: Decider,
    releases: ReleasesDep,
    page: Annotated[Page, Depends(RELEASES.dependency())],
    status: Literal["pending", "released", "approved", "denied", "withdrawn"] | None = None,
) -> dict[str, Any]:
    """Who asked (organisation and lawyer), when, for which fields, and what was decided."""
    found, last = await releases.listing(principal, status, page.position, page.limit)
    return {"requests": found, "next_cursor": page.follow(last)}


@router.post(
    "/{request_id}/approve",
    response_model=ReleaseRequestOut,
    summary="Release the fields (a per-report grant to the organisation's lawyers); audited.",
    responses=problems(409, 410),
)
async def approve(
    request_id: RequestId,
    principal: Decider,
    releases: ReleasesDep,
    body: Annotated[ApproveIn | None, Body()] = None,
) -> dict[str, Any]:
    """The lawyer's alert gets the details at once (`alert.updated`)."""
    fields = body.fields if body is not None else None
    return await releases.approve(principal, request_id, fields)


@router.post(
    "/{request_id}/deny",
    response_model=ReleaseRequestOut,
    summary="Refuse the request; audited. The lawyer is told it was refused.",
    responses=problems(409, 410),
)
async def deny(request_id: RequestId, principal: Decider, releases: ReleasesDep) -> dict[str, Any]:
    """Nothing more is released; what a policy released stays."""
    return await releases.deny(principal, request_id)
