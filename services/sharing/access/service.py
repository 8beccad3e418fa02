"""Admin use cases for partners, clients and the audit log; every change is audited."""

from __future__ import annotations

from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from libs.common.auth.audit import ChainResult, verify_chain
from libs.common.auth.revocation import RevocationKind
from libs.common.errors import Conflict, InvalidInput, NotFound
from services.sharing import audit_log
from services.sharing import repository_registry as repo
from services.sharing.changes import Change, Changes
from services.sharing.domain import (
    PartnerStatus,
    check_scopes,
    new_client_id,
    new_partner_id,
)
from services.sharing.repository_registry import ClientRow, PartnerRow


async def keep_an_admin(change: Change) -> None:
    """Refuse (roll back) a change that would leave nobody able to administer the network."""
    if await repo.usable_admin_count(change.session, change.now) == 0:
        raise Conflict("this would leave no administrator able to sign in")


class AdminService:
    """Partners, clients and the audit log, as the admin API uses them."""

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

    # --- audit -----------------------------------------------------------------------------

    async def audit_page(self, after: int, limit: int) -> list[dict[str, Any]]:
        """Audit entries after `after`, oldest first."""
        async with self.sessions() as session:
            return await audit_log.entries(session, after=after, limit=limit)

    async def verify_audit(self) -> ChainResult:
        """Recompute the whole chain and report the first entry that does not fit."""
        rows: list[dict[str, Any]] = []
        async with self.sessions() as session:
            while True:
                page = await audit_log.entries(session, after=rows[-1]["seq"] if rows else 0)
                rows.extend(page)
                if len(page) < audit_log.MAX_PAGE:
                    break
        return verify_chain(rows)


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
