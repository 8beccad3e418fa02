"""Admin routes of the audit log: read it page by page, and recompute its hash chain."""

# No `from __future__ import annotations`: FastAPI reads the route annotations at runtime.

from typing import Annotated

from fastapi import APIRouter, Query

from services.sharing.audit.schemas import AuditEntryOut, AuditPage, AuditVerification
from services.sharing.deps import AdminCaller, Audit

router = APIRouter(prefix="/v1/admin", tags=["admin"])


@router.get("/audit", response_model=AuditPage, summary="Read the audit log, oldest first.")
async def audit(
    _: AdminCaller,
    audit_log: Audit,
    after: Annotated[int, Query(ge=0)] = 0,
    limit: Annotated[int, Query(ge=1, le=1000)] = 200,
) -> AuditPage:
    """Entries with seq > `after`; `next_after` is set while more may follow."""
    entries = await audit_log.page(after, limit)
    next_after = entries[-1]["seq"] if len(entries) == limit else None
    return AuditPage(entries=[AuditEntryOut(**e) for e in entries], next_after=next_after)


@router.get(
    "/audit/verify",
    response_model=AuditVerification,
    summary="Recompute the audit hash chain and report the first broken entry.",
)
async def verify_audit(_: AdminCaller, audit_log: Audit) -> AuditVerification:
    """ok=false names the first entry that was edited, removed or reordered."""
    result = await audit_log.verify()
    broken = result.broken
    return AuditVerification(
        ok=result.ok,
        checked=result.checked,
        head=result.head,
        broken_seq=None if broken is None else broken.seq,
        detail=f"{result.checked} entries verified" if broken is None else broken.describe(),
    )
