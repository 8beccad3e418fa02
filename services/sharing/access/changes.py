"""One audited registry change: domain rows, audit entry and revocation events in one commit."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from libs.common.auth.revocation import RevocationKind, revocation_event_data
from libs.common.clock import SYSTEM_CLOCK, Clock
from libs.common.contracts import AuthRevoked, new_event
from libs.common.db import transaction
from libs.common.outbox import enqueue
from services.sharing.audit import repository as audit_log
from services.sharing.models import OUTBOX

RevocationSink = Callable[[dict[str, Any]], None]


@dataclass
class Change:
    """The open transaction of one change; `audit` and `revoke` write inside it."""

    session: AsyncSession
    now: datetime
    actor: str
    revocations: list[dict[str, Any]] = field(default_factory=list)

    async def audit(self, action: str, target: str, **details: Any) -> None:
        """Append the audit entry (after the domain rows: see `audit_log.append`)."""
        await audit_log.append(
            self.session,
            actor=self.actor,
            action=action,
            target=target,
            details=details,
            now=self.now,
        )

    async def revoke(self, kind: RevocationKind, ident: str) -> None:
        """Announce a revocation through the outbox, committed with the change itself."""
        data = revocation_event_data(kind, ident, self.now.timestamp())
        await enqueue(self.session, OUTBOX, new_event(AuthRevoked(**data), "sharing", at=self.now))
        self.revocations.append(data)


class Changes:
    """Opens changes; after each commit applies its revocations here and wakes the relay."""

    def __init__(
        self,
        sessions: async_sessionmaker[AsyncSession],
        *,
        on_revoked: RevocationSink,
        wake_relay: Callable[[], None],
        clock: Clock = SYSTEM_CLOCK,
    ) -> None:
        self.sessions = sessions
        self._on_revoked = on_revoked
        self._wake = wake_relay
        self.clock = clock

    def now(self) -> datetime:
        """The current time, from the injected clock."""
        return self.clock.now()

    @asynccontextmanager
    async def begin(self, actor: str) -> AsyncIterator[Change]:
        """A change by `actor`: all of it commits, or none of it (an error rolls back)."""
        async with transaction(self.sessions) as session:
            change = Change(session, self.now(), actor)
            yield change
        if change.revocations:
            # This replica refuses the tokens at once, without waiting for its own feed; the
            # relay publishes now rather than at its next tick, for every other replica.
            for data in change.revocations:
                self._on_revoked(data)
            self._wake()
