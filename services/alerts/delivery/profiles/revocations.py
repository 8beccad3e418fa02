"""`auth.revoked`: a revoked or seized lawyer (or organisation) is paged no more.

The token checks stop a revoked client from calling the API; this stops the other direction.
A seized lawyer's devices may be in the adversary's hands, and an alert's details must not keep
flowing to them: every endpoint of that lawyer (or of every lawyer and the duty desk of a
disabled or seized partner) is disabled, so pages not yet sent are cancelled when claimed
(`skip:contact_disabled`) and no new one goes there. Saving the profile again, once the client
is back with new keys, re-enables them.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from libs.common.auth.revocation import RevocationKind
from libs.common.clock import Clock
from libs.common.consumer import Handler
from libs.common.contracts import AuthRevoked, read_event
from libs.common.db import transaction
from libs.common.events import Envelope
from libs.common.inbox import mark_processed
from services.alerts.delivery.profiles import repository as repo
from services.alerts.models import INBOX

log = logging.getLogger(__name__)
REASON = "revoked"


@dataclass
class Suspender:
    """Disables the endpoints of revoked clients and disabled partners."""

    sessions: async_sessionmaker[AsyncSession]
    clock: Clock

    async def on_revoked(self, event: Envelope, revoked: AuthRevoked) -> int:
        """Apply one revocation; returns how many endpoints were disabled. Idempotent."""
        if revoked.kind not in (RevocationKind.CLIENT, RevocationKind.ORG):
            return 0  # a key or a signing key: the client itself may still be paged
        lawyer = revoked.id if revoked.kind == RevocationKind.CLIENT else None
        org = revoked.id if revoked.kind == RevocationKind.ORG else None
        now = self.clock.now()
        async with transaction(self.sessions) as session:
            # Once only: a redelivered old revocation must not undo a later re-enabling.
            if not await mark_processed(session, INBOX, event, now):
                return 0
            count = await repo.disable_contacts_of(
                session, lawyer_id=lawyer, org_id=org, reason=REASON, now=now
            )
        if count:
            log.warning("endpoints of a revoked %s disabled", revoked.kind, extra={"count": count})
        return count


def revoked_handler(suspender: Suspender) -> Handler:
    """Disable what a revocation says may no longer be reached."""

    async def handle(event: Envelope) -> None:
        await suspender.on_revoked(event, read_event(event, AuthRevoked))

    return handle
