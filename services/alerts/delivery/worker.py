"""The delivery worker: claims due jobs, sends them, records every attempt, schedules retries."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable, Sequence
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from libs.common.clock import Clock
from libs.common.db import transaction
from libs.common.threaded import InThread
from services.alerts.alerts.links import AckLinks
from services.alerts.delivery import jobs
from services.alerts.delivery import repository as repo
from services.alerts.delivery.channels import Channels, may_carry_action_links, may_carry_details
from services.alerts.delivery.config import DeliveryConfig
from services.alerts.delivery.domain import (
    NOTICE_KINDS,
    PAGE_KINDS,
    Outgoing,
    SendContext,
    SendResult,
    alert_view,
    outcome,
    skip_reason,
    without_details,
)
from services.alerts.delivery.health.warnings import after_attempt
from services.alerts.delivery.outbound import delivery_span
from services.alerts.delivery.profiles import repository as profiles
from services.alerts.delivery.recorder import Recorder
from services.alerts.delivery.retries import retry_delay
from services.alerts.delivery.secrets import SecretBox
from services.alerts.metrics import AlertsMetrics

log = logging.getLogger(__name__)


class DeliveryWorker:
    """Sends due deliveries concurrently; woken at once after a commit, and on a timer.

    Retries, leases and in-flight marks are times of `clock`; how often the worker looks for
    due work (`poll_s`) is real time.
    """

    def __init__(
        self,
        sessions: async_sessionmaker[AsyncSession],
        config: DeliveryConfig,
        *,
        channels: Channels,
        box: SecretBox,
        links: AckLinks,
        clock: Clock,
        metrics: AlertsMetrics | None = None,
        in_thread: InThread,
    ) -> None:
        self.sessions = sessions
        # Finished attempts' bookkeeping, batched into thread-run transactions (`Runtime.threads`).
        self.recorder = Recorder(in_thread, linger_s=config.record_linger_s)
        self.config = config
        self.channels = channels
        self.box = box
        self.links = links
        self.clock = clock
        self.metrics = metrics or AlertsMetrics.detached()
        self._wake = asyncio.Event()
        self._inflight: set[asyncio.Task[None]] = set()

    def wake(self) -> None:
        """Look for due work now (call after a commit that created deliveries)."""
        self._wake.set()

    def submit(self, claimed: Sequence[SendContext]) -> None:
        """Send deliveries another component created already claimed for us (with their context)."""
        for ctx in claimed:
            self._start(ctx.delivery_id, ctx.alert_id, ctx.attempts, ctx)

    async def run(self, stop: asyncio.Event) -> None:
        """Work until `stop`; database or network trouble pauses it, never ends it."""
        try:
            while not stop.is_set():
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self._wake.wait(), timeout=self.config.poll_s)
                self._wake.clear()
                try:
                    await self.drain()
                except Exception as exc:
                    log.warning("delivery worker paused", extra={"reason": type(exc).__name__})
                    await asyncio.sleep(min(self.config.poll_s, 0.5))
        finally:
            await self._settle()

    async def _settle(self) -> None:
        """Let the sends on the wire finish and record their outcome before the process goes.

        A rollout stops replicas with SIGTERM: a send cut off here would be sent again by
        another replica once its lease runs out, a minute later (the lawyer's phone rings
        twice). One send takes at most `in_flight_s`; only what is still running then is cut.
        """
        if self._inflight:
            log.info("waiting for deliveries in flight", extra={"count": len(self._inflight)})
            await asyncio.wait(list(self._inflight), timeout=self.config.in_flight_s)
        for task in list(self._inflight):
            task.cancel()

    async def drain(self) -> int:
        """Claim and start every delivery due now (at most `concurrency` in flight)."""
        started = 0
        while True:
            free = self.config.concurrency - len(self._inflight)
            if free <= 0:
                await asyncio.wait(self._inflight, return_when=asyncio.FIRST_COMPLETED)
                continue
            async with transaction(self.sessions) as session:
                rows = await repo.claim_due(
                    session, self.clock.now(), free, self.config.lease_s, self.config.in_flight_s
                )
            if not rows:
                return started
            for row in rows:
                self._start(row["id"], row["alert_id"], row["attempts"])
            started += len(rows)

    def _start(
        self, delivery_id: str, alert_id: str, attempt: int, ctx: SendContext | None = None
    ) -> None:
        task = asyncio.create_task(self._deliver(delivery_id, alert_id, attempt, ctx))
        self._inflight.add(task)
        task.add_done_callback(self._inflight.discard)

    async def _deliver(
        self, delivery_id: str, alert_id: str, attempt: int, ctx: SendContext | None
    ) -> None:
        try:
            more = await self._attempt(delivery_id, attempt, ctx)
        except Exception as exc:
            # Not recorded: the lease runs out and the job is retried with the same webhook-id.
            extra = {"delivery_id": delivery_id, "alert_id": alert_id, "reason": type(exc).__name__}
            log.warning("delivery attempt not recorded", extra=extra)
            return
        if more:
            self.wake()

    async def _attempt(
        self, delivery_id: str, attempt: int, ctx: SendContext | None = None
    ) -> bool:
        """Load (no lock) unless given, send, record; True if jobs were added."""
        if ctx is None:
            async with self.sessions() as session:
                ctx = await repo.load(session, delivery_id)
        if ctx is None or ctx.status != "sending" or ctx.attempts != attempt:
            return False  # cancelled, or re-claimed after our lease ran out
        started = self.clock.now()
        skip = skip_reason(ctx)
        result = SendResult("retry", error=skip) if skip else await self.send(ctx, started)
        counted: list[Callable[[], None]] = []  # metrics, once the bookkeeping committed

        async def record(session: AsyncSession) -> bool:
            counted.clear()  # a batch rolled back runs this again alone
            if skip:
                await self._finish(
                    session, ctx, attempt, result, counted, final=skip, started=started
                )
                return False
            return await self._record(
                session, ctx, attempt, result, started=started, counted=counted
            )

        added = bool(await self.recorder.run(record))  # shares a transaction with others
        for count in counted:
            count()
        return added

    async def send(self, ctx: SendContext, now: datetime) -> SendResult:
        """One attempt through the delivery's channel (nothing recorded); failures are results."""
        with delivery_span(ctx):
            try:
                return await self._send_unsafe(ctx, now)
            except Exception as exc:
                # E.g. a secret this replica cannot decrypt: record it and retry like any failure.
                log.exception("delivery attempt crashed", extra={"delivery_id": ctx.delivery_id})
                return SendResult("retry", error=f"internal_{type(exc).__name__}"[:64])

    async def _send_unsafe(self, ctx: SendContext, now: datetime) -> SendResult:
        channel = self.channels.get(ctx.channel)
        if channel is None:
            # A kind no longer registered here: retried (another replica may have it).
            return SendResult("retry", error="unknown_channel")
        if ctx.address is None:
            return SendResult("retry", error="skip:contact_removed")
        secret = None if ctx.secret is None else self.box.open(ctx.contact_id, ctx.secret)
        base, ack_url = self.config.public_url.rstrip("/"), ""
        acts = may_carry_action_links(channel, ctx.pgp_key, ctx.address, secret)
        if acts and ctx.kind in PAGE_KINDS:
            token = self.links.make(ctx.alert_id, ctx.contact_id, now.timestamp())
            ack_url = f"{base}/v1/ack/{token}"
        view = alert_view(
            ctx,
            report_url=self.config.report_link(ctx.alert_id, ctx.report_id),
            ack_url=ack_url,
            alert_url=self.config.alert_link(ctx.alert_id),
            console=self.config.console,
        )
        if not may_carry_details(channel, ctx.pgp_key):
            view = without_details(view)
        message = Outgoing(ctx.delivery_id, ctx.address, secret, ctx.pgp_key, view)
        return await channel.send(message, now)

    async def _record(
        self,
        session: AsyncSession,
        ctx: SendContext,
        attempt: int,
        result: SendResult,
        *,
        started: datetime,
        counted: list[Callable[[], None]],
    ) -> bool:
        now = self.clock.now()
        extra = {"delivery_id": ctx.delivery_id, "alert_id": ctx.alert_id, "attempt": attempt}
        if result.outcome == "delivered":
            added = await self._finish(session, ctx, attempt, result, counted, started=started)
            log.info("delivered", extra={**extra, "status": result.http_status})
            return added > 0
        final = None
        if result.outcome == "gone":
            # 410: the receiver says this endpoint is gone for good; stop using it.
            await profiles.disable_contact(session, ctx.contact_id, "gone", now)
            final = "gone"
        elif result.outcome == "failed":
            final = "refused"  # retrying cannot help (a 5xx answer to this message)
        elif attempt >= self.config.max_attempts:
            final = "attempts_exhausted"
        added = await self._finish(
            session, ctx, attempt, result, counted, final=final, started=started
        )
        log.warning("delivery failed", extra={**extra, "reason": result.error})
        if ctx.role == "primary" and ctx.kind not in NOTICE_KINDS and (attempt == 1 or final):
            # The secondary channel fires on the first failure of the primary.
            added += await jobs.secondary(
                session, ctx.alert_id, ctx.lawyer_id, step=ctx.step, kind=ctx.kind, now=now
            )
        return added > 0

    async def _finish(
        self,
        session: AsyncSession,
        ctx: SendContext,
        attempt: int,
        result: SendResult,
        counted: list[Callable[[], None]],
        *,
        final: str | None = None,
        started: datetime | None = None,
    ) -> int:
        """Record the attempt and, for a real send, its contact's health; warning jobs added."""
        now = self.clock.now()
        status, attempt_outcome = outcome(result, final)
        values: dict[str, Any] = {"status": status, "updated_at": now, "last_error": result.error}
        if status == "delivered":
            values["delivered_at"] = now
        elif status == "pending":
            delay = retry_delay(
                attempt, self.config.schedule, self.config.jitter, retry_after=result.retry_after
            )
            values["next_attempt_at"] = now + timedelta(seconds=delay)
        recorded = await repo.finish(
            session,
            ctx.delivery_id,
            attempt,
            values,
            {
                "started_at": started or now,
                "finished_at": now,
                "outcome": attempt_outcome,
                "http_status": result.http_status,
                "error": result.error,
                "retry_after_s": result.retry_after,
            },
        )
        if recorded:
            metric = (ctx.channel, ctx.alert_id, ctx.kind, attempt_outcome, now)
            counted.append(lambda: self.metrics.attempt(*metric))
        if not recorded or (final or "").startswith("skip:") or result.error == "unknown_channel":
            return 0  # not a send through the contact (another replica's channel, a skip)
        error = None if status == "delivered" else result.error or attempt_outcome
        return await after_attempt(session, ctx.contact_id, error, self.config.health, now)
