"""Registry SQL (SQLAlchemy Core): partners, API clients and their keys."""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any

from sqlalchemy import func, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from libs.common.auth.roles import Role
from libs.common.auth.scopes import format_scope
from libs.common.sql import changed_one, insert_ignore, seek
from services.sharing.access.domain import ClientStatus, KeyStatus, PartnerStatus
from services.sharing.access.models import CLIENT_KEYS, CLIENTS, PARTNERS
from services.sharing.access.rows import ClientRow, KeyRow, PartnerRow

# --- partners ----------------------------------------------------------------------------


async def insert_partner(
    session: AsyncSession, *, id: str, name: str, is_operator: bool, now: datetime
) -> None:
    """Add an active partner."""
    await session.execute(
        PARTNERS.insert().values(
            id=id, name=name, status=PartnerStatus.ACTIVE, is_operator=is_operator, created_at=now
        )
    )


async def get_partner(session: AsyncSession, partner_id: str) -> PartnerRow | None:
    """One partner, or None."""
    row = (await session.execute(select(PARTNERS).where(PARTNERS.c.id == partner_id))).first()
    return None if row is None else PartnerRow.of(row)


async def list_partners(
    session: AsyncSession, after: tuple[datetime, str] | None = None, limit: int | None = None
) -> list[PartnerRow]:
    """Partners, oldest first, after the (created_at, id) position `after`."""
    query = seek(select(PARTNERS), (PARTNERS.c.created_at, PARTNERS.c.id), after)
    return [PartnerRow.of(r) for r in await session.execute(query.limit(limit))]


async def disable_partner(session: AsyncSession, partner_id: str, now: datetime) -> bool:
    """Disable an active (or seized) partner; False if it is neither (or unknown)."""
    result = await session.execute(
        update(PARTNERS)
        .where(PARTNERS.c.id == partner_id, PARTNERS.c.status != PartnerStatus.DISABLED)
        .values(status=PartnerStatus.DISABLED, disabled_at=now)
    )
    return changed_one(result)


async def set_lawyer_contact(session: AsyncSession, partner_id: str, contact: str | None) -> bool:
    """Set (or clear) a partner's contact line for lawyers; False if the partner is unknown."""
    result = await session.execute(
        update(PARTNERS).where(PARTNERS.c.id == partner_id).values(lawyer_contact=contact)
    )
    return changed_one(result)


# --- clients -----------------------------------------------------------------------------


async def insert_client(
    session: AsyncSession,
    *,
    id: str,
    partner_id: str,
    name: str,
    role: str,
    scopes: frozenset[str],
    now: datetime,
) -> None:
    """Add an active client."""
    await session.execute(
        CLIENTS.insert().values(
            id=id,
            partner_id=partner_id,
            name=name,
            role=role,
            scopes=format_scope(scopes),
            status=ClientStatus.ACTIVE,
            created_at=now,
        )
    )


async def get_client(session: AsyncSession, client_id: str) -> ClientRow | None:
    """One client, or None."""
    row = (await session.execute(select(CLIENTS).where(CLIENTS.c.id == client_id))).first()
    return None if row is None else ClientRow.of(row)


async def list_clients(
    session: AsyncSession,
    partner_id: str | None,
    after: tuple[datetime, str] | None = None,
    limit: int | None = None,
) -> list[ClientRow]:
    """Clients (of one partner, if given), oldest first, after the (created_at, id) `after`."""
    query = seek(select(CLIENTS), (CLIENTS.c.created_at, CLIENTS.c.id), after)
    if partner_id is not None:
        query = query.where(CLIENTS.c.partner_id == partner_id)
    return [ClientRow.of(r) for r in await session.execute(query.limit(limit))]


async def revoke_client(session: AsyncSession, client_id: str, now: datetime) -> bool:
    """Revoke an active (or seized) client; False if it is neither (or unknown)."""
    result = await session.execute(
        update(CLIENTS)
        .where(CLIENTS.c.id == client_id, CLIENTS.c.status != ClientStatus.REVOKED)
        .values(status=ClientStatus.REVOKED, revoked_at=now)
    )
    return changed_one(result)


