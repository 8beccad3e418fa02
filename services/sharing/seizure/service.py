"""Seize a client or a partner in one audited transaction; lift a seizure (keys stay revoked)."""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable
from datetime import datetime

from libs.common.auth.revocation import RevocationKind
from libs.common.errors import Conflict, NotFound
from services.sharing.access import repository as access_repo
from services.sharing.access.changes import Change, Changes
from services.sharing.access.domain import ClientStatus, PartnerStatus
from services.sharing.access.enrolment import repository as enrol_repo
from services.sharing.access.service import keep_an_admin
from services.sharing.seizure import repository as repo
from services.sharing.seizure.domain import (
    SeizureStatus,
    Taken,
    TargetKind,
    new_seizure_id,
    target_of,
)
from services.sharing.seizure.repository import SeizureRow

# Cancels the pending approvals a seized client or partner requested (approvals context).
CancelRequests = Callable[[Change, TargetKind, str], Awaitable[list[str]]]


async def _nothing_pending(change: Change, kind: TargetKind, target: str) -> list[str]:
    return []


class SeizureAdmin:
    """Seizures, as the admin API uses them."""

    def __init__(self, changes: Changes, cancel_requests: CancelRequests = _nothing_pending):
        self.changes = changes
        self.sessions = changes.sessions
        self.cancel_requests = cancel_requests

    async def seize(
        self, actor: str, client_id: str | None, partner_id: str | None, reason: str
    ) -> SeizureRow:
        """Revoke every key, token, delivery key and grant of the target, all in one commit."""
        kind, target = target_of(client_id, partner_id)
        async with self.changes.begin(actor) as change:
            session, now = change.session, change.now
            # The status write comes first: it takes the write lock (SQLite) or the row lock
            # (PostgreSQL), so two seizures of one target serialise before the check below.
            if kind == TargetKind.CLIENT:
                client = await access_repo.get_client(session, target)
                if client is None:
                    raise NotFound("no such client")
                owner, prior, clients = client.partner_id, client.status, [target]
                await repo.set_client_status(
                    session, target, ClientStatus.ACTIVE, ClientStatus.SEIZED
                )
            else:
                partner = await access_repo.get_partner(session, target)
                if partner is None:
                    raise NotFound("no such partner")
                owner, prior = target, partner.status
                clients = await repo.client_ids(session, target)
                await repo.set_partner_status(
                    session, target, PartnerStatus.ACTIVE, PartnerStatus.SEIZED
                )
            if await repo.active_on(session, kind, target):
                raise Conflict("this target is already seized; lift that seizure first")
            # A client's seizure takes the delivery keys it registered (its machine may hold
            # their private halves) but not its partner's grants, which other clients still use.
            taken = Taken(
                clients=clients,
                client_keys=await repo.revoke_client_keys(session, clients, now),
                delivery_keys=await repo.revoke_delivery_keys(
                    session, owner, target if kind == TargetKind.CLIENT else None, now
                ),
                report_grants=(
                    await repo.withdraw_grants(session, owner) if kind == TargetKind.PARTNER else []
                ),
                approvals=await self.cancel_requests(change, kind, target),
                # A code handed out before the seizure must not enrol a key afterwards.
                enrolments=await enrol_repo.cancel_for_clients(session, clients, now),
            )
            await keep_an_admin(change)
            seizure_id = new_seizure_id()
            await repo.insert(
                session,
                {
                    "id": seizure_id,
                    "target_kind": kind,
                    "target_id": target,
                    "partner_id": owner,
                    "prior_status": prior,
                    "reason": reason,
                    "status": SeizureStatus.ACTIVE,
                    "counts": json.dumps(taken.record(), sort_keys=True),
                    "created_at": now,
                    "created_by": actor,
                },
            )
            # The reason stays in the seizure row: the chained log cannot forget a name in it.
            await change.audit(
                "seizure.create",
                seizure_id,
                target_kind=kind.value,
                target_id=target,
                partner_id=owner,
                **taken.counts(),
            )
            revocation = RevocationKind.CLIENT if kind == TargetKind.CLIENT else RevocationKind.ORG
            await change.revoke(revocation, target)
            return await _seizure(change, seizure_id)

    async def check_liftable(self, seizure_id: str) -> SeizureRow:
        """The seizure, if it can still be lifted (404 unknown, 409 already lifted)."""
        async with self.sessions() as session:
            row = await repo.get(session, seizure_id)
        if row is None:
            raise NotFound("no such seizure")
        if row.status != SeizureStatus.ACTIVE:
            raise Conflict("this seizure is already lifted")
        return row

    async def lift(self, actor: str, seizure_id: str, approval_id: str | None = None) -> SeizureRow:
        """Let the target back in: its status as before; revoked keys and grants stay revoked."""
        async with self.changes.begin(actor) as change:
            row = await repo.get(change.session, seizure_id, lock=True)
            if row is None:
                raise NotFound("no such seizure")
            if not await repo.mark_lifted(
                change.session, seizure_id, actor, approval_id, change.now
            ):
                raise Conflict("this seizure is already lifted")
            # Only a target still seized goes back (revoked or disabled meanwhile stays so).
            if row.target_kind == TargetKind.CLIENT:
                await repo.set_client_status(
                    change.session, row.target_id, ClientStatus.SEIZED, row.prior_status
                )
            else:
                await repo.set_partner_status(
                    change.session, row.target_id, PartnerStatus.SEIZED, row.prior_status
                )
            await change.audit(
                "seizure.lift",
                seizure_id,
                target_kind=row.target_kind,
                target_id=row.target_id,
                approval=approval_id,
            )
            return await _seizure(change, seizure_id)

    async def listing(
        self,
        status: SeizureStatus | None = None,
        after: tuple[datetime, str] | None = None,
        limit: int | None = None,
    ) -> list[SeizureRow]:
        """Seizures, newest first (only active or lifted ones, if asked), after `after`."""
        async with self.sessions() as session:
            return await repo.listing(session, status, after, limit)

    async def get(self, seizure_id: str) -> SeizureRow:
        """One seizure (404 if unknown)."""
        async with self.sessions() as session:
            row = await repo.get(session, seizure_id)
        if row is None:
            raise NotFound("no such seizure")
        return row


async def _seizure(change: Change, seizure_id: str) -> SeizureRow:
    row = await repo.get(change.session, seizure_id)
    assert row is not None  # written in this very transaction
    return row
