"""Sharing's public key material: the HPKE keys intake seals reports to."""

# No `from __future__ import annotations`: FastAPI reads the route annotations at runtime.

from fastapi import APIRouter, Depends
from pydantic import BaseModel

from libs.common.auth.fastapi import PUBLIC
from services.sharing.deps import SealingKeyFile

router = APIRouter(tags=["keys"], dependencies=[Depends(PUBLIC)])


class SealingKeyView(BaseModel):
    """One public sealing key; intake accepts it only if its fingerprint is pinned."""

    kid: str
    public_key: str
    fingerprint: str
    state: str


class SealingKeys(BaseModel):
    """The active sealing key first, then retiring ones."""

    keys: list[SealingKeyView]


@router.get(
    "/.well-known/lifeline/hpke-keys",
    response_model=SealingKeys,
    summary="Public HPKE keys that intake seals reports to (pin them by fingerprint).",
)
async def sealing_keys(store: SealingKeyFile) -> SealingKeys:
    """The public halves of sharing's sealing keys."""
    return SealingKeys(keys=[SealingKeyView(**k) for k in store.public_keys()])
