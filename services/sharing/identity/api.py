"""The OPRF evaluation endpoint: clients turn canonical identity keys into tokens, blindly."""

# No `from __future__ import annotations`: FastAPI reads the route annotations at runtime.

from typing import Annotated

from fastapi import APIRouter, Depends, Response

from libs.common.auth.fastapi import require_any_scope
from libs.common.auth.principal import Principal
from libs.common.auth.scopes import Scope
from services.sharing.deps import Prf
from services.sharing.identity.quota import ratelimit_headers
from services.sharing.identity.schemas import EvaluateRequest, EvaluateResponse, PrfInfo

router = APIRouter(prefix="/v1/identity", tags=["identity"])

Caller = Annotated[
    Principal, Depends(require_any_scope(Scope.REPORTS_SUBMIT, Scope.WATCHLIST_MANAGE))
]


@router.get("/prf", response_model=PrfInfo, summary="The PRF key version to tokenise with.")
async def prf_info(_: Caller, prf: Prf) -> PrfInfo:
    """The current key version (clients re-derive their tokens when it changes)."""
    return PrfInfo(current_version=prf.current_version())


@router.post(
    "/evaluate",
    response_model=EvaluateResponse,
    summary="Evaluate blinded identity keys with the PRF key; under quota and audited by count.",
    responses={429: {"description": "A client or partner quota is spent (see RateLimit)."}},
)
async def evaluate(
    body: EvaluateRequest, principal: Caller, prf: Prf, response: Response
) -> EvaluateResponse:
    """Blind evaluation: the server never sees the keys, the client never holds the PRF key."""
    evaluated = await prf.evaluate(principal, body.elements, body.version)
    response.headers.update(ratelimit_headers(evaluated.windows))
    return EvaluateResponse(version=evaluated.version, elements=evaluated.elements)
