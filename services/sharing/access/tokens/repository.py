"""Token-endpoint SQL (SQLAlchemy Core): key lookup for assertions, replay ids, leases."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime, timedelta

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey
from sqlalchemy import delete, func, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from libs.common.auth.jwk import public_key_from_jwk
from libs.common.auth.roles import within_role
from libs.common.auth.scopes import parse_scope
from libs.common.sql import changed_one, insert_ignore
from services.sharing.access.domain import ClientStatus, KeyStatus, PartnerStatus
from services.sharing.access.models import ASSERTION_JTIS, CLIENT_KEYS, CLIENTS, PARTNERS
from services.sharing.models import LEASES


@dataclass(frozen=True, slots=True)
class SigningContext:
    """What the token endpoint needs about a client whose key may sign an assertion."""

    public_key: Ed25519PublicKey
    client_id: str
    partner_id: str
    role: str
    scopes: frozenset[str]


async def signing_context(
    session: AsyncSession, client_id: str, kid: str, now: datetime
) -> SigningContext | None:
    """The key registered as (client, kid) if key, client and partner are all usable now."""
    query = (
        select(CLIENT_KEYS.c.public_jwk, CLIENTS.c.partner_id, CLIENTS.c.role, CLIENTS.c.scopes)
        .select_from(
            CLIENT_KEYS.join(CLIENTS, CLIENTS.c.id == CLIENT_KEYS.c.client_id).join(
                PARTNERS, PARTNERS.c.id == CLIENTS.c.partner_id
            )
        )
        .where(
            CLIENT_KEYS.c.kid == kid,
            CLIENT_KEYS.c.client_id == client_id,
            CLIENT_KEYS.c.status == KeyStatus.ACTIVE,
            CLIENT_KEYS.c.not_before <= now,
            CLIENT_KEYS.c.not_after > now,
            CLIENTS.c.status == ClientStatus.ACTIVE,
            PARTNERS.c.status == PartnerStatus.ACTIVE,
        )
    )
    row = (await session.execute(query)).first()
    if row is None or not within_role(row.role, parse_scope(row.scopes)):
        return None
    return SigningContext(
        public_key=public_key_from_jwk(json.loads(row.public_jwk)),
        client_id=client_id,
        partner_id=row.partner_id,
        role=row.role,
        # A row written around the role's bound (by hand, or before a bound shrank) still
        # yields a token within it.
        scopes=within_role(row.role, parse_scope(row.scopes)),
    )


# --- assertion replay and leases -----------------------------------------------------------


async def remember_jti(
    session: AsyncSession, client_id: str, jti: str, expires_at: datetime
) -> bool:
    """Record an assertion id; False when (client, jti) was seen before: a replay."""
    return await insert_ignore(
        session, ASSERTION_JTIS, {"client_id": client_id, "jti": jti, "expires_at": expires_at}
    )


async def prune_jtis(session: AsyncSession, now: datetime) -> int:
    """Forget assertion ids whose assertions have expired (a replay would fail on exp)."""
    result = await session.execute(delete(ASSERTION_JTIS).where(ASSERTION_JTIS.c.expires_at < now))
    return int(getattr(result, "rowcount", 0) or 0)


async def try_lease(
    session: AsyncSession, name: str, holder: str, ttl: float, now: datetime
) -> bool:
    """Take or renew the lease `name` for `holder` unless another holder's lease is current."""
    until = now + timedelta(seconds=ttl)
    if await insert_ignore(session, LEASES, {"name": name, "holder": holder, "expires_at": until}):
        return True
    result = await session.execute(
        update(LEASES)
        .where(LEASES.c.name == name, or_(LEASES.c.holder == holder, LEASES.c.expires_at < now))
        .values(holder=holder, expires_at=until)
    )
    return changed_one(result)


async def holds_active_key(session: AsyncSession, client_id: str, kid: str) -> bool:
    """True while the client, its partner and this key of it are all active."""
    query = (
        select(func.count())
        .select_from(
            CLIENT_KEYS.join(CLIENTS, CLIENTS.c.id == CLIENT_KEYS.c.client_id).join(
                PARTNERS, PARTNERS.c.id == CLIENTS.c.partner_id
            )
        )
        .where(
            CLIENT_KEYS.c.kid == kid,
            CLIENT_KEYS.c.status == KeyStatus.ACTIVE,
            CLIENTS.c.id == client_id,
            CLIENTS.c.status == ClientStatus.ACTIVE,
            PARTNERS.c.status == PartnerStatus.ACTIVE,
        )
    )
    return bool((await session.execute(query)).scalar_one())