async def is_active_client(session: AsyncSession, client_id: str) -> bool:
    """True while the client exists, is active, and its partner is active."""
    query = (
        select(func.count())
        .select_from(CLIENTS.join(PARTNERS, PARTNERS.c.id == CLIENTS.c.partner_id))
        .where(
            CLIENTS.c.id == client_id,
            CLIENTS.c.status == ClientStatus.ACTIVE,
            PARTNERS.c.status == PartnerStatus.ACTIVE,
        )
    )
    return bool((await session.execute(query)).scalar_one())


# --- keys --------------------------------------------------------------------------------


async def insert_key(
    session: AsyncSession,
    *,
    kid: str,
    client_id: str,
    public_jwk: dict[str, Any],
    not_before: datetime,
    not_after: datetime,
    now: datetime,
    status: KeyStatus = KeyStatus.ACTIVE,
    device_name: str | None = None,
) -> bool:
    """Register a key; False if this kid is already registered (to anyone)."""
    return await insert_ignore(
        session,
        CLIENT_KEYS,
        {
            "kid": kid,
            "client_id": client_id,
            "public_jwk": json.dumps(public_jwk, sort_keys=True),
            "status": status,
            "device_name": device_name,
            "not_before": not_before,
            "not_after": not_after,
            "created_at": now,
        },
    )


async def get_key(session: AsyncSession, kid: str) -> KeyRow | None:
    """One key, or None."""
    row = (await session.execute(select(CLIENT_KEYS).where(CLIENT_KEYS.c.kid == kid))).first()
    return None if row is None else KeyRow.of(row)


async def list_keys(
    session: AsyncSession,
    client_id: str,
    after: tuple[datetime, str] | None = None,
    limit: int | None = None,
) -> list[KeyRow]:
    """A client's keys, oldest first, after the (created_at, kid) position `after`."""
    query = select(CLIENT_KEYS).where(CLIENT_KEYS.c.client_id == client_id)
    query = seek(query, (CLIENT_KEYS.c.created_at, CLIENT_KEYS.c.kid), after)
    return [KeyRow.of(r) for r in await session.execute(query.limit(limit))]


async def revoke_key(session: AsyncSession, kid: str, now: datetime) -> bool:
    """Revoke an active or pending key; False if it is neither (or unknown)."""
    result = await session.execute(
        update(CLIENT_KEYS)
        .where(
            CLIENT_KEYS.c.kid == kid,
            CLIENT_KEYS.c.status.in_([KeyStatus.ACTIVE, KeyStatus.PENDING]),
        )
        .values(status=KeyStatus.REVOKED, revoked_at=now)
    )
    return changed_one(result)


async def shorten_key(session: AsyncSession, kid: str, not_after: datetime) -> bool:
    """Bring an active key's expiry forward (never later); False if nothing changed."""
    result = await session.execute(
        update(CLIENT_KEYS)
        .where(
            CLIENT_KEYS.c.kid == kid,
            CLIENT_KEYS.c.status == KeyStatus.ACTIVE,
            CLIENT_KEYS.c.not_after > not_after,
        )
        .values(not_after=not_after)
    )
    return changed_one(result)


async def usable_admin_count(session: AsyncSession, now: datetime) -> int:
    """Operator clients that could sign in now (active client, partner and at least one key)."""
    query = (
        select(func.count(CLIENTS.c.id.distinct()))
        .select_from(
            CLIENTS.join(PARTNERS, PARTNERS.c.id == CLIENTS.c.partner_id).join(
                CLIENT_KEYS, CLIENT_KEYS.c.client_id == CLIENTS.c.id
            )
        )
        .where(
            CLIENTS.c.status == ClientStatus.ACTIVE,
            CLIENTS.c.role == Role.OPERATOR,
            PARTNERS.c.status == PartnerStatus.ACTIVE,
            CLIENT_KEYS.c.status == KeyStatus.ACTIVE,
            CLIENT_KEYS.c.not_before <= now,
            CLIENT_KEYS.c.not_after > now,
        )
    )
    return int((await session.execute(query)).scalar_one())
