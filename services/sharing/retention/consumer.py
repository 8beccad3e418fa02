"""Other services' retention runs, as they reach sharing's audit chain (`system.pruned`)."""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from libs.common.clock import SYSTEM_CLOCK, Clock
from libs.common.contracts import SystemPruned, read_event
from libs.common.db import transaction
from libs.common.events import Envelope
from libs.common.inbox import mark_processed
from libs.common.nats import ConsumerSpec
from libs.common.runtime import Runtime
from libs.common.system import dead_letter_sink
from services.sharing.audit import repository as audit_log
from services.sharing.models import DEAD_LETTERS, INBOX
from services.sharing.retention.domain import RETENTION_ACTOR

CONSUMER = ConsumerSpec.granted("sharing", "sharing-pruned")


class PrunedRecorder:
    """Appends each run another service reports to the audit chain, once per event."""

    def __init__(
        self, sessions: async_sessionmaker[AsyncSession], *, clock: Clock = SYSTEM_CLOCK
    ) -> None:
        self.sessions = sessions
        self.clock = clock

    async def on_pruned(self, event: Envelope) -> None:
        """One audit entry per run; its target is the producer the event's signature proves."""
        data = read_event(event, SystemPruned)
        now = self.clock.now()
        async with transaction(self.sessions) as session:
            if not await mark_processed(session, INBOX, event, now):
                return
            await audit_log.append(
                session,
                actor=RETENTION_ACTOR,
                action="retention.sweep",
                target=event.producer,
                details=dict(data.counts),  # as sharing's own runs: counts, never ids
                now=now,
            )


async def consume_pruned(runtime: Runtime, recorder: PrunedRecorder) -> None:
    """Start the durable that reads other services' runs."""
    await runtime.consume(CONSUMER, recorder.on_pruned, dead_letter_sink(runtime, DEAD_LETTERS))
