"""Admin routes for partners, clients, the audit log and the one-time bootstrap."""

# No `from __future__ import annotations`: FastAPI reads the route annotations at runtime.

from typing import Annotated

from fastapi import APIRouter, Depends, Path, Query

from libs.common.auth.fastapi import PUBLIC
from services.sharing.deps import Admin, AdminCaller, Bootstrap
from services.sharing.schemas_access import (
    AuditEntryOut,
    AuditPage,
    AuditVerification,
    Bootstrapped,
    BootstrapRequest,
    ClientCreate,
    ClientOut,
    KeyOut,
    PartnerCreate,
    PartnerOut,
)

router = APIRouter(prefix="/v1/admin", tags=["admin"])

IdPath = Annotated[str, Path(pattern=r"^[A-Za-z0-9._~:-]{1,128}$")]


@router.post(
    "/bootstrap",
    status_code=201,
    response_model=Bootstrapped,
    dependencies=[Depends(PUBLIC)],
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
async def list_partners(_: AdminCaller, admin: Admin) -> list[PartnerOut]:
    """Every partner, oldest first."""
    return [PartnerOut.of(p) for p in await admin.list_partners()]


@router.post("/partners", status_code=201, response_model=PartnerOut, summary="Register a partner.")
async def create_partner(body: PartnerCreate, caller: AdminCaller, admin: Admin) -> PartnerOut:
    """A new, active partner organisation with a random id."""
    return PartnerOut.of(await admin.create_partner(caller.client_id, body.name))


@router.get("/partners/{partner_id}", response_model=PartnerOut, summary="Show one partner.")
async def get_partner(partner_id: IdPath, _: AdminCaller, admin: Admin) -> PartnerOut:
    """The partner, or 404."""
    return PartnerOut.of(await admin.get_partner(partner_id))


@router.post(
    "/partners/{partner_id}/disable",
    response_model=PartnerOut,
    summary="Disable a partner: its clients get no tokens, outstanding tokens stop.",
)
async def disable_partner(partner_id: IdPath, caller: AdminCaller, admin: Admin) -> PartnerOut:
    """Disable now and announce the revocation to every service."""
    return PartnerOut.of(await admin.disable_partner(caller.client_id, partner_id))


@router.get("/clients", response_model=list[ClientOut], summary="List API clients.")
async def list_clients(
    _: AdminCaller,
    admin: Admin,
    partner_id: Annotated[str | None, Query(pattern=r"^[A-Za-z0-9._~:-]{1,128}$")] = None,
) -> list[ClientOut]:
    """Every client, or those of one partner."""
    return [ClientOut.of(c) for c in await admin.list_clients(partner_id)]


@router.post(
    "/clients", status_code=201, response_model=ClientOut, summary="Register an API client."
)
async def create_client(body: ClientCreate, caller: AdminCaller, admin: Admin) -> ClientOut:
    """A new client of an active partner, allowed the given scopes."""
    scopes = [s.value for s in body.scopes]
    client = await admin.create_client(caller.client_id, body.partner_id, body.name, scopes)
    return ClientOut.of(client)


@router.get("/clients/{client_id}", response_model=ClientOut, summary="Show one API client.")
async def get_client(client_id: IdPath, _: AdminCaller, admin: Admin) -> ClientOut:
    """The client, or 404."""
    return ClientOut.of(await admin.get_client(client_id))


@router.post(
    "/clients/{client_id}/revoke",
    response_model=ClientOut,
    summary="Revoke an API client: no more tokens, outstanding tokens stop.",
)
async def revoke_client(client_id: IdPath, caller: AdminCaller, admin: Admin) -> ClientOut:
    """Revoke now and announce the revocation to every service."""
    return ClientOut.of(await admin.revoke_client(caller.client_id, client_id))


@router.get("/audit", response_model=AuditPage, summary="Read the audit log, oldest first.")
async def audit(
    _: AdminCaller,
    admin: Admin,
    after: Annotated[int, Query(ge=0)] = 0,
    limit: Annotated[int, Query(ge=1, le=1000)] = 200,
) -> AuditPage:
    """Entries with seq > `after`; `next_after` is set while more may follow."""
    entries = await admin.audit_page(after, limit)
    next_after = entries[-1]["seq"] if len(entries) == limit else None
    return AuditPage(entries=[AuditEntryOut(**e) for e in entries], next_after=next_after)


@router.get(
    "/audit/verify",
    response_model=AuditVerification,
    summary="Recompute the audit hash chain and report the first broken entry.",
)
async def verify_audit(_: AdminCaller, admin: Admin) -> AuditVerification:
    """ok=false names the first entry that was edited, removed or reordered."""
    result = await admin.verify_audit()
    broken = result.broken
    return AuditVerification(
        ok=result.ok,
        checked=result.checked,
        head=result.head,
        broken_seq=None if broken is None else broken.seq,
        detail=f"{result.checked} entries verified" if broken is None else broken.describe(),
    )
