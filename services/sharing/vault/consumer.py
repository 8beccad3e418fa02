"""The vault's consumer: `lifeline.report.received.v1` -> opened, field-encrypted, stored once."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable, Coroutine
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from libs.common import moved, tracing
from libs.common.clock import SYSTEM_CLOCK, Clock
from libs.common.consumer import LeftOver
from libs.common.contracts import ReportReceived, ReportStored, new_event, read_event
from libs.common.crypto.kek import KekProvider
from libs.common.events import Envelope, PermanentError
from libs.common.inbox import inbox_row, mark_processed
from libs.common.nats import ConsumerSpec
from libs.common.outbox import OutboxRelay, outbox_row, unsent
from libs.common.reports.fields import CATALOGUE, Catalogue
from libs.common.reports.model import build_models
from libs.common.runtime import Runtime
from libs.common.subjects import REPORT_RECEIVED, stream_for
from libs.common.system import dead_letter_sink
from libs.common.threaded import ThreadTransactions
from services.sharing.models import DEAD_LETTERS, INBOX, OUTBOX
from services.sharing.vault import repository as repo
from services.sharing.vault.announce import Announcer
from services.sharing.vault.copies import repository as copies
from services.sharing.vault.crypto import (
    EncryptedReport,
    encrypt_report,
    ensure_wrap_usable,
    field_values,
    occurred_on,
)
from services.sharing.vault.keys.keystore import HpkeKeyStore
from services.sharing.vault.opening import open_sealed

log = logging.getLogger(__name__)
CONSUMER = ConsumerSpec.granted("sharing", "sharing-vault")
# Built once (hot path): a statement built per call is cache-keyed anew each time.
_INSERT_INBOX, _INSERT_OUTBOX = INBOX.insert(), OUTBOX.insert()
# A store's transaction, as async repository code run in a worker thread; False: nothing new.
_Work = Callable[[AsyncSession], Coroutine[Any, Any, bool]]


@dataclass(frozen=True)
class _Ready:
    """A received report opened and encrypted, with its row and its `report.stored` event."""

    event: Envelope
    data: ReportReceived
    row: dict[str, Any]
    encrypted: EncryptedReport
    stored: Envelope


class ReportStore:
    """Stores each received report with field-level encryption; idempotent, acks after commit."""

    def __init__(
        self,
        sessions: async_sessionmaker[AsyncSession],
        provider: KekProvider,
        sealing: HpkeKeyStore,
        *,
        threads: ThreadTransactions | None = None,
        relay: OutboxRelay | None = None,
        on_stored: Callable[[], None] = lambda: None,
        catalogue: Catalogue = CATALOGUE,
        clock: Clock = SYSTEM_CLOCK,
    ) -> None:
        self.sessions = sessions
        self.provider = provider
        self.sealing = sealing
        # Each store is one transaction in a worker thread (`libs.common.threaded`).
        if threads is None:  # the process's own when a relay comes with its runtime
            threads = relay.runtime.threads if relay is not None else ThreadTransactions(sessions)
        self.threads = threads
        # Sends `report.stored` right after each commit (`vault/announce`); without a relay
        # to claim rows from, `on_stored` is told instead (a test's or a bench's store).
        self.announcer = Announcer(self.threads, relay) if relay is not None else None
        self.on_stored = on_stored
        # Reports are validated and stored with the fields of this catalogue; each row records
        # its version, so a field added later reads as absent in reports stored before it.
        self.catalogue = catalogue
        self.report_model = build_models(catalogue)[1]
        self.clock = clock

    async def announce(self, stop: asyncio.Event) -> None:
        """Forget announced events no store came to carry, until stopped (`Announcer.run`)."""
        if self.announcer is not None:
            await self.announcer.run(stop)

    async def handle(self, event: Envelope) -> None:
        """Handle one event; PermanentError dead-letters it, anything else is retried."""
        # A redelivery costs the crypto below once more; the inbox then skips it. Cheaper than a
        # look-up before every first delivery. Off the event loop, as a batch's.
        ready = await asyncio.to_thread(self._prepare, event, self.clock.now())
        if await self._store(ready):
            self._stored([ready])

    async def handle_batch(self, events: list[Envelope]) -> None:
        """A fetched batch in one transaction of six statements. Events that do not open are
        left over (`LeftOver`, after the commit) for the loop to dead-letter one by one; anything
        else unusual (a redelivery, a clash) raises, and the loop retries all one by one."""
        now = self.clock.now()
        # Opening and encrypting a batch takes tens of milliseconds of CPU: off the event loop,
        # so the reads served by this process are not held up behind it.
        batch, left = await asyncio.to_thread(self._prepare_all, events, now)
        if batch:
            await self._store_batch(batch, now)
        if left:
            raise LeftOver(left)

    def _prepare_all(
        self, events: list[Envelope], now: datetime
    ) -> tuple[list[_Ready], frozenset[str]]:
        batch, left = [], set()
        for event in events:
            try:
                batch.append(self._prepare(event, now))
            except PermanentError:
                left.add(event.id)
        return batch, frozenset(left)

    async def _store_batch(self, batch: list[_Ready], now: datetime) -> None:
        trace = tracing.stored()
        outbox = [outbox_row(r.stored, trace) for r in batch]

        async def write(session: AsyncSession) -> bool:
            await repo.begin_report_write(session, wraps_key=True)
            await session.execute(_INSERT_INBOX, [inbox_row(r.event, now) for r in batch])
            await repo.insert_reports(session, [self._new(r) for r in batch], now)
            await copies.record(session, [r.event for r in batch])
            await session.execute(_INSERT_OUTBOX, outbox)
            return True

        await self._write(write, outbox)
        self._stored(batch)

    async def _write(self, work: _Work, outbox: list[dict[str, Any]]) -> bool:
        """`work` as one transaction in a worker thread (one hop, not loop turns per statement);
        the `report.stored` events it wrote (`outbox`, unless it returns False) go out after."""
        if self.announcer is None:
            written = await self.threads.run(work)
            if written:
                self.on_stored()
            return written
        events = [unsent(row) for row in outbox]
        written = await self.announcer.commit(work, events)
        if written:
            await self.announcer.publisher.publish(events)
        else:
            self.announcer.publisher.release([e.event_id for e in events])
        return written

    def _prepare(self, event: Envelope, now: datetime) -> _Ready:
        data = read_event(event, ReportReceived)
        report, sealed_kid, received_at = open_sealed(self.sealing, self.report_model, data)
        encrypted = encrypt_report(
            self.provider,
            report_id=data.report_id,
            partner_id=data.partner_id,
            values=field_values(report, self.catalogue),
        )
        row = {
            "report_id": data.report_id,
            "partner_id": data.partner_id,
            "client_report_id": data.client_report_id,
            "event_id": event.id,
            "incident_type": report.incident_type.value,
            "legal_basis": report.legal_basis.value,
            "country": report.place.country,
            "facility_kind": report.place.facility_kind.value,
            "tlp": report.tlp.value,
            "occurred_on": occurred_on(report.occurred_at),
            "received_at": received_at.astimezone(UTC),
            "stored_at": now,
            "sealed_kid": sealed_kid,
            "data_key_id": encrypted.data_key.key_id,
            "field_kek_version": encrypted.field_kek_version,
            "field_format": encrypted.field_format,
            "catalogue_version": self.catalogue.version,
            "follows": report.follows,
        }
        stored = new_event(
            ReportStored(report_id=data.report_id, partner_id=data.partner_id, stored_at=now),
            "sharing",
            correlation_id=data.report_id,
            at=now,
        )
        return _Ready(event, data, row, encrypted, stored)

    def _new(self, ready: _Ready) -> repo.NewReport:
        # Called under the KEK guard (`begin_report_write`): a KEK retired since we wrapped is
        # noticed, and none can be retired before this transaction commits.
        wrapped = ensure_wrap_usable(self.provider, ready.encrypted, report_id=ready.data.report_id)
        return repo.NewReport(
            ready.row, wrapped.to_bytes(), wrapped.kek_version, ready.encrypted.blobs
        )

    def _stored(self, batch: list[_Ready]) -> None:
        for ready in batch:
            log.info(
                "report stored",
                extra={"report_id": ready.data.report_id, "partner_id": ready.data.partner_id},
            )

    async def _store(self, ready: _Ready) -> bool:
        data, now = ready.data, ready.row["stored_at"]
        outbox = [outbox_row(ready.stored, tracing.stored())]

        async def write(session: AsyncSession) -> bool:
            await repo.begin_report_write(session, wraps_key=True)
            # Where this copy sits on the bus, so that it is erased there (`vault/copies`).
            await copies.record(session, [ready.event])
            if not await mark_processed(session, INBOX, ready.event, now):
                return False  # a redelivery, or another replica got there first
            await repo.insert_reports(session, [self._new(ready)], now)
            await session.execute(_INSERT_OUTBOX, outbox)
            return True

        async def same_report(session: AsyncSession) -> str | None:
            clash = await repo.stored_as(
                session, data.report_id, data.partner_id, data.client_report_id
            )
            if clash == "same":
                await copies.record(session, [ready.event])
            return clash

        try:
            return await self._write(write, outbox)
        except IntegrityError:
            # The report id or (partner, client report id) is taken: by this very report under
            # another event id (nothing to do), or by a different report (never overwrite).
            clash = await self.threads.run(same_report)
            if clash == "same":
                return False
            if clash == "other":
                raise PermanentError("client_report_id already stored as another report") from None
            raise


async def consume_received(runtime: Runtime, store: ReportStore) -> None:
    """Bind the durable consumer of received reports (called from sharing's NATS set-up)."""
    await runtime.consume(
        CONSUMER,
        store.handle,
        dead_letter_sink(runtime, DEAD_LETTERS),
        batch_handler=store.handle_batch,
    )


def received_backlog(runtime: Runtime) -> Callable[[], Awaitable[int | None]]:
    """How many received reports the consumer has not acknowledged yet (None: unknown)."""

    async def pending() -> int | None:
        if runtime.js is None:
            return None
        try:
            info = await runtime.js.consumer_info(
                stream_for(REPORT_RECEIVED).name, CONSUMER.durable
            )
            # The durable left on the old stream, until drained, counts too.
            old = await moved.left_behind(runtime.js, CONSUMER)
        except Exception as exc:
            log.warning("consumer info unavailable", extra={"reason": type(exc).__name__})
            return None
        return int(info.num_pending or 0) + int(info.num_ack_pending or 0) + old

    return pending
