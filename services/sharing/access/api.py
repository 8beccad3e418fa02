"""Admin routes for partners, clients and their keys, and the one-time bootstrap."""

# No `from __future__ import annotations`: FastAPI reads the route annotations at runtime.

from datetime import datetime
from typing import Annotated

from fastapi import APIRouter, Depends, Path, Query
from fastapi.responses import JSONResponse

from libs.common.auth.fastapi import PUBLIC
from libs.common.paging import Lister, Page, split_page
from libs.common.problems import problems
from services.sharing.access.domain import managed_partner
from services.sharing.access.schemas import (
    Bootstrapped,
    BootstrapRequest,
    ClientCreate,
    ClientOut,
    KeyCreate,
    KeyOut,
    KeyRotate,
    KeyRotated,
    PartnerContact,
    PartnerCreate,
    PartnerOut,
)
from services.sharing.approvals.domain import ApprovalAction
from services.sharing.approvals.schemas import PENDING_RESPONSE, pending
from services.sharing.deps import (
    AdminCaller,
    Bootstrap,
    ClientKeys,
    Gated,
    IdempotentAdmin,
    IdempotentManager,
    ManagerCaller,
    Registry,
)

router = APIRouter(prefix="/v1/admin", tags=["admin"])
# Oldest first, each by (created_at, id).
PARTNERS = Lister("partners", (datetime, str), default=200, maximum=1000)
CLIENTS = Lister("clients", (datetime, str), default=200, maximum=1000)
KEYS = Lister("clients.keys", (datetime, str), default=200, maximum=1000)

IdPath = Annotated[str, Path(pattern=r"^[A-Za-z0-9._~:-]{1,128}$")]
Kid = Annotated[str, Path(pattern=r"^[A-Za-z0-9_-]{1,64}$")]


@router.post(
    "/bootstrap",
    status_code=201,
    response_model=Bootstrapped,
    dependencies=[Depends(PUBLIC)],
    responses=problems(401, 409),
    summary="Create the first administrator with the one-time secret from sharing's data dir.",
)
async def bootstrap(body: BootstrapRequest, bootstrapper: Bootstrap) -> Bootstrapped:
    """Public, but needs the secret; 409 once an administrator exists."""
    partner, client, key = await bootstrapper.bootstrap(body)
    return Bootstrapped(
        partner=PartnerOut.of(partner),
        client=ClientOut.of(client),
        key=KeyOut.of(key, key.created_at),
    )


@router.get("/partners", response_model=list[PartnerOut], summary="List partner organisations.")
async def list_partners(
    _: AdminCaller, registry: Registry, page: Annotated[Page, Depends(PARTNERS.dependency())]
) -> list[PartnerOut]:
    """Every partner, oldest first."""
    rows, more = split_page(await registry.list_partners(page.position, page.limit + 1), page.limit)
    page.follow((rows[-1].created_at, rows[-1].id) if more else None)
    return [PartnerOut.of(p) for p in rows]


@router.post("/partners", status_code=201, response_model=PartnerOut, summary="Register a partner.")
async def create_partner(
    body: PartnerCreate, caller: AdminCaller, _key: IdempotentAdmin, registry: Registry
) -> PartnerOut:
    """A new, active partner organisation with a random id."""
    return PartnerOut.of(await registry.create_partner(caller.client_id, body.name))


@router.get("/partners/{partner_id}", response_model=PartnerOut, summary="Show one partner.")
async def get_partner(partner_id: IdPath, _: AdminCaller, registry: Registry) -> PartnerOut:
    """The partner, or 404."""
    return PartnerOut.of(await registry.get_partner(partner_id))


@router.put(
    "/partners/{partner_id}/contact",
    response_model=PartnerOut,
    summary="Set the partner's contact line for lawyers, shown with its reports.",
)
async def set_partner_contact(
    partner_id: IdPath, body: PartnerContact, caller: ManagerCaller, registry: Registry
) -> PartnerOut:
    """The operator for any partner, a partner administrator for its own (others: 404)."""
    within = managed_partner(caller)
    contact = body.lawyer_contact
    return PartnerOut.of(
        await registry.set_contact(caller.client_id, partner_id, contact, within=within)
    )


@router.post(
    "/partners/{partner_id}/disable",
    response_model=PartnerOut,
    summary="Disable a partner: its clients get no tokens, outstanding tokens stop.",
    responses=problems(409),
)
async def disable_partner(
    partner_id: IdPath, caller: AdminCaller, registry: Registry
) -> PartnerOut:
    """Disable now and announce the revocation to every service."""
    return PartnerOut.of(await registry.disable_partner(caller.client_id, partner_id))


@router.get("/clients", response_model=list[ClientOut], summary="List API clients.")
async def list_clients(
    caller: ManagerCaller,
    registry: Registry,
    page: Annotated[Page, Depends(CLIENTS.dependency())],
    partner_id: Annotated[str | None, Query(pattern=r"^[A-Za-z0-9._~:-]{1,128}$")] = None,
) -> list[ClientOut]:
    """Every client, oldest first, or those of one partner (a partner administrator: its own)."""
    found = await registry.list_clients(
        partner_id, within=managed_partner(caller), after=page.position, limit=page.limit + 1
    )
    rows, more = split_page(found, page.limit)
    page.follow((rows[-1].created_at, rows[-1].id) if more else None)
    return [ClientOut.of(c) for c in rows]


