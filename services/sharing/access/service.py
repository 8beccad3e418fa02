"""Admin use cases for partners, clients and client keys; every change is audited."""

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
from services.sharing.access.domain import (
    ClientStatus,
    PartnerStatus,
    check_scopes,
    new_client_id,
    new_partner_id,
)
from services.sharing.access.repository import ClientRow, KeyRow, PartnerRow


async def keep_an_admin(change: Change) -> None:
    """Refuse (roll back) a change that would leave nobody able to administer the network."""
    if await repo.usable_admin_count(change.session, change.now) == 0:
        raise Conflict("this would leave no administrator able to sign in")


class RegistryAdmin:
    """Partners and clients, as the admin API uses them."""

    def __init__(self, changes: Changes) -> None:
        self.changes = changes
        self.sessions = changes.sessions

    async def is_active_client(self, client_id: str) -> bool:
        """True while a client exists, is active and belongs to an active partner."""
        async with self.sessions() as session:
            return await repo.is_active_client(session, client_id)

    # --- partners --------------------------------------------------------------------------

    async def create_partner(self, actor: str, name: str) -> PartnerRow:
        """Register a partner organisation."""
        partner_id = new_partner_id()
        async with self.changes.begin(actor) as change:
            await repo.insert_partner(
                change.session, id=partner_id, name=name, is_operator=False, now=change.now
            )
            await change.audit("partner.create", partner_id, name=name)
            return await _partner(change.session, partner_id)

    async def list_partners(self) -> list[PartnerRow]:
        """Every partner."""
        async with self.sessions() as session:
            return await repo.list_partners(session)

    async def get_partner(self, partner_id: str) -> PartnerRow:
        """One partner (404 if unknown)."""
        async with self.sessions() as session:
            return await _partner(session, partner_id)

    async def disable_partner(self, actor: str, partner_id: str) -> PartnerRow:
        """Disable a partner: none of its clients gets a token, outstanding tokens stop."""
        async with self.changes.begin(actor) as change:
            if await repo.disable_partner(change.session, partner_id, change.now):
                await keep_an_admin(change)
                await change.audit("partner.disable", partner_id)
                await change.revoke(RevocationKind.ORG, partner_id)
            # Disabling twice is not an error; the answer is the partner as it now is.
            return await _partner(change.session, partner_id)

    # --- clients ---------------------------------------------------------------------------

    async def create_client(
        self, actor: str, partner_id: str, name: str, scopes: list[str]
    ) -> ClientRow:
        """Register an API client for an active partner with the scopes it may request."""
        try:
            granted = check_scopes(scopes)
        except ValueError as exc:
            raise InvalidInput(str(exc), fields=[{"path": "scopes", "reason": str(exc)}]) from None
        client_id = new_client_id()
        async with self.changes.begin(actor) as change:
            partner = await _partner(change.session, partner_id)
            if partner.status != PartnerStatus.ACTIVE:
                raise Conflict("the partner is disabled")
            await repo.insert_client(
                change.session,
                id=client_id,
                partner_id=partner_id,
                name=name,
                scopes=granted,
                now=change.now,
            )
            await change.audit(
                "client.create", client_id, partner_id=partner_id, name=name, scopes=sorted(granted)
            )
            return await _client(change.session, client_id)

    async def list_clients(self, partner_id: str | None) -> list[ClientRow]:
        """Clients, of one partner if given."""
        async with self.sessions() as session:
            if partner_id is not None:
                await _partner(session, partner_id)
            return await repo.list_clients(session, partner_id)

    async def get_client(self, client_id: str) -> ClientRow:
        """One client (404 if unknown)."""
        async with self.sessions() as session:
            return await _client(session, client_id)

    async def revoke_client(self, actor: str, client_id: str) -> ClientRow:
        """Revoke a client: no more tokens, and its outstanding tokens stop everywhere."""
        async with self.changes.begin(actor) as change:
            if await repo.revoke_client(change.session, client_id, change.now):
                await keep_an_admin(change)
                await change.audit("client.revoke", client_id)
                await change.revoke(RevocationKind.CLIENT, client_id)
            # Revoking twice is not an error either.
            return await _client(change.session, client_id)


async def _partner(session: AsyncSession, partner_id: str) -> PartnerRow:
    partner = await repo.get_partner(session, partner_id)
    if partner is None:
        raise NotFound("no such partner")
    return partner


async def _client(session: AsyncSession, client_id: str) -> ClientRow:
    client = await repo.get_client(session, client_id)
    if client is None:
        raise NotFound("no such client")
    return client


# --- client keys -------------------------------------------------------------------------


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
    change: Change, client_id: str, public_key: Ed25519PublicKey, valid_days: int
) -> KeyRow:
    """Register `public_key` for an active client of an active partner, valid from now."""
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
    )
    if not inserted:
        # One key, one client: a key shared by two clients would blur who signed what.
        raise Conflict("this public key is already registered")
    await change.audit("key.register", kid, client_id=client_id, not_after=_iso(not_after))
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
        self, actor: str, client_id: str, public_key: str | dict[str, Any], valid_days: int
    ) -> KeyRow:
        """Register a client's public key (the client generated the pair; we never see the rest)."""
        key = parse_public_key(public_key)
        async with self.changes.begin(actor) as change:
            return await register_key(change, client_id, key, valid_days)

    async def list_keys(self, client_id: str) -> list[KeyRow]:
        """A client's keys (404 if the client is unknown)."""
        async with self.sessions() as session:
            if await repo.get_client(session, client_id) is None:
                raise NotFound("no such client")
            return await repo.list_keys(session, client_id)

    async def get_key(self, kid: str) -> KeyRow:
        """One key (404 if unknown)."""
        async with self.sessions() as session:
            return await _key(session, kid)

    async def revoke_key(self, actor: str, kid: str) -> KeyRow:
        """Revoke a key: no assertion it signs is accepted, tokens obtained with it stop."""
        async with self.changes.begin(actor) as change:
            await _revoke(change, kid)
            return await _key(change.session, kid)

    async def rotate_key(
        self,
        actor: str,
        kid: str,
        public_key: str | dict[str, Any],
        valid_days: int,
        grace_seconds: int,
    ) -> tuple[KeyRow, KeyRow]:
        """Register a replacement for `kid`, then revoke `kid` now or let it expire after grace."""
        new_key = parse_public_key(public_key)
        async with self.changes.begin(actor) as change:
            old = await _key(change.session, kid)
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


async def _revoke(change: Change, kid: str) -> None:
    # Nothing matched: the key is unknown (the caller's lookup answers 404) or already revoked.
    if await repo.revoke_key(change.session, kid, change.now):
        await keep_an_admin(change)
        await change.audit("key.revoke", kid)
        await change.revoke(RevocationKind.CLIENT_KEY, kid)


async def _key(session: AsyncSession, kid: str) -> KeyRow:
    key = await repo.get_key(session, kid)
    if key is None:
        raise NotFound("no such key")
    return key


def _iso(value: datetime) -> str:
    return value.isoformat().replace("+00:00", "Z")
