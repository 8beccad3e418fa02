"""The intake service's composition root: its parts built once from settings and the runtime.

`create_app` builds the container in its lifespan and keeps it on `app.state.container`; routes
reach its parts only through `deps.py`. Nothing runs until `start`.
"""

from __future__ import annotations

from dataclasses import dataclass

import httpx
from sqlalchemy.engine import Connection
from sqlalchemy.ext.asyncio import AsyncSession

from libs.common.clock import Clock
from libs.common.http import make_client
from libs.common.nats import ConsumerSpec
from libs.common.outbox import OutboxRelay
from libs.common.ratelimit import RateLimiter
from libs.common.runtime import Runtime
from libs.common.scrub import WalScrubber
from libs.common.secretkey import load_or_create_secret_key
from libs.common.system import dead_letter_sink
from services.intake import repository as repo
from services.intake.consumer import RECEIPTS_LINGER_S, stored_batch_handler, stored_handler
from services.intake.followups import erased_handler
from services.intake.metrics import IntakeMetrics
from services.intake.models import DeadLetter
from services.intake.sealing import SealingKey
from services.intake.service import Intake
from services.intake.settings import IntakeSettings
from services.intake.writer import BatchWriter

DEAD_LETTERS = DeadLetter.__table__  # type: ignore[attr-defined]


@dataclass
class Container:
    """What the routes, the consumer and the background tasks of one process use."""

    runtime: Runtime
    clock: Clock
    intake: Intake
    relay: OutboxRelay
    writer: BatchWriter
    http: httpx.AsyncClient
    # A relayed outbox row held a sealed report: its WAL frames go soon after.
    scrubber: WalScrubber

    async def aclose(self) -> None:
        """Close the HTTP client to sharing."""
        await self.http.aclose()


def _mac_key(settings: IntakeSettings) -> bytes:
    # Keys the content digest used to tell a retry from a conflict; never leaves this service.
    return load_or_create_secret_key(settings.resolved_content_mac_key_file())


def build_container(settings: IntakeSettings, runtime: Runtime, clock: Clock) -> Container:
    """Wire the parts, every one on `clock`; nothing runs until `start`."""
    http = make_client(settings.sharing_url)
    scrubber = WalScrubber(runtime.sessions)

    async def published(session: AsyncSession, event_ids: list[str]) -> None:
        await repo.mark_published(session, event_ids, clock.now())

    def published_blocking(conn: Connection, event_ids: list[str]) -> None:
        repo.mark_published_blocking(conn, event_ids, clock.now())
        scrubber.dirty()

    relay = OutboxRelay(
        runtime,
        repo.OUTBOX,
        interval=settings.relay_interval_s,
        on_published=published,
        on_published_blocking=published_blocking,
        clock=clock,
    )
    writer = BatchWriter(runtime, relay)
    intake = Intake(
        sessions=runtime.sessions,
        sealing_key=SealingKey(
            http,
            settings.pinned_fingerprints(),
            settings.data_dir / "intake-sealing-key.pub",
            clock=clock,
        ),
        mac_key=_mac_key(settings),
        limiter=RateLimiter(settings.rate_burst, settings.rate_per_second, name="client"),
        writer=writer,
        clock=clock,
        metrics=IntakeMetrics.on(runtime.metrics),
    )
    return Container(
        runtime=runtime,
        clock=clock,
        intake=intake,
        relay=relay,
        writer=writer,
        http=http,
        scrubber=scrubber,
    )


def start(container: Container) -> None:
    """Run the batch writer and the outbox relay; the consumer starts once NATS is connected."""
    runtime = container.runtime
    runtime.spawn(container.writer.run(runtime.stop), "batch-writer")
    runtime.spawn(container.relay.run(), "outbox-relay")
    runtime.spawn(container.scrubber.run(runtime.stop), "wal-scrub")
    runtime.start_nats(lambda rt: wire_consumers(rt, container.writer))


async def wire_consumers(runtime: Runtime, writer: BatchWriter) -> None:
    """The durable consumers of sharing's `report.stored` receipts and `report.erased`."""
    # A receipt's transaction also carries the writer's "published" bookkeeping. Nobody waits
    # on a receipt: under load they come in batches a linger apart, one transaction each.
    await runtime.consume(
        ConsumerSpec.granted("intake", "intake-receipts", linger_s=RECEIPTS_LINGER_S),
        stored_handler(writer.carry),
        dead_letter_sink(runtime, DEAD_LETTERS),
        batch_handler=stored_batch_handler(writer.carry),
    )
    await runtime.consume(
        ConsumerSpec.granted("intake", "intake-erasures"),
        erased_handler(runtime),
        dead_letter_sink(runtime, DEAD_LETTERS),
    )
