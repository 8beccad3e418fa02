"""The OPRF evaluation endpoint: clients turn canonical identity keys into tokens, blindly."""

# No `from __future__ import annotations`: FastAPI reads the route annotations at runtime.

from typing import Annotated

from fastapi import APIRouter, Depends, Path, Response

from libs.common.auth.fastapi import require_any_scope
from libs.common.auth.principal import Principal
from libs.common.auth.scopes import Scope
from libs.common.openapi import RATE_LIMITED
from libs.common.problems import problems
from services.sharing.deps import AdminCaller, Prf
from services.sharing.identity.quota import ratelimit_headers
from services.sharing.identity.schemas import (
    EvaluateRequest,
    EvaluateResponse,
    PrfInfo,
    PrfRetired,
    PrfRotated,
)

router = APIRouter(prefix="/v1/identity", tags=["identity"])
admin = APIRouter(prefix="/v1/admin/identity", tags=["admin"])
Version = Annotated[int, Path(ge=1, le=1_000_000)]

Caller = Annotated[
    Principal, Depends(require_any_scope(Scope.REPORTS_SUBMIT, Scope.WATCHLIST_MANAGE))
]


@router.get(
    "/prf",
    response_model=PrfInfo,
    summary="The PRF key version to tokenise with, and the canonicaliser version bound to it.",
)
async def prf_info(_: Caller, prf: Prf) -> PrfInfo:
    """Clients re-derive their tokens when the key version changes, and refuse to tokenise
    when their canonicaliser version is not this one (`identity_rules_outdated`)."""
    current, canonical = prf.info()
    return PrfInfo(current_version=current, canonical_version=canonical)


@admin.post(
    "/prf/rotate",
    response_model=PrfRotated,
    summary="A new current PRF key version bound to sharing's canonicaliser version.",
)
async def prf_rotate(caller: AdminCaller, prf: Prf) -> PrfRotated:
    """Clients then tokenise under the new version; old tokens keep meeting old ones."""
    return PrfRotated(**await prf.rotate(caller))


@admin.post(
    "/prf/{version}/retire",
    response_model=PrfRetired,
    responses=problems(409),
    summary="Destroy an old PRF key version's seed; 409 while it is the current one.",
)
async def prf_retire(version: Version, caller: AdminCaller, prf: Prf) -> PrfRetired:
    """Irreversible: its tokens can never be evaluated again."""
    return PrfRetired(**await prf.retire(caller, version))


@router.post(
    "/evaluate",
    response_model=EvaluateResponse,
    summary="Evaluate blinded identity keys with the PRF key; under quota and audited by count.",
    responses={429: {"description": "A client or partner quota is spent (see RateLimit)."}},
    openapi_extra={RATE_LIMITED: True},
)
async def evaluate(
    body: EvaluateRequest, principal: Caller, prf: Prf, response: Response
) -> EvaluateResponse:
    """Blind evaluation: the server never sees the keys, the client never holds the PRF key."""
    evaluated = await prf.evaluate(principal, body.elements, body.version)
    response.headers.update(ratelimit_headers(evaluated.windows))
    return EvaluateResponse(version=evaluated.version, elements=evaluated.elements)
