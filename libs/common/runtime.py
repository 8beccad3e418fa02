"""The resources one service process holds (database, NATS, background tasks) and their life."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import ssl
from collections.abc import Awaitable, Callable, Coroutine
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar

from nats.aio.client import Client as NatsClient
from nats.js import JetStreamContext
from sqlalchemy.engine import Connection
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from libs.common import bus, db, moved, nats_health
from libs.common import nats as natsx
from libs.common.consumer import BatchHandler, ConsumerLoop, DeadLetterSink, Handler
from libs.common.metrics import Metrics
from libs.common.provenance import EventSigner, EventVerifier
from libs.common.settings import ServiceSettings
from libs.common.subjects import STREAMS, stream_for
from libs.common.threaded import ThreadTransactions
from libs.common.web import ReadinessCheck

log = logging.getLogger(__name__)

# How long readiness waits for the NATS server's PONG (a round trip takes milliseconds; the
# database and NATS checks both fit in the orchestrators' 3 s probe timeout).
NATS_ROUND_TRIP_S = 1.0

NatsSetup = Callable[["Runtime"], Awaitable[None]]
T = TypeVar("T")


def bus_tls(settings: ServiceSettings) -> ssl.SSLContext | None:
    """The mutual-TLS context of the service's identity on the bus, if it has one."""
    if settings.nats_ca_file and settings.nats_cert_file and settings.nats_key_file:
        return natsx.tls_context(
            settings.nats_ca_file, settings.nats_cert_file, settings.nats_key_file
        )
    return None


def event_signer(settings: ServiceSettings) -> EventSigner | None:
    """The service's event-signing identity, if it has one."""
    if settings.event_key_file and settings.event_cert_file:
        return EventSigner.load(settings.event_key_file, settings.event_cert_file)
    return None


