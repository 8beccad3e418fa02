"""Transactional outbox: events written with the data they describe, then relayed to JetStream."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable, Collection, Sequence
from contextlib import AbstractContextManager
from datetime import UTC, datetime
from typing import Any, ClassVar, NamedTuple

from nats.js import JetStreamContext
from opentelemetry.trace import SpanKind
from sqlalchemy import BigInteger, Integer, Table, delete, func, select
from sqlalchemy.engine import Connection
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import Field, SQLModel

from libs.common import tracing
from libs.common.clock import SYSTEM_CLOCK, Clock
from libs.common.db import is_sqlite, transaction
from libs.common.events import Envelope
from libs.common.runtime import Runtime
from libs.common.ticker import Ticker

log = logging.getLogger(__name__)

# Runs in the transaction that deletes published rows, with their event ids.
PublishedHook = Callable[[AsyncSession, list[str]], Awaitable[None]]

# How long one publish ack may take before the row counts as not published (and is retried).
PUBLISH_TIMEOUT_S = 5.0

# The relay's safety poll: every commit that enqueues wakes it, and so does a NATS reconnect,
# so the poll only catches what nobody woke it for; polling every second cost each idle
# service a database query a second.
RELAY_INTERVAL_S = 5.0


class OutboxBase(SQLModel):
    """Columns of a service's outbox; `seq` orders publication and is never reused."""

    # AUTOINCREMENT: a plain SQLite rowid key hands the highest seq out again once that row is
    # deleted, and the emptied table starts over at 1.
    __table_args__: ClassVar[dict[str, Any]] = {"sqlite_autoincrement": True}

    # sa_type, not sa_column: one Column object cannot belong to two services' outbox tables.
    seq: int | None = Field(
        default=None,
        primary_key=True,
        sa_type=BigInteger().with_variant(Integer, "sqlite"),
        sa_column_kwargs={"autoincrement": True},
    )
    event_id: str = Field(max_length=64, unique=True)
    subject: str = Field(max_length=256)
    payload: bytes
    created_at: datetime = Field(default_factory=SYSTEM_CLOCK.now)
    # The trace the event was written in (`tracing.stored`), so its publish continues it.
    trace_context: str | None = Field(default=None, max_length=1024)


def outbox_row(event: Envelope, trace_context: str | None = None) -> dict[str, Any]:
    """Column values of one outbox row (written when its event occurred)."""
    payload = event.model_dump_json().encode()
    return encoded_row(event.id, event.type, payload, event.occurred_at, trace_context)


def encoded_row(
    event_id: str, subject: str, payload: bytes, at: datetime, trace_context: str | None
) -> dict[str, Any]:
    """Column values of the outbox row of an event its producer encoded itself."""
    return {
        "event_id": event_id,
        "subject": subject,
        "payload": payload,
        "created_at": at,
        "trace_context": trace_context,
    }


class Unsent(NamedTuple):
    """An event a publisher holds in memory: the columns of its outbox row the relay reads."""

    event_id: str
    subject: str
    payload: bytes
    trace_context: str | None


def unsent(row: dict[str, Any]) -> Unsent:
    """The in-memory form of an outbox row (as `outbox_row` makes it)."""
    return Unsent(row["event_id"], row["subject"], row["payload"], row["trace_context"])


async def enqueue(session: AsyncSession, table: Table, event: Envelope) -> None:
    """Add an event to the outbox inside the caller's transaction (and its trace)."""
    await session.execute(table.insert().values(**outbox_row(event, tracing.stored())))


