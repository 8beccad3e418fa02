"""Client-key use cases: register, list, revoke and rotate the public keys clients sign with."""

from __future__ import annotations

import json
from datetime import datetime, timedelta
from typing import Any

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey
from sqlalchemy.ext.asyncio import AsyncSession

from libs.common.auth.jwk import ed25519_public_jwk, ed25519_thumbprint, parse_public_key_text
from libs.common.auth.revocation import RevocationKind
from libs.common.crypto.errors import WeakPublicKey
from libs.common.errors import Conflict, InvalidInput, NotFound
from services.sharing.access import repository as repo
from services.sharing.access.changes import Change, Changes
from services.sharing.access.domain import ClientStatus, KeyStatus, PartnerStatus
from services.sharing.access.rows import KeyRow
from services.sharing.access.service import client_of, keep_an_admin, manages


def parse_public_key(value: str | dict[str, Any]) -> Ed25519PublicKey:
    """The Ed25519 key in `ed25519:<x>` or JWK form; a 422 naming the field otherwise."""
    text = json.dumps(value) if isinstance(value, dict) else value
    try:
        return parse_public_key_text(text)
    except WeakPublicKey as exc:
        # Its own code: the key parses, but it is no key (small order, non-canonical).
        raise WeakPublicKey(str(exc), fields=[{"path": "public_key", "reason": str(exc)}]) from None
    except ValueError as exc:
        reason = f"not an Ed25519 public key ({exc})"
        raise InvalidInput(reason, fields=[{"path": "public_key", "reason": reason}]) from None


async def register_key(
    change: Change,
    client_id: str,
    public_key: Ed25519PublicKey,
    valid_days: int,
    *,
    pending: bool = False,
    device_name: str | None = None,
) -> KeyRow:
    """Register `public_key` for an active client of an active partner, valid from now.

    A `pending` key (enrolled by a device) signs nothing until an admin confirms it.
    """
    client = await repo.get_client(change.session, client_id)
    if client is None:
        raise NotFound("no such client")
    partner = await repo.get_partner(change.session, client.partner_id)
    if (
        client.status != ClientStatus.ACTIVE
        or partner is None
        or partner.status != PartnerStatus.ACTIVE
    ):
        raise Conflict("the client or its partner is not active")
    kid = ed25519_thumbprint(public_key)
    not_after = change.now + timedelta(days=valid_days)
    inserted = await repo.insert_key(
        change.session,
        kid=kid,
        client_id=client_id,
        public_jwk=ed25519_public_jwk(public_key),
        not_before=change.now,
        not_after=not_after,
        now=change.now,
        status=KeyStatus.PENDING if pending else KeyStatus.ACTIVE,
        device_name=device_name,
    )
    if not inserted:
        # One key, one client: a key shared by two clients would blur who signed what.
        raise Conflict("this public key is already registered")
    action = "key.enrol" if pending else "key.register"
    await change.audit(action, kid, client_id=client_id, not_after=_iso(not_after))
    return await _key(change.session, kid)


class ClientKeyAdmin:
    """Client keys, as the admin API uses them."""

    def __init__(self, changes: Changes) -> None:
        self.changes = changes
        self.sessions = changes.sessions

    def now(self) -> datetime:
        """The time a key's usability is shown for (the registry's clock)."""
        return self.changes.now()

    async def add_key(
        self,
        actor: str,
        client_id: str,
        public_key: str | dict[str, Any],
        valid_days: int,
        *,
        within: str | None = None,
    ) -> KeyRow:
        """Register a client's public key (the client generated the pair; we never see the rest)."""
        key = parse_public_key(public_key)
        async with self.changes.begin(actor) as change:
            await client_of(change.session, client_id, within)
            return await register_key(change, client_id, key, valid_days)

    async def list_keys(
        self,
        client_id: str,
        *,
        within: str | None = None,
        after: tuple[datetime, str] | None = None,
        limit: int | None = None,
    ) -> list[KeyRow]:
        """A client's keys (404 if the client is unknown, or not the caller's to manage)."""
        async with self.sessions() as session:
            await client_of(session, client_id, within)
            return await repo.list_keys(session, client_id, after, limit)

    async def get_key(self, kid: str, *, within: str | None = None) -> KeyRow:
        """One key (404 if unknown, or not the caller's to manage)."""
        async with self.sessions() as session:
            return await _key(session, kid, within)

    async def revoke_key(self, actor: str, kid: str, *, within: str | None = None) -> KeyRow:
        """Revoke a key: no assertion it signs is accepted, tokens obtained with it stop."""
        async with self.changes.begin(actor) as change:
            await _key(change.session, kid, within)
            await _revoke(change, kid)
            return await _key(change.session, kid)

    async def rotate_key(
        self,
        actor: str,
        kid: str,
        public_key: str | dict[str, Any],
        valid_days: int,
        grace_seconds: int,
        *,
        within: str | None = None,
    ) -> tuple[KeyRow, KeyRow]:
        """Register a replacement for `kid`, then revoke `kid` now or let it expire after grace."""
        new_key = parse_public_key(public_key)
        async with self.changes.begin(actor) as change:
            old = await _key(change.session, kid, within)
            if not old.usable_at(change.now):
                raise Conflict("only a usable key can be rotated; register a new key instead")
            new = await register_key(change, old.client_id, new_key, valid_days)
            if grace_seconds:
                # Tokens obtained with the old key stay valid until they expire (<= 10 min):
                # a planned rotation need not cut the client off mid-request.
                until = change.now + timedelta(seconds=grace_seconds)
                await repo.shorten_key(change.session, kid, until)
                await change.audit("key.rotate", kid, new_kid=new.kid, old_expires=_iso(until))
            else:
                await change.audit("key.rotate", kid, new_kid=new.kid)
                await _revoke(change, kid)
            return new, await _key(change.session, kid)


async def revoke_in(change: Change, kid: str) -> None:
    """Revoke `kid` inside an open change (audited and announced if it was live)."""
    await _revoke(change, kid)


async def key_in(session: AsyncSession, kid: str, within: str | None = None) -> KeyRow:
    """The key (404 if unknown, or not the caller's to manage)."""
    return await _key(session, kid, within)


async def _revoke(change: Change, kid: str) -> None:
    # Nothing matched: the key is unknown (the caller's lookup answers 404) or already revoked.
    if await repo.revoke_key(change.session, kid, change.now):
        await keep_an_admin(change)
        await change.audit("key.revoke", kid)
        await change.revoke(RevocationKind.CLIENT_KEY, kid)


async def _key(session: AsyncSession, kid: str, within: str | None = None) -> KeyRow:
    key = await repo.get_key(session, kid)
    if key is None:
        raise NotFound("no such key")
    if within is not None:
        client = await repo.get_client(session, key.client_id)
        if client is None or not manages(within, client):
            raise NotFound("no such key")
    return key


def _iso(value: datetime) -> str:
    return value.isoformat().replace("+00:00", "Z")
