"""The durable pull-consumer loop: ack after commit, NAK transient failures, dead-letter poison."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable
from contextlib import AbstractContextManager
from dataclasses import dataclass, field
from typing import Any

from nats.errors import ConnectionClosedError, NoRespondersError
from nats.errors import TimeoutError as NatsTimeoutError
from nats.js import JetStreamContext
from nats.js.errors import APIError
from opentelemetry.context import Context
from opentelemetry.trace import SpanKind
from pydantic import ValidationError
from sqlalchemy.exc import DBAPIError, OperationalError

from libs.common import tracing
from libs.common.events import Envelope, NotYet, PermanentError
from libs.common.metrics import Metrics
from libs.common.provenance import EventRejected, EventVerifier, open_event

log = logging.getLogger(__name__)

Handler = Callable[[Envelope], Awaitable[None]]
BatchHandler = Callable[[list[Envelope]], Awaitable[None]]
DeadLetterSink = Callable[["DeadLetter"], Awaitable[None]]


class LeftOver(Exception):
    """Raised by a batch handler after it committed every event of a batch but these: the loop
    acks the others and runs these one by one (so a poison event is dead-lettered alone)."""

    def __init__(self, event_ids: frozenset[str]) -> None:
        super().__init__(f"{len(event_ids)} events left over")
        self.event_ids = event_ids


@dataclass(frozen=True)
class DeadLetter:
    """What a consumer records about a message it gave up on."""

    event_id: str | None
    subject: str
    stream_seq: int
    reason: str
    payload: bytes


def is_transient(exc: BaseException) -> bool:
    """Failures that heal by themselves (database or network down) never dead-letter an event."""
    if isinstance(exc, OperationalError | ConnectionError | TimeoutError | OSError | NotYet):
        return True
    return isinstance(exc, DBAPIError) and exc.connection_invalidated


@dataclass
class ConsumerLoop:
    """Fetches batches from one bound pull subscription and runs the handler on each message."""

    sub: JetStreamContext.PullSubscription
    handler: Handler
    dead_letter: DeadLetterSink
    name: str
    batch: int = 64
    # One long-poll pull request at a time: messages arrive the moment they are stored, and an
    # idle durable asks again only when the request expires (one JetStream API request every
    # 2.5 s rather than every second, times twelve durables). The expiry also bounds how long a
    # request lost with its consumer leader (a cluster node gone while this client stays on
    # another) leaves the loop waiting; a reconnect drops the request at once (`refetch`).
    fetch_timeout: float = 2.5
    # After this many failed deliveries of a non-transient error the message is poison.
    poison_after: int = 5
    nak_delays: tuple[float, ...] = (0.2, 1.0, 2.0, 5.0, 10.0)
    # Optional: handle every valid message of a fetch in one go (one transaction). If it
    # fails, the messages fall back to `handler` one by one, which keeps poison isolated.
    batch_handler: BatchHandler | None = None
    # On an authenticated bus: only events signed by their producer are handled.
    verifier: EventVerifier | None = None
    metrics: Metrics | None = None
    stream: str = ""  # the stream's name, for the metrics
    service: str = "lifeline"  # whose spans
    # For events nobody waits on (a receipt, bookkeeping): after a fetch that was not full, wait
    # this long before asking again, so that what arrives meanwhile comes as one batch (one
    # transaction, one wake-up) instead of one by one. 0: ask again at once.
    linger: float = 0.0
    _pull: asyncio.Future[list[Any]] | None = field(default=None, init=False, repr=False)

    def _count(self, outcome: str, n: int = 1) -> None:
        if self.metrics is not None:
            self.metrics.consumed.labels(self.stream, self.name, outcome).inc(n)

    def refetch(self) -> None:
        """Drop the outstanding pull request and send another (called after a reconnect: the
        request may have gone with the old server, and would hold the loop until it expires)."""
        if self._pull is not None and not self._pull.done():
            self._pull.cancel()

    async def _fetch(self) -> list[Any] | None:
        """The messages of one pull request; None if `refetch` dropped it."""
        pull = self._pull = asyncio.ensure_future(
            self.sub.fetch(self.batch, timeout=self.fetch_timeout)
        )
        try:
            return await asyncio.shield(pull)
        except asyncio.CancelledError:
            task = asyncio.current_task()
            if pull.cancelled() and (task is None or not task.cancelling()):
                return None
            pull.cancel()  # the loop itself is being cancelled
            raise

    async def run(self, stop: asyncio.Event) -> None:
        """Loop until `stop` is set; survives NATS restarts and database outages."""
        while not stop.is_set():
            try:
                msgs = await self._fetch()
            except (TimeoutError, NatsTimeoutError):
                continue
            except (ConnectionClosedError, NoRespondersError, APIError, OSError) as exc:
                log.debug(
                    "fetch failed", extra={"consumer": self.name, "reason": type(exc).__name__}
                )
                await asyncio.sleep(0.5)
                continue
            if msgs is None:
                continue
            if not (self.batch_handler is not None and len(msgs) > 1 and await self._batch(msgs)):
                for msg in msgs:
                    await self._process(msg)
            if self.linger and len(msgs) < self.batch:
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(stop.wait(), self.linger)

    def _genuine(self, msg: Any) -> Envelope:
        """The message's envelope once its producer is proven (EventRejected, ValidationError)."""
        meta = msg.metadata
        seq = meta.sequence.stream if meta.sequence else None
        return open_event(
            self.verifier, msg.subject, msg.data, msg.headers, seq, stream=meta.stream
        )

    async def _batch(self, msgs: list[Any]) -> bool:
        try:
            events = [self._genuine(m) for m in msgs]
        except (ValidationError, EventRejected):
            # One by one: the bad message is dead-lettered alone.
            return False
        assert self.batch_handler is not None
        left: frozenset[str] = frozenset()
        try:
            # One span for the batch, linked to the trace of each message it holds.
            links = [tracing.extract(m.headers) for m in msgs]
            with self._span(events[0].type, None, links, batch=len(events)):
                await self.batch_handler(events)
        except LeftOver as exc:
            left = exc.event_ids
        except Exception as exc:
            log.debug(
                "batch failed, one by one",
                extra={"consumer": self.name, "reason": type(exc).__name__},
            )
            return False
        done = [m for m, e in zip(msgs, events, strict=True) if e.id not in left]
        for msg in done:
            await _quietly(msg.ack())
        self._count("handled", len(done))
        for msg, event in zip(msgs, events, strict=True):
            if event.id in left:
                await self._process(msg)
        return True

    async def _process(self, msg: object) -> None:
        from nats.aio.msg import Msg

        assert isinstance(msg, Msg)
        meta = msg.metadata
        delivered = meta.num_delivered or 1
        seq = meta.sequence.stream if meta.sequence else 0
        try:
            event = self._genuine(msg)
        except EventRejected as exc:
            assert self.verifier is not None
            self.verifier.refuse(exc.code, subject=msg.subject, consumer=self.name)
            await self._give_up(msg, None, seq, f"signature:{exc.code}")
            return
        except ValidationError:
            await self._give_up(msg, None, seq, "invalid_envelope")
            return
        try:
            # Only once the event is proven genuine, and only ever as a parent: the trace
            # headers are unsigned hints that decide nothing about the event.
            with self._span(event.type, tracing.extract(msg.headers), None, event=event.id):
                await self.handler(event)
        except PermanentError as exc:
            await self._give_up(msg, event.id, seq, f"permanent:{exc}"[:200])
            return
        except Exception as exc:
            if not is_transient(exc) and delivered >= self.poison_after:
                log.exception("poison message", extra={"event_id": event.id, "consumer": self.name})
                await self._give_up(msg, event.id, seq, f"handler:{type(exc).__name__}")
                return
            delay = self.nak_delays[min(delivered, len(self.nak_delays)) - 1]
            log.warning(
                "handler failed, will retry",
                extra={
                    "event_id": event.id,
                    "consumer": self.name,
                    "reason": type(exc).__name__,
                    "attempt": delivered,
                },
            )
            await _quietly(msg.nak(delay=delay))
            self._count("retried")
            return
        await _quietly(msg.ack())
        self._count("handled")

    def _span(
        self, subject: str, parent: Context | None, links: list[Context | None] | None, **ids: Any
    ) -> AbstractContextManager[Any]:
        """The CONSUMER span of handling a message (or a batch)."""
        attributes = {"messaging.system": "nats", "messaging.destination.name": subject}
        attributes["messaging.consumer.group.name"] = self.name
        if "event" in ids:
            attributes["messaging.message.id"] = ids["event"]
        if "batch" in ids:
            attributes["messaging.batch.message_count"] = ids["batch"]
        return tracing.span(
            self.service,
            f"{subject} process",
            SpanKind.CONSUMER,
            parent=parent,
            links=links,
            attributes=attributes,
        )

    async def _give_up(self, msg: object, event_id: str | None, seq: int, reason: str) -> None:
        from nats.aio.msg import Msg

        assert isinstance(msg, Msg)
        try:
            await self.dead_letter(DeadLetter(event_id, msg.subject, seq, reason, msg.data))
        except Exception as exc:
            # Recording failed (database down?): leave the message for redelivery, lose nothing.
            log.warning("dead letter not recorded", extra={"reason": type(exc).__name__})
            await _quietly(msg.nak(delay=self.nak_delays[-1]))
            return
        log.warning("dead-lettered", extra={"event_id": event_id, "consumer": self.name})
        await _quietly(msg.term())
        self._count("dead_lettered")
        if self.metrics is not None:
            # The kind only ("permanent", "signature" …): the text after it may quote data.
            self.metrics.dead_letters.labels(self.name, reason.partition(":")[0]).inc()


async def _quietly(op: Awaitable[object]) -> None:
    # An ack lost to a disconnect is redelivered later; handlers are idempotent by event id.
    try:
        await op
    except Exception as exc:
        log.debug("ack/nak not sent", extra={"reason": type(exc).__name__})