@dataclass
class Runtime:
    """Everything a running service owns; built in the lifespan, closed on shutdown."""

    settings: ServiceSettings
    engine: AsyncEngine
    sessions: async_sessionmaker[AsyncSession]
    nc: NatsClient | None = None
    js: JetStreamContext | None = None
    stop: asyncio.Event = field(default_factory=asyncio.Event)
    tasks: list[asyncio.Task[Any]] = field(default_factory=list)
    nats_ready: asyncio.Event = field(default_factory=asyncio.Event)
    # Signs what this service publishes / proves who published what it consumes (both unset
    # on a bus without authentication, where anyone could publish anyway).
    signer: EventSigner | None = None
    verifier: EventVerifier | None = None
    metrics: Metrics = field(default_factory=lambda: Metrics("service"))
    # Called after the client reconnects (to this or another server): relays publish at once
    # what waited for NATS, consumers send a new pull request rather than wait out the old one.
    on_reconnect: list[Callable[[], None]] = field(default_factory=list)
    _threads: ThreadTransactions | None = None

    @property
    def threads(self) -> ThreadTransactions:
        """Whole transactions in a worker thread (see `libs.common.threaded`)."""
        if self._threads is None:
            self._threads = ThreadTransactions(
                self.sessions, pool_size=self.settings.db_write_pool_size
            )
        return self._threads

    async def write(self, work: Callable[[Connection], T]) -> T:
        """Run `work` as one transaction in a worker thread (see `db.create_sync_engine`)."""
        return await self.threads.write(work)

    @classmethod
    async def open(
        cls, settings: ServiceSettings, migrations: Path, metrics: Metrics | None = None
    ) -> Runtime:
        """Create the engine and bring the schema to head."""
        engine = db.create_engine(
            settings.resolved_database_url(),
            pool_size=settings.db_pool_size,
            max_overflow=settings.db_max_overflow,
        )
        await db.migrate(engine, migrations)
        return cls(
            settings=settings,
            engine=engine,
            sessions=db.session_factory(engine),
            verifier=EventVerifier.load(settings.nats_ca_file) if settings.nats_ca_file else None,
            metrics=metrics or Metrics(settings.service_name),
        )

    def spawn(self, coro: Coroutine[Any, Any, Any], name: str) -> asyncio.Task[Any]:
        """Run a background task owned by this runtime; a crash is logged, not swallowed."""
        task = asyncio.create_task(coro, name=name)
        task.add_done_callback(_log_crash)
        self.tasks.append(task)
        return task

    def start_nats(self, setup: NatsSetup) -> None:
        """Connect in the background so the HTTP side is up (and honestly not ready) meanwhile."""
        self.spawn(self._connect_and_setup(setup), "nats-setup")

    async def _connect_and_setup(self, setup: NatsSetup) -> None:
        role = bus.role_of(self.settings.service_name)
        # Read only now: a sealed key file opens once the service is unsealed.
        self.signer = self.signer or event_signer(self.settings)
        delay = 0.2
        while self.nc is None:
            try:
                # Once connected the client reconnects by itself; the first connect does not.
                self.nc = await natsx.connect(
                    self.settings.nats_url,
                    self.settings.service_name,
                    tls=bus_tls(self.settings),
                    inbox_prefix=role.inbox_prefix if role else None,
                    ping_interval=self.settings.nats_ping_interval_s,
                    max_outstanding_pings=self.settings.nats_max_outstanding_pings,
                    reconnected=self._reconnected,
                )
            except Exception as exc:
                log.warning("nats not reachable, retrying", extra={"reason": type(exc).__name__})
                await asyncio.sleep(delay)
                delay = min(delay * 2, 2.0)
        self.js = self.nc.jetstream()
        delay = 0.2
        while not self.stop.is_set():
            try:
                streams, manages = (role.uses(), role.manages) if role else (STREAMS, None)
                await natsx.ensure_streams(self.js, self.settings.stream_replicas, streams, manages)
                await setup(self)
                break
            except Exception as exc:
                # NATS may be restarting under us: try again soon rather than run half-wired.
                log.warning("nats set-up failed, retrying", extra={"reason": type(exc).__name__})
                await asyncio.sleep(delay)
                delay = min(delay * 2, 1.0)
        self.nats_ready.set()

    def _reconnected(self) -> None:
        for hook in self.on_reconnect:
            hook()

    async def consume(
        self,
        spec: natsx.ConsumerSpec,
        handler: Handler,
        dead_letter: DeadLetterSink,
        batch_handler: BatchHandler | None = None,
    ) -> None:
        """Create/update a durable pull consumer and run its loop in the background."""
        assert self.js is not None
        sub = await natsx.ensure_pull_consumer(self.js, spec)
        loop = ConsumerLoop(
            sub,
            handler,
            dead_letter,
            name=spec.durable,
            nak_delays=self.settings.consumer_retry_delays_s,
            batch_handler=batch_handler,
            verifier=self.verifier,
            metrics=self.metrics,
            stream=stream_for(spec.filter_subject).name,
            service=self.settings.service_name,
            linger=spec.linger_s,
        )
        self.spawn(loop.run(self.stop), f"consumer-{spec.durable}")
        self.on_reconnect.append(loop.refetch)
        if spec.moved_from:
            self.spawn(moved.drain(self.js, spec, loop, self.stop), f"moved-{spec.durable}")
        pending = self.metrics.consumer_pending

        async def lag() -> None:
            # Asked at scrape time, not per message: one JetStream API call per scrape.
            info = await sub.consumer_info()
            pending.labels(info.stream_name, spec.durable).set(info.num_pending or 0)

        self.metrics.probe(f"consumer-{spec.durable}", lag)

    def readiness_checks(self) -> dict[str, ReadinessCheck]:
        """The database answers, and NATS answers with streams and consumers set up."""

        async def database() -> str | None:
            try:
                await asyncio.wait_for(db.ping(self.engine), timeout=2.0)
            except Exception as exc:
                return f"unreachable ({type(exc).__name__})"
            return None

        async def nats() -> str | None:
            if self.nc is None or not self.nats_ready.is_set():
                return "connecting"
            if not self.nc.is_connected:
                return "disconnected"
            # Connected is not enough: a frozen server keeps the socket open and answers nothing.
            if not await nats_health.answers(self.nc, timeout=NATS_ROUND_TRIP_S):
                return "not answering"
            return None

        return {"database": database, "nats": nats}

    async def close(self) -> None:
        """Stop background work, drain NATS, dispose the engine."""
        self.stop.set()
        for task in self.tasks:
            task.cancel()
        for task in self.tasks:
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await task
        if self.nc is not None and not self.nc.is_closed:
            with contextlib.suppress(Exception):
                await asyncio.wait_for(self.nc.close(), timeout=2.0)
        await self.engine.dispose()
        if self._threads is not None:
            self._threads.dispose()


def _log_crash(task: asyncio.Task[Any]) -> None:
    if not task.cancelled() and task.exception() is not None:
        log.error(
            "background task crashed", exc_info=task.exception(), extra={"reason": task.get_name()}
        )
