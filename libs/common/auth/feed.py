"""Every replica follows `lifeline.auth.revoked.v1` itself and feeds its `RevocationList`.

Each replica needs every revocation, so this is not a shared durable consumer but one
ephemeral, ordered consumer per process: no acks, in-memory, started 15 minutes back (the
longest a revoked token can matter) so a replica that just started knows recent revocations,
and resumed from the last stream sequence it saw whenever the consumer or the connection is lost.

nats-py has an `ordered_consumer=True` mode, but its automatic reset keeps the original
`opt_start_time` next to the new start sequence, which the server refuses: after a NATS
restart it never recovers. This loop recreates the consumer itself.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Callable
from datetime import UTC, datetime

from nats.errors import TimeoutError as NatsTimeoutError
from nats.js import JetStreamContext
from nats.js import api as js_api
from nats.js.errors import NotFoundError
from pydantic import ValidationError

from libs.common.auth.revocation import DEFAULT_RETENTION_SECONDS, RevocationList
from libs.common.errors import InvalidInput
from libs.common.provenance import EventRejected, EventVerifier, open_event
from libs.common.subjects import AUTH_REVOKED, stream_for

log = logging.getLogger("libs.common.auth")


class RevocationFeed:
    """Applies revocation events to a `RevocationList` as they are published."""

    def __init__(
        self,
        js: JetStreamContext,
        revocations: RevocationList,
        *,
        replay_seconds: float = DEFAULT_RETENTION_SECONDS,
        fetch_timeout: float = 1.0,
        idle_check_seconds: float = 1.0,
        clock: Callable[[], float] = time.time,
        verifier: EventVerifier | None = None,
    ) -> None:
        self._js = js
        self._verifier = verifier
        self._revocations = revocations
        self._replay = replay_seconds
        self._fetch_timeout = fetch_timeout
        self._idle_check = idle_check_seconds
        self._clock = clock
        self._stream = stream_for(AUTH_REVOKED).name
        self._last_seq: int | None = None
        # Set once the backlog present at start has been applied: a replica should not
        # accept tokens before it knows the revocations of the last minutes.
        self.caught_up = asyncio.Event()
        # When the server last told us nothing was pending for us (time.monotonic): the moment
        # up to which we know every revocation. A quiet feed is not proof; an answer is.
        self.confirmed_at: float | None = None

    def current_within(self, seconds: float) -> bool:
        """Whether the feed was confirmed complete in the last `seconds`."""
        return self.confirmed_at is not None and time.monotonic() - self.confirmed_at <= seconds

    def _confirmed(self) -> None:
        self.caught_up.set()
        self.confirmed_at = time.monotonic()

    async def run(self, stop: asyncio.Event) -> None:
        """Follow the subject until `stop` is set, recreating the consumer after any failure."""
        while not stop.is_set():
            try:
                sub, name = await self._subscribe()
            except Exception as exc:
                log.warning("revocation feed not subscribed", extra={"reason": type(exc).__name__})
                await asyncio.sleep(0.5)
                continue
            try:
                await self._consume(sub, name, stop)
            except Exception as exc:
                # Connection lost or consumer gone: resume right after the last event applied.
                log.info("revocation feed resubscribing", extra={"reason": type(exc).__name__})
                await asyncio.sleep(0.2)
            finally:
                with contextlib.suppress(Exception):
                    await sub.unsubscribe()

    async def _subscribe(self) -> tuple[JetStreamContext.PullSubscription, str]:
        config = js_api.ConsumerConfig(
            filter_subject=AUTH_REVOKED,
            ack_policy=js_api.AckPolicy.NONE,
            mem_storage=True,
            num_replicas=1,
            # The server drops it once this process stops pulling (crash, shutdown).
            inactive_threshold=30.0,
        )
        if self._last_seq is None:
            config.deliver_policy = js_api.DeliverPolicy.BY_START_TIME
            config.opt_start_time = datetime.fromtimestamp(self._clock() - self._replay, tz=UTC)
        else:
            config.deliver_policy = js_api.DeliverPolicy.BY_START_SEQUENCE
            config.opt_start_seq = self._last_seq + 1
        info = await self._js.add_consumer(self._stream, config)
        sub = await self._js.pull_subscribe_bind(consumer=info.name, stream=self._stream)
        if info.num_pending == 0:
            self._confirmed()
        return sub, info.name

    async def _consume(
        self, sub: JetStreamContext.PullSubscription, name: str, stop: asyncio.Event
    ) -> None:
        idle_since = self._clock()
        while not stop.is_set():
            try:
                msgs = await sub.fetch(64, timeout=self._fetch_timeout)
            except (TimeoutError, NatsTimeoutError):
                if self._clock() - idle_since >= self._idle_check:
                    # Ask the server: a quiet consumer may be a deleted one (NATS restarted),
                    # or a server that stopped answering; only an answer confirms the feed.
                    idle_since = self._clock()
                    try:
                        info = await self._js.consumer_info(self._stream, name, timeout=1.0)
                    except NotFoundError:
                        raise ConnectionError("revocation consumer gone") from None
                    if info.num_pending == 0:
                        self._confirmed()
                continue
            idle_since = self._clock()
            for msg in msgs:
                self._apply(msg.subject, msg.data, msg.headers)
                meta = msg.metadata
                if meta.sequence is not None:
                    self._last_seq = meta.sequence.stream
                if meta.num_pending == 0:
                    self._confirmed()

    def _apply(self, subject: str, data: bytes, headers: dict[str, str] | None) -> None:
        try:
            event = open_event(self._verifier, subject, data, headers)
            if event.type == AUTH_REVOKED:
                self._revocations.apply(event.data)
        except EventRejected as exc:
            # A forged revocation would lock users out: it is refused, counted and logged.
            assert self._verifier is not None
            self._verifier.refuse(exc.code, subject=subject, consumer="revocation-feed")
        except (ValidationError, InvalidInput):
            # No ack to withhold on an ordered consumer: a malformed event is logged and skipped.
            log.warning("malformed revocation event skipped", extra={"reason": "invalid"})