@router.post(
    "/clients",
    status_code=201,
    response_model=ClientOut,
    responses=problems(409),
    summary="Register an API client.",
)
async def create_client(
    body: ClientCreate, caller: ManagerCaller, _key: IdempotentManager, registry: Registry
) -> ClientOut:
    """A client of an active partner; its role bounds its scopes (422 outside the bound)."""
    client = await registry.create_client(
        caller.client_id,
        body.partner_id,
        body.name,
        body.role,
        [s.value for s in body.scopes],
        within=managed_partner(caller),
    )
    return ClientOut.of(client)


@router.get("/clients/{client_id}", response_model=ClientOut, summary="Show one API client.")
async def get_client(client_id: IdPath, caller: ManagerCaller, registry: Registry) -> ClientOut:
    """The client, or 404."""
    return ClientOut.of(await registry.get_client(client_id, within=managed_partner(caller)))


@router.post(
    "/clients/{client_id}/revoke",
    response_model=ClientOut,
    summary="Revoke an API client: no more tokens, outstanding tokens stop.",
    responses=problems(409),
)
async def revoke_client(client_id: IdPath, caller: ManagerCaller, registry: Registry) -> ClientOut:
    """Revoke now and announce the revocation to every service."""
    within = managed_partner(caller)
    return ClientOut.of(await registry.revoke_client(caller.client_id, client_id, within=within))


# --- client keys ---------------------------------------------------------------------------


@router.get(
    "/clients/{client_id}/keys", response_model=list[KeyOut], summary="List a client's keys."
)
async def list_keys(
    client_id: IdPath,
    caller: ManagerCaller,
    keys: ClientKeys,
    page: Annotated[Page, Depends(KEYS.dependency())],
) -> list[KeyOut]:
    """Every key registered for the client, oldest first."""
    now = keys.now()
    found = await keys.list_keys(
        client_id, within=managed_partner(caller), after=page.position, limit=page.limit + 1
    )
    rows, more = split_page(found, page.limit)
    page.follow((rows[-1].created_at, rows[-1].kid) if more else None)
    return [KeyOut.of(k, now) for k in rows]


@router.post(
    "/clients/{client_id}/keys",
    status_code=201,
    response_model=KeyOut,
    responses={**PENDING_RESPONSE, **problems(409)},
    summary="Register a client's Ed25519 public key.",
)
async def add_key(
    client_id: IdPath,
    body: KeyCreate,
    caller: ManagerCaller,
    _key: IdempotentManager,
    keys: ClientKeys,
    gated: Gated,
) -> KeyOut | JSONResponse:
    """The key, its kid (RFC 7638 thumbprint) and fingerprint; 202 while it awaits approval."""
    within = managed_partner(caller)
    if await gated.required(ApprovalAction.KEY_REGISTRATION):
        asked = await gated.ask_key(caller, client_id, body.public_key, body.valid_days, within)
        return pending(asked)
    key = await keys.add_key(
        caller.client_id,
        client_id,
        body.public_key,
        body.valid_days,
        within=within,
    )
    return KeyOut.of(key, keys.now())


@router.get("/keys/{kid}", response_model=KeyOut, summary="Show one client key.")
async def get_key(kid: Kid, caller: ManagerCaller, keys: ClientKeys) -> KeyOut:
    """The key, or 404."""
    return KeyOut.of(await keys.get_key(kid, within=managed_partner(caller)), keys.now())


@router.post(
    "/keys/{kid}/revoke",
    response_model=KeyOut,
    summary="Revoke a client key: tokens obtained with it stop at once.",
    responses=problems(409),
)
async def revoke_key(kid: Kid, caller: ManagerCaller, keys: ClientKeys) -> KeyOut:
    """Revoke now and announce the revocation to every service."""
    key = await keys.revoke_key(caller.client_id, kid, within=managed_partner(caller))
    return KeyOut.of(key, keys.now())


@router.post(
    "/keys/{kid}/rotate",
    status_code=201,
    response_model=KeyRotated,
    responses={**PENDING_RESPONSE, **problems(409)},
    summary="Register a replacement key and retire this one (now, or after a grace period).",
)
async def rotate_key(
    kid: Kid,
    body: KeyRotate,
    caller: ManagerCaller,
    _key: IdempotentManager,
    keys: ClientKeys,
    gated: Gated,
) -> KeyRotated | JSONResponse:
    """The new key and the old one as it now stands; 202 while it awaits approval."""
    within, grace = managed_partner(caller), body.old_key_grace_seconds
    if await gated.required(ApprovalAction.KEY_REGISTRATION):
        return pending(
            await gated.ask_rotation(
                caller,
                kid,
                public_key=body.public_key,
                valid_days=body.valid_days,
                grace_seconds=grace,
                within=within,
            )
        )
    new, old = await keys.rotate_key(
        caller.client_id, kid, body.public_key, body.valid_days, grace, within=within
    )
    now = keys.now()
    return KeyRotated(new=KeyOut.of(new, now), old=KeyOut.of(old, now))