class OutboxRelay:
    """Publishes outbox rows in order with `Nats-Msg-Id`, deleting each after its publish ack.

    Several relays may share one outbox (replicas on PostgreSQL, processes on one SQLite
    file); each deletes exactly the event ids it saw acknowledged, never rows by position.
    """

    def __init__(
        self,
        runtime: Runtime,
        table: Table,
        *,
        batch: int = 256,
        interval: float = RELAY_INTERVAL_S,
        on_published: PublishedHook | None = None,
        on_published_blocking: Callable[[Connection, list[str]], None] | None = None,
        clock: Clock = SYSTEM_CLOCK,
    ) -> None:
        self.on_published = on_published
        # The same hook for the SQLite path, which forgets published rows in a worker thread.
        self.on_published_blocking = on_published_blocking
        self.runtime = runtime
        self.table = table
        self.batch = batch
        self.interval = interval
        self._ticker = Ticker(interval)
        self.clock = clock
        self.metrics = runtime.metrics
        self.metrics.probe("outbox", self.measure)
        runtime.on_reconnect.append(self.wake)
        # Events another publisher of this process sent right after their commit and has not
        # forgotten yet (intake's writer): the relay leaves them alone, and takes over whatever
        # is released unacknowledged. A crash forgets the claims: the rows are relayed then.
        self.claimed: set[str] = set()
        # Ids released while a batch is read: a row committed and forgotten during the read was
        # claimed neither when it began nor by its end, yet a snapshot in between shows it.
        self._released: set[str] | None = None

    def release(self, event_ids: Collection[str]) -> None:
        """A publisher holds these no longer (forgotten, never written, or handed back)."""
        self.claimed.difference_update(event_ids)
        if self._released is not None:
            self._released.update(event_ids)

    async def measure(self) -> None:
        """Set the outbox gauges: rows waiting and the age of the oldest (one query a scrape)."""
        t = self.table
        async with self.runtime.sessions() as session:
            waiting, oldest = (
                await session.execute(select(func.count(), func.min(t.c.created_at)).select_from(t))
            ).one()
        self.metrics.outbox_waiting.set(waiting)
        if oldest is None:
            self.metrics.outbox_oldest_age.set(0)
            return
        oldest = oldest if oldest.tzinfo else oldest.replace(tzinfo=UTC)
        self.metrics.outbox_oldest_age.set(max((self.clock.now() - oldest).total_seconds(), 0))

    def wake(self) -> None:
        """Publish now rather than at the next tick (call after a commit that enqueued)."""
        self._ticker.wake()

    async def run(self) -> None:
        """Drain on every wake-up and every `interval` (every second while rows wait for NATS);
        never dies on NATS or database errors."""
        await self._ticker.run(self.runtime.stop, self.drain, "outbox-relay")

    async def drain(self) -> int:
        """Publish everything pending; returns how many events were published."""
        total = 0
        while True:
            read, published = await self._publish_batch()
            total += published
            if published < read or self.runtime.nc is None or not self.runtime.nc.is_connected:
                # NATS away or refusing: try again in a second, not at the next safety poll.
                self._ticker.soon()
                return total
            if read < self.batch:
                return total

    async def _publish_batch(self) -> tuple[int, int]:
        """(rows read, rows published) of one batch."""
        js, nc = self.runtime.js, self.runtime.nc
        if js is None or nc is None or not nc.is_connected:
            return 0, 0
        t = self.table
        query = (
            select(t.c.seq, t.c.event_id, t.c.subject, t.c.payload, t.c.trace_context)
            .order_by(t.c.seq)
            .limit(self.batch)
        )
        # Claimed when the read starts, by the time it ends, or released in between: a row
        # forgotten meanwhile was claimed before, one committed meanwhile is claimed by now, or
        # was forgotten and released before the read ended (`release`). A row handed back
        # meanwhile waits for the next batch, which its hand-back wakes.
        held, self._released = set(self.claimed), set()
        try:
            if is_sqlite(str(self.runtime.engine.url)):
                # Read without SQLite's single write lock, so submissions keep committing while
                # the relay waits for NATS. A second relay on the same file may read and publish
                # the same rows: JetStream stores a repeated `Nats-Msg-Id` once (the stream's
                # duplicate window is hours), and each relay deletes only the ids it saw acked.
                async with self.runtime.sessions() as session:
                    rows = (await session.execute(query)).all()
                mine = self._unclaimed(rows, held)
                done = await self._publish(js, mine) if mine else []
                if done:
                    await self.runtime.write(lambda conn: self._forget_blocking(conn, done))
                return len(rows), len(done)
            async with transaction(self.runtime.sessions) as session:
                # SKIP LOCKED: several replicas relay side by side, never a row twice.
                rows = (await session.execute(query.with_for_update(skip_locked=True))).all()
                done = await self._publish(js, self._unclaimed(rows, held))
                if done:
                    await self._forget(session, done)
            return len(rows), len(done)
        finally:
            self._released = None

    def _unclaimed(self, rows: Sequence[Any], held: set[str]) -> list[Any]:
        claimed = held | self.claimed | (self._released or set())
        return [r for r in rows if r.event_id not in claimed] if claimed else list(rows)

    async def _publish(self, js: JetStreamContext, rows: Sequence[Any]) -> list[Any]:
        """Publish pipelined (all sends before the first ack wait); the acked prefix."""
        return await self.settle(rows, await self.send(js, rows))

    async def send(self, js: JetStreamContext, rows: Sequence[Any]) -> list[asyncio.Future[Any]]:
        """Send each row's event (signed, `Nats-Msg-Id` = event id) without waiting for acks;
        the ack futures of those sent, in order (fewer than the rows if the connection went)."""
        signer = self.runtime.signer
        futures: list[asyncio.Future[Any]] = []
        try:
            for r in rows:
                headers = {"Nats-Msg-Id": r.event_id}
                if signer is not None:
                    headers |= signer.headers(r.subject, r.payload)
                with self._span(r):
                    # After signing: the trace headers are hints outside what is signed.
                    headers = tracing.inject(headers)
                    futures.append(await js.publish_async(r.subject, r.payload, headers=headers))
        except Exception as exc:
            # The connection went mid-batch: what was sent still gets awaited in `settle`.
            log.warning("publish failed", extra={"reason": type(exc).__name__})
        return futures

    async def settle(self, rows: Sequence[Any], futures: list[asyncio.Future[Any]]) -> list[Any]:
        """The rows whose acks came, up to the first that failed or is missing.

        Every ack is awaited, failed or not: a future left behind would fail later as "Future
        exception was never retrieved". Rows after the first failure stay and are published
        again, in order, with the same `Nats-Msg-Id`: JetStream stores an acked one only once.
        """
        acks = await asyncio.gather(
            *(asyncio.wait_for(f, PUBLISH_TIMEOUT_S) for f in futures), return_exceptions=True
        )
        done: list[Any] = []
        for row, ack in zip(rows, acks, strict=False):
            if isinstance(ack, BaseException):
                log.warning(
                    "publish failed", extra={"event_id": row.event_id, "reason": type(ack).__name__}
                )
                break
            done.append(row)
            self.metrics.published.labels(row.subject).inc()
        return done

    def _span(self, row: Any) -> AbstractContextManager[Any]:
        """The PRODUCER span of one publish, in the trace its event was written in."""
        return tracing.span(
            self.runtime.settings.service_name,
            f"{row.subject} publish",
            SpanKind.PRODUCER,
            parent=tracing.from_stored(row.trace_context),
            attributes={
                "messaging.system": "nats",
                "messaging.destination.name": row.subject,
                "messaging.message.id": row.event_id,
            },
        )

    def _forget_blocking(self, conn: Connection, done: list[Any]) -> None:
        self.forget_blocking(conn, [r.event_id for r in done])

    def forget_blocking(self, conn: Connection, event_ids: list[str]) -> None:
        """Delete the rows of these acknowledged events in the caller's transaction (a worker
        thread's), and tell the hook which of them this call deleted."""
        ids = conn.execute(self._delete(event_ids)).scalars().all()
        if ids and self.on_published_blocking is not None:
            self.on_published_blocking(conn, list(ids))

    async def _forget(self, session: AsyncSession, done: list[Any]) -> None:
        ids = (await session.execute(self._delete([r.event_id for r in done]))).scalars().all()
        if ids and self.on_published is not None:
            await self.on_published(session, list(ids))

    def _delete(self, event_ids: list[str]) -> Any:
        """Delete by event id, never by `seq`: exactly the acked events go, and the hook hears
        only of those this relay deleted (another relay may have deleted the same ones)."""
        t = self.table
        return delete(t).where(t.c.event_id.in_(event_ids)).returning(t.c.event_id)
