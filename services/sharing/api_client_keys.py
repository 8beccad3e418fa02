"""Admin routes for client keys: register, list, show, rotate, revoke."""

# No `from __future__ import annotations`: FastAPI reads the route annotations at runtime.

from datetime import UTC, datetime
from typing import Annotated

from fastapi import APIRouter, Path

from services.sharing.deps import AdminCaller, Keys
from services.sharing.schemas_access import KeyCreate, KeyOut, KeyRotate, KeyRotated

router = APIRouter(prefix="/v1/admin", tags=["admin"])

ClientId = Annotated[str, Path(pattern=r"^[A-Za-z0-9._~:-]{1,128}$")]
Kid = Annotated[str, Path(pattern=r"^[A-Za-z0-9_-]{1,64}$")]


def _now() -> datetime:
    return datetime.now(UTC)


@router.get(
    "/clients/{client_id}/keys", response_model=list[KeyOut], summary="List a client's keys."
)
async def list_keys(client_id: ClientId, _: AdminCaller, keys: Keys) -> list[KeyOut]:
    """Every key registered for the client, oldest first."""
    now = _now()
    return [KeyOut.of(k, now) for k in await keys.list_keys(client_id)]


@router.post(
    "/clients/{client_id}/keys",
    status_code=201,
    response_model=KeyOut,
    summary="Register a client's Ed25519 public key.",
)
async def add_key(client_id: ClientId, body: KeyCreate, caller: AdminCaller, keys: Keys) -> KeyOut:
    """The key, its kid (RFC 7638 thumbprint) and fingerprint to compare with the client's."""
    key = await keys.add_key(caller.client_id, client_id, body.public_key, body.valid_days)
    return KeyOut.of(key, _now())


@router.get("/keys/{kid}", response_model=KeyOut, summary="Show one client key.")
async def get_key(kid: Kid, _: AdminCaller, keys: Keys) -> KeyOut:
    """The key, or 404."""
    return KeyOut.of(await keys.get_key(kid), _now())


@router.post(
    "/keys/{kid}/revoke",
    response_model=KeyOut,
    summary="Revoke a client key: tokens obtained with it stop at once.",
)
async def revoke_key(kid: Kid, caller: AdminCaller, keys: Keys) -> KeyOut:
    """Revoke now and announce the revocation to every service."""
    return KeyOut.of(await keys.revoke_key(caller.client_id, kid), _now())


@router.post(
    "/keys/{kid}/rotate",
    status_code=201,
    response_model=KeyRotated,
    summary="Register a replacement key and retire this one (now, or after a grace period).",
)
async def rotate_key(kid: Kid, body: KeyRotate, caller: AdminCaller, keys: Keys) -> KeyRotated:
    """The new key and the old one as it now stands."""
    new, old = await keys.rotate_key(
        caller.client_id, kid, body.public_key, body.valid_days, body.old_key_grace_seconds
    )
    now = _now()
    return KeyRotated(new=KeyOut.of(new, now), old=KeyOut.of(old, now))
