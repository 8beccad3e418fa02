"""Routes for the vault's keys: KEK and sealing-key admin, and the public sealing keys."""

# No `from __future__ import annotations`: FastAPI reads the route annotations at runtime.

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Path, Query

from libs.common.auth.fastapi import PUBLIC
from libs.common.crypto.hpke_keys import HpkeSuite
from libs.common.problems import problems
from services.sharing.deps import AdminCaller, SealingKeyFile, VaultKeys
from services.sharing.vault.keys.schemas import (
    KekRotateIn,
    SealingKeys,
    SealingKeyView,
    SealingRotateIn,
)

router = APIRouter(prefix="/v1/admin/vault", tags=["vault keys"])
# Sharing's public key material: the HPKE keys intake seals reports to.
well_known = APIRouter(tags=["keys"], dependencies=[Depends(PUBLIC)])

Version = Annotated[int, Path(ge=1, le=1_000_000)]
_SUITES = {suite.label: suite for suite in HpkeSuite}


@router.get("/keys", summary="KEK versions (with data-key counts) and intake-sealing keys.")
async def key_status(_: AdminCaller, keys: VaultKeys) -> dict[str, Any]:
    """No key material: versions, states, counts, fingerprints, last use."""
    return await keys.status()


@router.post("/kek/rotate", summary="Stage a new KEK version and promote it to primary.")
async def rotate_kek(body: KekRotateIn, caller: AdminCaller, keys: VaultKeys) -> dict[str, Any]:
    """New data keys are wrapped under the new version at once; old ones until rewrapped."""
    return await keys.rotate_kek(caller.client_id, promote=body.promote)


@router.post(
    "/kek/{version}/promote",
    responses=problems(409),
    summary="Make a staged KEK version the primary.",
)
async def promote_kek(version: Version, caller: AdminCaller, keys: VaultKeys) -> dict[str, Any]:
    """The former primary stays active for unwrapping."""
    return await keys.promote_kek(caller.client_id, version)


@router.post(
    "/kek/rewrap",
    summary="Rewrap data keys under the primary KEK for up to `budget_s`; repeat until done.",
)
async def rewrap(
    caller: AdminCaller,
    keys: VaultKeys,
    batch: Annotated[int, Query(ge=1, le=5000)] = 500,
    budget_s: Annotated[float, Query(gt=0, le=60)] = 10.0,
) -> dict[str, Any]:
    """Resumable and safe beside other replicas; `remaining` says how many are left."""
    return await keys.rewrap(caller.client_id, batch=batch, budget_s=budget_s)


@router.post(
    "/kek/{version}/retire",
    summary="Destroy an old KEK version; 409 while any data key is still wrapped under it.",
    responses=problems(409),
)
async def retire_kek(version: Version, caller: AdminCaller, keys: VaultKeys) -> dict[str, Any]:
    """Irreversible: the material is deleted from the KEK store."""
    return await keys.retire_kek(caller.client_id, version)


@router.post(
    "/sealing-keys/rotate",
    summary="A new active intake-sealing key (HPKE); the old one keeps opening its reports.",
)
async def rotate_sealing(
    body: SealingRotateIn, caller: AdminCaller, keys: VaultKeys
) -> dict[str, Any]:
    """Intake picks the new key up from the well-known URL (pin its fingerprint first)."""
    return await keys.rotate_sealing(caller.client_id, _SUITES[body.suite])


@router.post(
    "/sealing-keys/{kid}/retire",
    summary="Forget an old sealing key; 409 while reports sealed to it may still arrive.",
    responses=problems(409),
)
async def retire_sealing(
    kid: Annotated[str, Path(pattern=r"^[0-9a-f]{32}$")], caller: AdminCaller, keys: VaultKeys
) -> dict[str, Any]:
    """Needs the grace period since the rotation and an empty vault consumer backlog."""
    return await keys.retire_sealing(caller.client_id, kid)


@well_known.get(
    "/.well-known/lifeline/hpke-keys",
    response_model=SealingKeys,
    summary="Public HPKE keys that intake seals reports to (pin them by fingerprint).",
)
async def sealing_keys(store: SealingKeyFile) -> SealingKeys:
    """The public halves of sharing's sealing keys."""
    return SealingKeys(keys=[SealingKeyView(**k) for k in store.public_keys()])
