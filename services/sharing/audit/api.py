"""Routes of the audit log: admins read and verify it; every client can witness its checkpoints."""

# No `from __future__ import annotations`: FastAPI reads the route annotations at runtime.

from datetime import UTC, datetime
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, Query

from libs.common.auth.fastapi import require_any_scope
from libs.common.auth.scopes import ALL_SCOPES
from libs.common.paging import Lister, Page
from libs.common.problems import problems
from libs.common.web import MAX_CURSOR
from services.sharing.audit.repository import Filter
from services.sharing.audit.schemas import (
    AuditEntryOut,
    AuditPage,
    AuditVerification,
    Consistency,
    SignedCheckpoint,
)
from services.sharing.deps import AdminCaller, Audit

router = APIRouter(tags=["audit"])

# Any registered client may witness (a partner's submitter as much as its reader): the
# checkpoint says how many entries the log has and their tree head, nothing about any entry.
Witness = Depends(require_any_scope(*ALL_SCOPES))
TreeSize = Annotated[int, Query(ge=0, le=MAX_CURSOR)]
# By seq, either way (`order`); `after` and `before` (deprecated) named the same seq.
AUDIT = Lister("audit", (int,), default=200, maximum=1000, replaces=("after", "before"))


def _utc(moment: datetime | None) -> datetime | None:
    # A time without an offset is read as UTC, as every time in the log is.
    return moment.replace(tzinfo=UTC) if moment and moment.tzinfo is None else moment


@router.get(
    "/v1/admin/audit",
    response_model=AuditPage,
    summary="Read the audit log, oldest first (or, with `order=desc`, newest first); filter it.",
)
async def audit(
    _: AdminCaller,
    audit_log: Audit,
    page: Annotated[Page, Depends(AUDIT.dependency())],
    *,
    order: Annotated[Literal["asc", "desc"], Query()] = "asc",
    after: Annotated[int, Query(ge=0, le=MAX_CURSOR, deprecated=True)] = 0,
    before: Annotated[int | None, Query(ge=1, le=MAX_CURSOR, deprecated=True)] = None,
    action: Annotated[str | None, Query(pattern=r"^[a-z_.]{1,64}$")] = None,
    actor: Annotated[str | None, Query(min_length=1, max_length=128)] = None,
    target: Annotated[str | None, Query(min_length=1, max_length=128)] = None,
    since: datetime | None = None,
    until: datetime | None = None,
) -> AuditPage:
    """Entries by seq, oldest first (`order=desc`: newest first); follow `Link: rel=next`.
    `action` and `target` match by their beginning."""
    where = Filter(action, actor, target, _utc(since), _utc(until))
    desc = order == "desc"
    legacy = before if desc else after
    start = page.start((legacy,) if legacy else None)
    seq = start[0] if start else None
    if desc:
        bound = MAX_CURSOR if seq is None else seq
        entries = await audit_log.page(after, page.limit, before=bound, where=where)
    else:
        entries = await audit_log.page(seq or 0, page.limit, where=where)
    # A full page: more may follow (an empty last page may answer the next request).
    last = entries[-1]["seq"] if len(entries) == page.limit else None
    return AuditPage(
        entries=[AuditEntryOut(**e) for e in entries],
        next_cursor=page.follow(None if last is None else (last,)),
        next_after=None if desc else last,
        next_before=last if desc else None,
    )


@router.get(
    "/v1/admin/audit/verify",
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


@router.get(
    "/v1/audit/checkpoint",
    response_model=SignedCheckpoint,
    dependencies=[Witness],
    summary="The audit log's signed tree head now: keep it to detect a later rewrite.",
)
async def checkpoint(audit_log: Audit) -> dict[str, Any]:
    """`{origin, size, root_hash, time}` signed with sharing's audit key, and that key."""
    return await audit_log.checkpoint()


@router.get(
    "/v1/audit/consistency",
    response_model=Consistency,
    dependencies=[Witness],
    summary="Proof that the log of size `first` is a prefix of the log of size `second`.",
    responses=problems(409),
)
async def consistency(first: TreeSize, second: TreeSize, audit_log: Audit) -> Consistency:
    """RFC 9162 consistency proof (hex hashes); 409 if the log holds fewer than `second`."""
    proof = await audit_log.consistency(first, second)
    return Consistency(first=first, second=second, proof=proof)
