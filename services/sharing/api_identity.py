"""The OPRF evaluation endpoint: clients turn canonical identity keys into tokens, blindly."""

from __future__ import annotations

import asyncio
import time
from typing import Annotated

from fastapi import APIRouter, Depends, Request
from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy.exc import IntegrityError

from libs.common.auth.fastapi import require_any_scope
from libs.common.auth.principal import Principal
from libs.common.auth.scopes import Scope
from libs.common.db import transaction
from libs.common.errors import RateLimited
from libs.common.identity import oprf
from libs.common.inbox import utcnow
from libs.common.ratelimit import RateLimiter
from libs.common.runtime import Runtime
from services.sharing import audit_log
from services.sharing.keystore_prf import PrfKeyStore

router = APIRouter(prefix="/v1/identity", tags=["identity"])

Caller = Annotated[
    Principal, Depends(require_any_scope(Scope.REPORTS_SUBMIT, Scope.WATCHLIST_MANAGE))
]


class EvaluateRequest(BaseModel):
    """Blinded elements (base64url ristretto255) to evaluate under one PRF key version."""

    model_config = ConfigDict(extra="forbid")

    version: int | None = Field(default=None, ge=1)
    elements: list[str] = Field(min_length=1, max_length=oprf.MAX_BATCH)


class EvaluateResponse(BaseModel):
    """The evaluated elements, in order, and the key version used (label the tokens with it)."""

    version: int
    elements: list[str]


class PrfInfo(BaseModel):
    """Which PRF key version clients should tokenise with now."""

    current_version: int


@router.get("/prf", response_model=PrfInfo, summary="The PRF key version to tokenise with.")
async def prf_info(request: Request, _: Caller) -> PrfInfo:
    """The current key version (clients re-derive their tokens when it changes)."""
    store: PrfKeyStore = request.app.state.prf_keys
    assert store.ring.current is not None
    return PrfInfo(current_version=store.ring.current)


@router.post(
    "/evaluate",
    response_model=EvaluateResponse,
    summary="Evaluate blinded identity keys with the PRF key; rate-limited and audited by count.",
)
async def evaluate(body: EvaluateRequest, request: Request, principal: Caller) -> EvaluateResponse:
    """Blind evaluation: the server never sees the keys, the client never holds the PRF key."""
    limiter: RateLimiter = request.app.state.prf_limiter
    wait = limiter.take(principal.client_id, time.monotonic(), cost=len(body.elements))
    if wait:
        raise RateLimited(wait)
    store: PrfKeyStore = request.app.state.prf_keys
    elements = oprf.decode_elements(body.elements)
    version = body.version or store.ring.current
    # Scalar multiplications release the GIL: a large batch runs off the event loop.
    evaluated = await asyncio.to_thread(store.ring.evaluate, elements, version)
    await _audit(request.app.state.runtime, principal, len(elements), version)
    return EvaluateResponse(version=version or 0, elements=oprf.encode_elements(evaluated))


async def _audit(runtime: Runtime, principal: Principal, count: int, version: int | None) -> None:
    # The count only: the blinded elements are never stored or logged.
    for attempt in range(3):
        try:
            async with transaction(runtime.sessions) as session:
                await audit_log.append(
                    session,
                    actor=principal.client_id,
                    action="identity.evaluate",
                    target=f"prf:v{version}",
                    details={"count": count, "partner": principal.org},
                    now=utcnow(),
                )
            return
        except IntegrityError:
            # Two appends raced for the same chain position (SQLite); take the next one.
            if attempt == 2:
                raise
