"""Sealed-delivery routes: partners' HPKE keys, and sharing's public delivery-signing keys."""

# No `from __future__ import annotations`: FastAPI reads the route annotations at runtime.

from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Path

from libs.common.auth.fastapi import PUBLIC, require_scopes
from libs.common.auth.principal import Principal
from libs.common.auth.scopes import Scope
from libs.common.idempotent_routes import idempotent
from libs.common.paging import Lister, Page, split_page
from libs.common.problems import problems
from services.sharing.deps import DeliveryKeysDep, Signer
from services.sharing.vault.delivery.schemas import DeliveryKeyIn, DeliveryKeyOut, SigningKeysOut
from services.sharing.vault.schemas import KID

router = APIRouter(tags=["delivery"])

Reader = Annotated[Principal, Depends(require_scopes(Scope.REPORTS_READ))]
IdempotentReader = Annotated[None, idempotent(Reader)]
# Oldest first, by (created_at, kid).
KEYS = Lister("hpke-keys", (datetime, str), default=50, maximum=200)


@router.post(
    "/v1/partners/me/hpke-keys",
    status_code=201,
    response_model=DeliveryKeyOut,
    summary="Register an HPKE public key of your partner for sealed reads (hybrid suggested).",
    responses=problems(409),
)
async def add_key(
    body: DeliveryKeyIn, principal: Reader, _key: IdempotentReader, keys: DeliveryKeysDep
) -> dict[str, Any]:
    """`hpke-v1:pub:x25519:…` or `hpke-v1:pub:mlkem768x25519:…`; audited."""
    return await keys.register(principal, body.public_key)


@router.get(
    "/v1/partners/me/hpke-keys",
    response_model=list[DeliveryKeyOut],
    summary="Your partner's registered delivery keys.",
)
async def list_keys(
    principal: Reader, keys: DeliveryKeysDep, page: Annotated[Page, Depends(KEYS.dependency())]
) -> list[dict[str, Any]]:
    """Active keys, oldest first."""
    found = await keys.list_keys(principal, page.position, page.limit + 1)
    rows, more = split_page(found, page.limit)
    page.follow((rows[-1]["created_at"], rows[-1]["kid"]) if more else None)
    return rows


@router.delete(
    "/v1/partners/me/hpke-keys/{kid}",
    status_code=204,
    summary="Stop sealing reads to one of your partner's keys.",
)
async def revoke_key(
    kid: Annotated[str, Path(pattern=KID)], principal: Reader, keys: DeliveryKeysDep
) -> None:
    """404 for a key of another partner; audited."""
    await keys.revoke(principal, kid)


@router.get(
    "/.well-known/lifeline/delivery-signing-keys",
    response_model=SigningKeysOut,
    dependencies=[Depends(PUBLIC)],
    summary="Sharing's Ed25519 keys that sign sealed deliveries (pin them by fingerprint).",
)
async def signing_keys(signer: Signer) -> dict[str, Any]:
    """Public halves only."""
    return {"keys": signer.public_keys()}
