"""Routes of retention: the network's periods and sweeps, and each partner's own periods."""

# No `from __future__ import annotations`: FastAPI reads the route annotations at runtime.

from typing import Annotated, Any

from fastapi import APIRouter, Path
from fastapi.responses import JSONResponse

from libs.common.errors import NotFound
from services.sharing.access.domain import managed_partner
from services.sharing.approvals.domain import ApprovalAction
from services.sharing.approvals.schemas import PENDING_RESPONSE, pending
from services.sharing.deps import AdminCaller, Gated, ManagerCaller, Retention
from services.sharing.retention.schemas import NetworkRetention, PartnerRetention, PeriodsIn

router = APIRouter(prefix="/v1/admin", tags=["retention"])

IdPath = Annotated[str, Path(pattern=r"^[A-Za-z0-9._~:-]{1,128}$")]


@router.get(
    "/retention",
    response_model=NetworkRetention,
    summary="The network's retention periods, the sweep's bounds and its last runs.",
)
async def network_retention(_: AdminCaller, retention: Retention) -> dict[str, Any]:
    """Report periods by TLP, the read log's period, and what the last sweeps ended."""
    return await retention.network()


@router.get(
    "/partners/{partner_id}/retention",
    response_model=PartnerRetention,
    summary="A partner's own report retention and the period each TLP has.",
)
async def partner_retention(
    partner_id: IdPath, caller: ManagerCaller, retention: Retention
) -> dict[str, Any]:
    """The operator for any partner, a partner administrator for its own (others: 404)."""
    within = managed_partner(caller)
    if within is not None and within != partner_id:
        raise NotFound("no such partner")
    return await retention.partner(partner_id)


@router.put(
    "/partners/{partner_id}/retention",
    response_model=PartnerRetention,
    responses=PENDING_RESPONSE,
    summary="Set a partner's report retention (days; per TLP); the sweep erases what is past it.",
)
async def set_partner_retention(
    partner_id: IdPath, body: PeriodsIn, caller: AdminCaller, retention: Retention, gated: Gated
) -> dict[str, Any] | JSONResponse:
    """Audited (`retention.set`); shortening waits for a second operator under
    `APPROVAL_ERASURE` (202), as an erasure would."""
    periods = body.periods()
    if await retention.shortens(partner_id, periods) and await gated.required(
        ApprovalAction.ERASURE
    ):
        return pending(await gated.ask_retention(caller, partner_id, periods))
    return await retention.set(caller.client_id, partner_id, periods)
