"""Enrolment routes: codes for a client (admin), a device enrolling its key (public), confirm."""

# No `from __future__ import annotations`: FastAPI reads the route annotations at runtime.

from datetime import datetime
from typing import Annotated

from fastapi import APIRouter, Depends, Path, Request, Response
from fastapi.responses import JSONResponse

from libs.common.auth.fastapi import PUBLIC
from libs.common.paging import Lister, Page, split_page
from libs.common.problems import problems
from services.sharing.access.domain import managed_partner
from services.sharing.access.enrolment.schemas import (
    Enrolled,
    EnrolmentIssued,
    EnrolmentOut,
    EnrolRequest,
    KeyConfirm,
)
from services.sharing.access.schemas import KeyOut
from services.sharing.approvals.domain import ApprovalAction
from services.sharing.approvals.schemas import PENDING_RESPONSE, pending
from services.sharing.deps import EnrolmentsDep, Gated, IdempotentSecret, ManagerCaller, Tokens

router = APIRouter(tags=["enrolment"])
ENROLMENTS = Lister("enrolments", (datetime, str), default=200, maximum=1000)  # newest first

IdPath = Annotated[str, Path(pattern=r"^[A-Za-z0-9._~:-]{1,128}$")]
Kid = Annotated[str, Path(pattern=r"^[A-Za-z0-9_-]{1,64}$")]
_NO_STORE = {"Cache-Control": "no-store", "Pragma": "no-cache"}


@router.post(
    "/v1/admin/clients/{client_id}/enrolments",
    status_code=201,
    response_model=EnrolmentIssued,
    summary="Make a one-time enrolment code with which a device registers its own key.",
    responses=problems(409),
)
async def create_enrolment(
    client_id: IdPath,
    caller: ManagerCaller,
    _key: IdempotentSecret,
    enrolments: EnrolmentsDep,
    response: Response,
) -> EnrolmentIssued:
    """The code and its link, shown once (only its hash is kept)."""
    issued = await enrolments.create(caller.client_id, client_id, within=managed_partner(caller))
    response.headers.update(_NO_STORE)
    return EnrolmentIssued.of(issued)


@router.get(
    "/v1/admin/clients/{client_id}/enrolments",
    response_model=list[EnrolmentOut],
    summary="List a client's enrolment codes (never the codes themselves).",
)
async def list_enrolments(
    client_id: IdPath,
    caller: ManagerCaller,
    enrolments: EnrolmentsDep,
    page: Annotated[Page, Depends(ENROLMENTS.dependency())],
) -> list[EnrolmentOut]:
    """Newest first, with each code's status (open, used, cancelled, expired)."""
    found = await enrolments.listing(
        client_id, within=managed_partner(caller), after=page.position, limit=page.limit + 1
    )
    rows, more = split_page(found, page.limit)
    page.follow((rows[-1].created_at, rows[-1].id) if more else None)
    now = enrolments.now()
    return [EnrolmentOut.of(r, now) for r in rows]


@router.delete(
    "/v1/admin/clients/{client_id}/enrolments/{enrolment_id}",
    response_model=EnrolmentOut,
    summary="Cancel an enrolment code that was not used yet.",
)
async def cancel_enrolment(
    client_id: IdPath, enrolment_id: IdPath, caller: ManagerCaller, enrolments: EnrolmentsDep
) -> EnrolmentOut:
    """The enrolment as it now stands."""
    row = await enrolments.cancel(
        caller.client_id, client_id, enrolment_id, within=managed_partner(caller)
    )
    return EnrolmentOut.of(row, enrolments.now())


async def _per_source(request: Request, enrolments: EnrolmentsDep, tokens: Tokens) -> None:
    # A dependency runs before the body is validated: malformed requests count as well.
    peer = request.client.host if request.client else None
    enrolments.check_source(tokens.limits.source_of(peer, request.headers.get("x-forwarded-for")))


@router.post(
    "/v1/enrol",
    status_code=201,
    response_model=Enrolled,
    dependencies=[Depends(PUBLIC), Depends(_per_source)],
    responses=problems(401, 429),
    summary="Register this device's public key with an enrolment code (it stays pending).",
)
async def enrol(body: EnrolRequest, enrolments: EnrolmentsDep) -> JSONResponse:
    """Public: the code is the credential; any code that cannot enrol gets one same 401."""
    key = await enrolments.enrol(body.code, body.public_key, body.device_name)
    out = KeyOut.of(key, enrolments.now())
    body_out = Enrolled(
        kid=out.kid, client_id=out.client_id, fingerprint=out.fingerprint, status=out.status
    )
    return JSONResponse(body_out.model_dump(), status_code=201, headers=_NO_STORE)


@router.post(
    "/v1/admin/keys/{kid}/confirm",
    response_model=KeyOut,
    responses={**PENDING_RESPONSE, **problems(409)},
    summary="Confirm an enrolled key with the fingerprint its device shows; a mismatch kills it.",
)
async def confirm_key(
    kid: Kid, body: KeyConfirm, caller: ManagerCaller, enrolments: EnrolmentsDep, gated: Gated
) -> KeyOut | JSONResponse:
    """The key, now active; 409 (and the key revoked) on a wrong fingerprint; 202 if gated."""
    within = managed_partner(caller)
    if await gated.required(ApprovalAction.KEY_REGISTRATION):
        # Confirming is what makes the key sign: it is a key registration.
        return pending(await gated.ask_confirm(caller, kid, body.fingerprint, within))
    key = await enrolments.confirm(caller.client_id, kid, body.fingerprint, within=within)
    return KeyOut.of(key, enrolments.now())
