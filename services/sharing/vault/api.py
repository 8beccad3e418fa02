"""Report routes of the vault: list/search, read (optionally sealed), read log, grants, erasure."""

# No `from __future__ import annotations`: FastAPI reads the route annotations at runtime.

from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Path, Query
from fastapi.responses import JSONResponse

from libs.common.auth.fastapi import require_any_scope, require_scopes
from libs.common.auth.principal import Principal
from libs.common.auth.scopes import Scope
from libs.common.idempotent_routes import idempotent
from libs.common.paging import Lister, Page, encode_cursor, split_page
from libs.common.problems import problems
from libs.common.web import MAX_CURSOR
from services.sharing.approvals.domain import ApprovalAction
from services.sharing.approvals.schemas import PENDING_RESPONSE, pending
from services.sharing.deps import Actions, Gated, Grants, Reads, Sealed
from services.sharing.vault.domain import Search, legacy_cursor
from services.sharing.vault.filters import search_filters
from services.sharing.vault.schemas import (
    KID,
    REPORT_ID,
    Erased,
    GrantIn,
    GrantOut,
    ReadOut,
    ReportPage,
    ReportView,
    SealedDelivery,
)

router = APIRouter(prefix="/v1/reports", tags=["reports"])
# The sync feed, in update order; its cursors of the format before were `v1:<us>:<id>`.
REPORTS = Lister("reports", (int, str), default=50, maximum=200, legacy=legacy_cursor)
# A report's read log, oldest first; `after` (a read id, deprecated) named the same position.
# A report's grants, oldest first, by (created_at, id).
GRANTS = Lister("reports.grants", (datetime, str), default=200, maximum=1000)
READS = Lister("reports.reads", (int,), default=200, maximum=1000, replaces=("after",))

Reader = Annotated[Principal, Depends(require_scopes(Scope.REPORTS_READ))]
# Granting and erasing need `reports:manage` (a reader or partner administrator of the
# submitting partner) or `admin`: a write-only `reports:submit` key must never exfiltrate or
# destroy what it submitted.
Owner = Annotated[Principal, Depends(require_any_scope(Scope.REPORTS_MANAGE, Scope.ADMIN))]
# What reads back about a report (who read it, its grants) needs reading rights: a
# `reports:submit` client is write-only and sees nothing but its receipts.
OwnerReader = Annotated[Principal, Depends(require_any_scope(Scope.REPORTS_READ, Scope.ADMIN))]
ReportId = Annotated[str, Path(pattern=REPORT_ID)]
IdempotentOwner = Annotated[None, idempotent(Owner)]


@router.get(
    "",
    response_model=ReportPage,
    summary="List and search the reports the caller may see, in update order (sync cursor).",
)
async def list_reports(
    principal: Reader,
    reads: Reads,
    search: Annotated[Search, Depends(search_filters)],
    page: Annotated[Page, Depends(REPORTS.dependency())],
) -> dict[str, Any]:
    """Pre-filtered by policy in SQL, re-checked per report; filters only match visible fields.
    `next_cursor` is always there (keep it to ask for what changes later); `Link: rel=next`
    only when the page was full."""
    found = await reads.search(principal, search, page.position, page.limit)
    position = found.pop("position")
    cursor = page.follow(position) if found["has_more"] else None
    return {**found, "next_cursor": cursor or encode_cursor(REPORTS.name, position)}


@router.get(
    "/{report_id}",
    response_model=ReportView | SealedDelivery,
    response_model_exclude_unset=True,
    summary="One report with only the permitted fields; 404 if not visible, 410 once erased.",
    responses=problems(410),
)
async def get_report(
    report_id: ReportId,
    principal: Reader,
    reads: Reads,
    sealed: Sealed,
    sealed_to: Annotated[str | None, Query(pattern=KID)] = None,
) -> dict[str, Any]:
    """Withheld fields are absent and listed in `withheld`; `sealed_to` seals it to your key."""
    if sealed_to is None:
        return await reads.get(principal, report_id)
    return await sealed.get(principal, report_id, sealed_to)


@router.get(
    "/{report_id}/reads",
    response_model=list[ReadOut],
    summary="Who read a report of your partner, which fields and when (submitter only).",
)
async def report_reads(
    report_id: ReportId,
    principal: OwnerReader,
    reads: Reads,
    page: Annotated[Page, Depends(READS.dependency())],
    after: Annotated[int, Query(ge=0, le=MAX_CURSOR, deprecated=True)] = 0,
) -> list[dict[str, Any]]:
    """The read log of one report, oldest first; 404 for a report of another partner."""
    start = page.start((after,) if after else None)
    rows = await reads.reads(principal, report_id, start[0] if start else 0, page.limit + 1)
    rows, more = split_page(rows, page.limit)
    page.follow((rows[-1]["id"],) if more else None)
    return rows


@router.post(
    "/{report_id}/grants",
    status_code=201,
    response_model=GrantOut,
    summary="Grant fields of one report to another partner (the only way TLP:RED is shared).",
    responses=problems(410),
)
async def grant_report(
    report_id: ReportId, body: GrantIn, principal: Owner, _key: IdempotentOwner, grants: Grants
) -> dict[str, Any]:
    """Submitting partner or administrator; audited."""
    return await grants.grant(
        principal,
        report_id,
        partner_id=body.partner_id,
        fields=list(body.fields),
        role=body.role,
    )


@router.get(
    "/{report_id}/grants",
    response_model=list[GrantOut],
    summary="The per-report grants of a report (submitting partner or administrator).",
)
async def report_grants(
    report_id: ReportId,
    principal: OwnerReader,
    grants: Grants,
    page: Annotated[Page, Depends(GRANTS.dependency())],
) -> list[Any]:
    """Every grant of the report, oldest first."""
    found = await grants.grants(principal, report_id, page.position, page.limit + 1)
    rows, more = split_page(found, page.limit)
    page.follow((rows[-1]["created_at"], rows[-1]["id"]) if more else None)
    return rows


@router.delete(
    "/{report_id}",
    response_model=Erased,
    responses={**PENDING_RESPONSE, **problems(410)},
    summary="Erase a report by crypto-shredding its data key; later reads answer 410.",
)
async def erase_report(
    report_id: ReportId, principal: Owner, actions: Actions, gated: Gated
) -> dict[str, Any] | JSONResponse:
    """Submitting partner or administrator; audited; 202 while it awaits an operator's approval."""
    if await gated.required(ApprovalAction.ERASURE):
        return pending(await gated.ask_erasure(principal, report_id))
    return await actions.erase(principal, report_id)
