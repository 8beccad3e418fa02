"""Admin routes for sharing policies: show, set, diff, explain (every change audited)."""

# No `from __future__ import annotations`: FastAPI reads the route annotations at runtime.

from typing import Annotated, Any

from fastapi import APIRouter, Body, Path, Query
from fastapi.responses import JSONResponse

from libs.common.problems import problems
from services.sharing.approvals.domain import ApprovalAction
from services.sharing.approvals.schemas import PENDING_RESPONSE, pending
from services.sharing.deps import AdminCaller, Gated, Policies
from services.sharing.vault.policy.schemas import Explanation, PolicyList, PolicySet
from services.sharing.vault.schemas import REPORT_ID

router = APIRouter(prefix="/v1/admin", tags=["policies"])

PartnerPath = Annotated[str, Path(pattern=r"^[A-Za-z0-9._:-]{1,64}$")]
# `*` names the partner-wide policy (the document's `role: null`).
RoleQuery = Annotated[str | None, Query(pattern=r"^(\*|[a-z][a-z0-9_]{0,31})$")]
Document = Annotated[dict[str, Any], Body(description="A policy document (see docs/policies.md)")]


@router.get(
    "/policies/{partner_id}",
    response_model=PolicyList,
    summary="A reading partner's policies (all roles, or `role`; `*` = partner-wide).",
)
async def show_policies(
    partner_id: PartnerPath, _: AdminCaller, policies: Policies, role: RoleQuery = None
) -> dict[str, Any]:
    """Stored documents with version and last change; none means default deny."""
    return {"partner": partner_id, "policies": await policies.show(partner_id, role)}


@router.put(
    "/policies/{partner_id}",
    response_model=PolicySet,
    responses={**PENDING_RESPONSE, **problems(409)},
    summary="Replace the policy of a partner (and the document's role); audited with its diff.",
)
async def set_policy(
    partner_id: PartnerPath,
    document: Document,
    caller: AdminCaller,
    policies: Policies,
    gated: Gated,
) -> dict[str, Any] | JSONResponse:
    """Strictly parsed: no wildcard fields, RED never grantable; 202 while awaiting approval."""
    if await gated.required(ApprovalAction.POLICY_CHANGE):
        return pending(await gated.ask_policy(caller, partner_id, document))
    return await policies.put(caller.client_id, partner_id, document)


@router.post(
    "/policies/{partner_id}/diff",
    response_model=PolicySet,
    summary="What replacing the policy with this document would change (nothing is stored).",
)
async def diff_policy(
    partner_id: PartnerPath, document: Document, _: AdminCaller, policies: Policies
) -> dict[str, Any]:
    """The canonical form of the document and the readable changes."""
    return await policies.diff(partner_id, document)


@router.get(
    "/explain",
    response_model=Explanation,
    summary="Why can (or can't) partner X, as a role, see field Y of report Z.",
)
async def explain(
    _: AdminCaller,
    policies: Policies,
    partner: Annotated[str, Query(pattern=r"^[A-Za-z0-9._:-]{1,64}$")],
    report_id: Annotated[str, Query(pattern=REPORT_ID)],
    field: Annotated[str, Query(max_length=32)],
    role: Annotated[str | None, Query(pattern=r"^[a-z][a-z0-9_]{0,31}$")] = None,
) -> dict[str, Any]:
    """The verdict, then one line per candidate grant; the partner's own policies only."""
    return await policies.explain(partner, role, report_id, field)
