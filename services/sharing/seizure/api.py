"""Admin routes of seizure response: seize, list, show, lift (operator only)."""

# No `from __future__ import annotations`: FastAPI reads the route annotations at runtime.

from datetime import datetime
from typing import Annotated

from fastapi import APIRouter, Depends, Path, Query
from fastapi.responses import JSONResponse

from libs.common.paging import Lister, Page, split_page
from libs.common.problems import problems
from services.sharing.approvals.domain import ApprovalAction
from services.sharing.approvals.schemas import PENDING_RESPONSE, pending
from services.sharing.deps import AdminCaller, Gated, IdempotentAdmin, Seizures
from services.sharing.seizure.domain import SeizureStatus
from services.sharing.seizure.schemas import SeizureCreate, SeizureOut

router = APIRouter(prefix="/v1/admin/seizures", tags=["admin"])

SEIZURES = Lister("seizures", (datetime, str), default=200, maximum=1000)  # newest first
SeizureId = Annotated[str, Path(pattern=r"^szr_[0-9a-f]{16}$")]


@router.post(
    "",
    status_code=201,
    response_model=SeizureOut,
    summary="Seize a client or a partner: every key, token, delivery key and grant, at once.",
    responses=problems(409),
)
async def seize(
    body: SeizureCreate, caller: AdminCaller, _key: IdempotentAdmin, seizures: Seizures
) -> SeizureOut:
    """One transaction, one audit entry; revocations reach every service through the outbox."""
    row = await seizures.seize(caller.client_id, body.client_id, body.partner_id, body.reason)
    return SeizureOut.of(row)


@router.get("", response_model=list[SeizureOut], summary="List seizures, newest first.")
async def list_seizures(
    _: AdminCaller,
    seizures: Seizures,
    page: Annotated[Page, Depends(SEIZURES.dependency())],
    status: Annotated[SeizureStatus | None, Query()] = None,
) -> list[SeizureOut]:
    """Every seizure, or only the active (lifted) ones."""
    found = await seizures.listing(status, page.position, page.limit + 1)
    rows, more = split_page(found, page.limit)
    page.follow((rows[-1].created_at, rows[-1].id) if more else None)
    return [SeizureOut.of(r) for r in rows]


@router.get("/{seizure_id}", response_model=SeizureOut, summary="Show one seizure.")
async def get_seizure(seizure_id: SeizureId, _: AdminCaller, seizures: Seizures) -> SeizureOut:
    """The seizure, or 404."""
    return SeizureOut.of(await seizures.get(seizure_id))


@router.post(
    "/{seizure_id}/lift",
    response_model=SeizureOut,
    responses={**PENDING_RESPONSE, **problems(409)},
    summary="Lift a seizure; revoked keys stay revoked (the target enrols new ones).",
)
async def lift(
    seizure_id: SeizureId, caller: AdminCaller, seizures: Seizures, gated: Gated
) -> SeizureOut | JSONResponse:
    """The seizure as lifted (409 if it already is); 202 while it awaits a second operator."""
    if await gated.required(ApprovalAction.SEIZURE_LIFT):
        return pending(await gated.ask_lift(caller, seizure_id))
    return SeizureOut.of(await seizures.lift(caller.client_id, seizure_id))
