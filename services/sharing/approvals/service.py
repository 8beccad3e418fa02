"""Two-person approval: store a gated request, let a second operator decide, run it exactly once."""

from __future__ import annotations

import json
import logging
from collections.abc import Awaitable, Callable
from datetime import datetime, timedelta
from typing import Any

from libs.common.auth.principal import Principal
from libs.common.db import transaction
from libs.common.errors import Conflict, LifelineError, NotFound
from services.sharing.access.changes import Change, Changes
from services.sharing.access.repository import usable_admin_count
from services.sharing.approvals import repository as repo
from services.sharing.approvals.domain import (
    ApprovalAction,
    ApprovalStatus,
    Requester,
    check_second_operator,
    new_approval_id,
)
from services.sharing.approvals.repository import ApprovalRow
from services.sharing.seizure import repository as seizure_repo
from services.sharing.seizure.domain import TargetKind

log = logging.getLogger(__name__)

# Runs an approved request as its requester; returns what the action's route would have answered.
Runner = Callable[[ApprovalRow], Awaitable[dict[str, Any]]]
ActiveCheck = Callable[[str], Awaitable[bool]]


class Approvals:
    """The action registry, the pending requests and their decisions."""

    def __init__(
        self,
        changes: Changes,
        *,
        required: frozenset[ApprovalAction],
        ttl_s: float,
        is_active: ActiveCheck,
    ) -> None:
        self.changes = changes
        self.sessions = changes.sessions
        self.ttl = timedelta(seconds=ttl_s)
        self.is_active = is_active
        self._required = required
        self.runners: dict[ApprovalAction, Runner] = {}

    def register(self, action: ApprovalAction, runner: Runner) -> None:
        """Say how an approved `action` runs (the container registers every action once)."""
        self.runners[action] = runner

    async def required(self, action: ApprovalAction) -> bool:
        """Whether `action` waits for a second operator: set so, and a second one can sign in.

        With one operator there is nobody to approve: the action runs as before, which is how
        the first operator enrols the second (docs/auth.md says what this leaves open).
        """
        if action not in self._required:
            return False
        async with self.sessions() as session:
            return await usable_admin_count(session, self.changes.now()) >= 2

    async def request(
        self, action: ApprovalAction, principal: Principal, target: str, request: dict[str, Any]
    ) -> ApprovalRow:
        """Store the exact request; it runs only once another operator approves it."""
        approval_id, requester = new_approval_id(), Requester.of(principal)
        async with self.changes.begin(principal.client_id) as change:
            await repo.insert(
                change.session,
                {
                    "id": approval_id,
                    "action": action,
                    "target": target,
                    "request": json.dumps(request, sort_keys=True),
                    "status": ApprovalStatus.PENDING,
                    "requested_by": requester.client_id,
                    "requested_org": requester.partner_id,
                    "requester": json.dumps(requester.record(), sort_keys=True),
                    "requested_at": change.now,
                    "expires_at": change.now + self.ttl,
                },
            )
            await change.audit("approval.request", approval_id, gated=action.value, about=target)
            return await _approval(change, approval_id)

    async def listing(
        self, status: ApprovalStatus | None, after: tuple[datetime, str] | None, limit: int
    ) -> list[ApprovalRow]:
        """Approvals, newest first, after the position `after` (expired ones marked so first)."""
        await self._expire()
        async with self.sessions() as session:
            return await repo.listing(session, status, after, limit)

    async def get(self, approval_id: str) -> ApprovalRow:
        """One approval (404 if unknown)."""
        await self._expire()
        async with self.sessions() as session:
            row = await repo.get(session, approval_id)
        if row is None:
            raise NotFound("no such approval")
        return row

    async def approve(self, approver: str, approval_id: str) -> ApprovalRow:
        """Approve as a second operator and run the action, once whatever the concurrency."""
        row = await self.get(approval_id)
        check_second_operator(row.requester.client_id, approver)
        async with self.changes.begin(approver) as change:
            if not await repo.decide(
                change.session, approval_id, ApprovalStatus.RUNNING, approver, change.now
            ):
                raise Conflict("the approval is no longer pending")
            await change.audit(
                "approval.approve",
                approval_id,
                gated=row.action,
                about=row.target,
                requested_by=row.requester.client_id,
            )
        status, outcome = await self._run(row)
        async with transaction(self.sessions) as session:
            await repo.finish(session, approval_id, status, outcome)
        return await self.get(approval_id)

    async def deny(self, decider: str, approval_id: str) -> ApprovalRow:
        """Deny as a second operator: the action never runs."""
        row = await self.get(approval_id)
        check_second_operator(row.requester.client_id, decider)
        async with self.changes.begin(decider) as change:
            if not await repo.decide(
                change.session, approval_id, ApprovalStatus.DENIED, decider, change.now
            ):
                raise Conflict("the approval is no longer pending")
            await change.audit("approval.deny", approval_id, gated=row.action, about=row.target)
        return await self.get(approval_id)

    async def cancel_for_seizure(self, change: Change, kind: TargetKind, target: str) -> list[str]:
        """Cancel what a seized client or partner asked for, and key registrations for it."""
        if kind == TargetKind.CLIENT:
            return await repo.cancel_for(change.session, client_ids=[target], partner_id=None)
        clients = await seizure_repo.client_ids(change.session, target)
        return await repo.cancel_for(change.session, client_ids=clients, partner_id=target)

    async def _run(self, row: ApprovalRow) -> tuple[ApprovalStatus, dict[str, Any]]:
        # The requester may have been revoked or seized while the request waited.
        if not await self.is_active(row.requester.client_id):
            detail = "the requesting client is no longer active"
            return ApprovalStatus.FAILED, {"error": "requester_inactive", "detail": detail}
        try:
            result = await self.runners[ApprovalAction(row.action)](row)
        except LifelineError as exc:
            return ApprovalStatus.FAILED, exc.body()
        except Exception as exc:
            # Whatever the action wrote rolled back with its own transaction; never re-run it.
            log.warning(
                "approved action failed",
                extra={"approval_id": row.id, "reason": type(exc).__name__},
            )
            return ApprovalStatus.FAILED, {"error": "internal", "detail": type(exc).__name__}
        return ApprovalStatus.DONE, {"result": result}

    async def _expire(self) -> None:
        async with transaction(self.sessions) as session:
            await repo.expire_due(session, self.changes.now())


async def _approval(change: Change, approval_id: str) -> ApprovalRow:
    row = await repo.get(change.session, approval_id)
    assert row is not None  # written in this very transaction
    return row
