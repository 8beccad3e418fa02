"""Admin use cases for partners and clients; every change is audited."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncSession

from libs.common.auth.revocation import RevocationKind
from libs.common.auth.roles import OPERATOR_ONLY, Role
from libs.common.errors import Conflict, Forbidden, InvalidInput, NotFound
from services.sharing.access import repository as repo
from services.sharing.access.changes import Change, Changes
from services.sharing.access.domain import (
    PartnerStatus,
    check_role,
    check_scopes,
    new_client_id,
    new_partner_id,
)
from services.sharing.access.rows import ClientRow, PartnerRow


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

    async def list_partners(
        self, after: tuple[datetime, str] | None = None, limit: int | None = None
    ) -> list[PartnerRow]:
        """Partners, oldest first, after the position `after`."""
        async with self.sessions() as session:
            return await repo.list_partners(session, after, limit)

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

    async def set_contact(
        self, actor: str, partner_id: str, contact: str | None, *, within: str | None = None
    ) -> PartnerRow:
        """Set the partner's contact line for lawyers (its own partner administrator, or ours)."""
        if within is not None and partner_id != within:
            raise NotFound("no such partner")
        async with self.changes.begin(actor) as change:
            if not await repo.set_lawyer_contact(change.session, partner_id, contact):
                raise NotFound("no such partner")
            # The line may hold a person's name or number: the audit log says only that it changed.
            await change.audit("partner.contact", partner_id, cleared=contact is None)
            return await _partner(change.session, partner_id)

    # --- clients ---------------------------------------------------------------------------

    async def create_client(
        self,
        actor: str,
        partner_id: str,
        name: str,
        role: Role,
        scopes: list[str],
        *,
        within: str | None = None,
    ) -> ClientRow:
        """Register an API client of an active partner, with a role that bounds its scopes."""
        try:
            granted = check_scopes(scopes)
        except ValueError as exc:
            raise InvalidInput(str(exc), fields=[{"path": "scopes", "reason": str(exc)}]) from None
        if within is not None and (partner_id != within or role in OPERATOR_ONLY):
            raise Forbidden("a partner administrator registers clients of its own partner only")
        client_id = new_client_id()
        async with self.changes.begin(actor) as change:
            partner = await _partner(change.session, partner_id)
            if partner.status != PartnerStatus.ACTIVE:
                raise Conflict("the partner is disabled")
            problems = check_role(role, granted, operator_org=partner.is_operator)
            if problems:
                raise InvalidInput("the role does not allow this client", fields=problems)
            await repo.insert_client(
                change.session,
                id=client_id,
                partner_id=partner_id,
                name=name,
                role=role,
                scopes=granted,
                now=change.now,
            )
            await change.audit(
                "client.create",
                client_id,
                partner_id=partner_id,
                name=name,
                role=role.value,
                scopes=sorted(granted),
            )
            return await client_of(change.session, client_id)

    async def list_clients(
        self,
        partner_id: str | None,
        *,
        within: str | None = None,
        after: tuple[datetime, str] | None = None,
        limit: int | None = None,
    ) -> list[ClientRow]:
        """Clients, of one partner if given (a partner administrator's: only its own)."""
        if within is not None:
            if partner_id not in (None, within):
                raise Forbidden("a partner administrator sees its own partner's clients only")
            partner_id = within
        async with self.sessions() as session:
            if partner_id is not None:
                await _partner(session, partner_id)
            return await repo.list_clients(session, partner_id, after, limit)

    async def get_client(self, client_id: str, *, within: str | None = None) -> ClientRow:
        """One client (404 if unknown, or not the partner administrator's to manage)."""
        async with self.sessions() as session:
            return await client_of(session, client_id, within)

    async def revoke_client(
        self, actor: str, client_id: str, *, within: str | None = None
    ) -> ClientRow:
        """Revoke a client: no more tokens, and its outstanding tokens stop everywhere."""
        async with self.changes.begin(actor) as change:
            await client_of(change.session, client_id, within)
            if await repo.revoke_client(change.session, client_id, change.now):
                await keep_an_admin(change)
                await change.audit("client.revoke", client_id)
                await change.revoke(RevocationKind.CLIENT, client_id)
            # Revoking twice is not an error either.
            return await client_of(change.session, client_id)


async def _partner(session: AsyncSession, partner_id: str) -> PartnerRow:
    partner = await repo.get_partner(session, partner_id)
    if partner is None:
        raise NotFound("no such partner")
    return partner


async def client_of(session: AsyncSession, client_id: str, within: str | None = None) -> ClientRow:
    """The client; for a partner administrator (`within`) only a non-operator one of its own."""
    client = await repo.get_client(session, client_id)
    if client is None or not manages(within, client):
        # Another partner's client is "no such client": its ids are not the caller's to learn.
        raise NotFound("no such client")
    return client


def manages(within: str | None, client: ClientRow) -> bool:
    """Whether a caller managing `within` (None: the operator) may manage this client."""
    return within is None or (client.partner_id == within and client.role not in OPERATOR_ONLY)
