"""The transactional outbox relay against real NATS and both database backends."""

from __future__ import annotations

import asyncio
import gc
import logging
import uuid
from pathlib import Path
from typing import Any

import pytest
from nats import errors as nats_errors
from sqlalchemy import delete, func, select
from sqlalchemy.orm import registry
from sqlmodel import SQLModel

from libs.common import db
from libs.common import nats as natsx
from libs.common.events import new_event
from libs.common.outbox import OutboxBase, OutboxRelay, enqueue
from libs.common.runtime import Runtime
from libs.common.settings import ServiceSettings
from tests.support.natsd import NatsServer
from tests.support.receivers import until


class _Base(SQLModel, registry=registry()):
    pass


class Outbox(OutboxBase, _Base, table=True):
    __tablename__ = "outbox"


TABLE = Outbox.__table__  # type: ignore[attr-defined]


async def _runtime(url: str, nats: NatsServer, tmp_path: Path) -> Runtime:
    engine = db.create_engine(url)
    async with engine.begin() as conn:
        await conn.run_sync(_Base.metadata.create_all)
    rt = Runtime(ServiceSettings(data_dir=tmp_path), engine, db.session_factory(engine))
    rt.nc = await natsx.connect(nats.url, "outbox-test")
    rt.js = rt.nc.jetstream()
    await natsx.ensure_streams(rt.js)
    return rt


async def _pending(rt: Runtime) -> int:
    async with rt.sessions() as s:
        return int((await s.execute(select(func.count()).select_from(TABLE))).scalar_one())


async def test_relay_publishes_in_order_once_and_survives_nats_outage(
    own_nats: NatsServer, db_url: str, tmp_path: Path
) -> None:
    rt = await _runtime(db_url, own_nats, tmp_path)
    subject = f"lifeline.system.outbox{uuid.uuid4().hex[:8]}.v1"
    relay = OutboxRelay(rt, TABLE, batch=50)
    try:
        events = [new_event(subject, "test", {"n": i}) for i in range(120)]
        async with db.transaction(rt.sessions) as s:
            for e in events[:60]:
                await enqueue(s, TABLE, e)
        assert await relay.drain() == 60
        assert await _pending(rt) == 0

        own_nats.stop()
        async with db.transaction(rt.sessions) as s:
            for e in events[60:]:
                await enqueue(s, TABLE, e)
        assert await relay.drain() == 0  # nothing lost while NATS is down
        assert await _pending(rt) == 60
        own_nats.start()
        assert await natsx.wait_connected(rt.nc, 10)  # type: ignore[arg-type]
        assert await relay.drain() == 60
        assert await relay.drain() == 0

        sub = await rt.js.subscribe(subject, ordered_consumer=True)  # type: ignore[union-attr]
        seen = [(await sub.next_msg(timeout=2)).headers["Nats-Msg-Id"] for _ in events]  # type: ignore[index]
        assert seen == [e.id for e in events]
    finally:
        await rt.close()


async def test_a_relay_dying_after_the_publish_ack_leaves_no_duplicate(
    nats_server: NatsServer, db_url: str, tmp_path: Path
) -> None:
    rt = await _runtime(db_url, nats_server, tmp_path)
    subject = f"lifeline.system.outbox{uuid.uuid4().hex[:8]}.v1"
    events = [new_event(subject, "test", {"n": i}) for i in range(20)]
    try:
        async with db.transaction(rt.sessions) as s:
            for e in events:
                await enqueue(s, TABLE, e)

        # The worst window: JetStream acked every publish, the process dies before the delete.
        def killed(*_: object) -> None:
            raise RuntimeError("process killed after the publish ack")

        dying = OutboxRelay(rt, TABLE, batch=50)
        dying._forget = dying._forget_blocking = killed  # type: ignore[method-assign,assignment]
        with pytest.raises(RuntimeError):
            await dying.drain()
        assert await _pending(rt) == 20  # nothing was forgotten: all will be published again

        assert await OutboxRelay(rt, TABLE, batch=50).drain() == 20
        assert await _pending(rt) == 0
        sub = await rt.js.subscribe(subject, ordered_consumer=True)  # type: ignore[union-attr]
        seen = [(await sub.next_msg(timeout=2)).headers["Nats-Msg-Id"] for _ in events]  # type: ignore[index]
        assert seen == [e.id for e in events]
        with pytest.raises(nats_errors.TimeoutError):  # the second publish was deduplicated
            await sub.next_msg(timeout=0.5)
    finally:
        await rt.close()


async def test_a_row_committed_and_forgotten_while_the_relay_reads_is_not_sent_again(
    nats_server: NatsServer, tmp_path: Path
) -> None:
    """SQLite: a writer's event committed after the relay's read began and forgotten (deleted,
    released) before the read ended. The read's snapshot still shows the row, which was claimed
    neither when the read began nor by its end: the relay leaves it alone all the same."""
    rt = await _runtime(f"sqlite+aiosqlite:///{tmp_path / 'o.db'}", nats_server, tmp_path)
    subject = f"lifeline.system.outbox{uuid.uuid4().hex[:8]}.v1"
    event = new_event(subject, "test", {"n": 1})
    relay = OutboxRelay(rt, TABLE, batch=50)
    sessions = rt.sessions

    class Racing:
        """The relay's session, with a writer's whole cycle around its read."""

        kw = sessions.kw  # what the runtime's worker-thread engine is made from

        async def __aenter__(self) -> Racing:
            self.inner = sessions()
            self.session = await self.inner.__aenter__()
            return self

        async def __aexit__(self, *exc: Any) -> None:
            await self.inner.__aexit__(*exc)

        async def execute(self, query: Any) -> Any:
            relay.claimed.add(event.id)  # the writer claims its event, then commits it
            async with db.transaction(sessions) as writer:
                await enqueue(writer, TABLE, event)
            rows = (await self.session.execute(query)).all()  # the snapshot holds the row
            async with db.transaction(sessions) as writer:  # published, acked, forgotten
                await writer.execute(delete(TABLE).where(TABLE.c.event_id == event.id))
            relay.release([event.id])
            return type("Result", (), {"all": lambda self: rows})()

    rt.sessions = Racing  # type: ignore[assignment]
    try:
        assert await relay.drain() == 0
        sub = await rt.js.subscribe(subject, ordered_consumer=True)  # type: ignore[union-attr]
        with pytest.raises(nats_errors.TimeoutError):
            await sub.next_msg(timeout=0.5)
    finally:
        rt.sessions = sessions
        await rt.close()


@pytest.mark.postgres
async def test_two_replicas_relaying_one_outbox_publish_each_event_once(
    nats_server: NatsServer, pg_url: str, tmp_path: Path
) -> None:
    # Two processes' worth of engines and NATS connections on one PostgreSQL outbox.
    replicas = [await _runtime(pg_url, nats_server, tmp_path) for _ in range(2)]
    subject = f"lifeline.system.outbox{uuid.uuid4().hex[:8]}.v1"
    events = [new_event(subject, "test", {"n": i}) for i in range(400)]
    sent: list[str] = []

    async def on_wire(msg: Any) -> None:
        sent.append(msg.headers["Nats-Msg-Id"])

    try:
        # A plain subscription sees every publish, the ones JetStream would deduplicate too.
        await replicas[0].nc.subscribe(subject, cb=on_wire)  # type: ignore[union-attr]
        async with db.transaction(replicas[0].sessions) as s:
            for e in events:
                await enqueue(s, TABLE, e)
        counts = await asyncio.gather(
            *(OutboxRelay(rt, TABLE, batch=10).drain() for rt in replicas)
        )
        assert await _pending(replicas[0]) == 0
        assert sum(counts) == len(events)
        assert min(counts) > 0, f"one replica did all the work: {counts}"
        assert await until(lambda: len(sent) >= len(events))
        await asyncio.sleep(0.3)  # a duplicate would arrive by now
        assert sorted(sent) == sorted(e.id for e in events)
    finally:
        for rt in replicas:
            await rt.close()


class _HeldPublisher:
    """A JetStream context whose publishes wait until the test lets them through."""

    def __init__(self, js: Any) -> None:
        self.js = js
        self.reached = asyncio.Event()
        self.go = asyncio.Event()

    async def publish_async(self, *args: Any, **kwargs: Any) -> Any:
        self.reached.set()
        await self.go.wait()
        return await self.js.publish_async(*args, **kwargs)


async def _on_stream(rt: Runtime, subject: str) -> list[str]:
    """Every `Nats-Msg-Id` stored on the stream under `subject`, in stream order."""
    sub = await rt.js.subscribe(subject, ordered_consumer=True)  # type: ignore[union-attr]
    ids: list[str] = []
    try:
        while True:
            ids.append((await sub.next_msg(timeout=1.0)).headers["Nats-Msg-Id"])  # type: ignore[index]
    except nats_errors.TimeoutError:
        return ids
    finally:
        await sub.unsubscribe()


async def test_two_relays_on_one_outbox_that_empties_lose_no_event(
    nats_server: NatsServer, db_url: str, tmp_path: Path
) -> None:
    # Two processes' worth of engines and NATS connections on one outbox (a SQLite file too).
    a, b = [await _runtime(db_url, nats_server, tmp_path) for _ in range(2)]
    subject = f"lifeline.system.outbox{uuid.uuid4().hex[:8]}.v1"
    events = [new_event(subject, "test", {"n": i}) for i in range(6)]
    held = _HeldPublisher(b.js)
    b.js = held  # type: ignore[assignment]
    try:
        async with db.transaction(a.sessions) as s:
            for e in events[:3]:
                await enqueue(s, TABLE, e)
        # B has read the first three rows and waits for NATS; A publishes and deletes them,
        # the table is empty, and three new events are written.
        slow = asyncio.create_task(OutboxRelay(b, TABLE).drain())
        await asyncio.wait_for(held.reached.wait(), 5)
        await OutboxRelay(a, TABLE).drain()
        async with db.transaction(a.sessions) as s:
            for e in events[3:]:
                await enqueue(s, TABLE, e)
        held.go.set()
        await slow  # B deletes what it published, not whatever now holds those positions
        await OutboxRelay(a, TABLE).drain()
        assert await _pending(a) == 0
        assert sorted(await _on_stream(a, subject)) == sorted(e.id for e in events)
    finally:
        for rt in (a, b):
            await rt.close()


async def test_two_relays_draining_while_events_arrive_publish_each_once(
    nats_server: NatsServer, db_url: str, tmp_path: Path
) -> None:
    relays = [OutboxRelay(await _runtime(db_url, nats_server, tmp_path), TABLE) for _ in range(2)]
    writer = relays[0].runtime
    subject = f"lifeline.system.outbox{uuid.uuid4().hex[:8]}.v1"
    events = [new_event(subject, "test", {"n": i}) for i in range(400)]
    stop = asyncio.Event()

    async def relay_loop(relay: OutboxRelay) -> None:
        while not stop.is_set():
            await relay.drain()
            await asyncio.sleep(0.001)

    loops = [asyncio.create_task(relay_loop(r)) for r in relays]
    try:
        # Small commits with pauses: the relays keep catching up, so the table keeps emptying.
        for start in range(0, len(events), 4):
            async with db.transaction(writer.sessions) as s:
                for e in events[start : start + 4]:
                    await enqueue(s, TABLE, e)
            await asyncio.sleep(0.002)

        async def drained() -> bool:
            return await _pending(writer) == 0

        assert await until(drained, timeout=20)
        stop.set()
        await asyncio.gather(*loops)
        on_stream = await _on_stream(writer, subject)
        assert len(on_stream) == len(events)
        assert set(on_stream) == {e.id for e in events}
    finally:
        stop.set()
        for relay in relays:
            await relay.runtime.close()


async def test_failed_publishes_are_all_awaited_and_published_once_the_stream_is_back(
    own_nats: NatsServer, db_url: str, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    rt = await _runtime(db_url, own_nats, tmp_path)
    subject = f"lifeline.system.outbox{uuid.uuid4().hex[:8]}.v1"
    events = [new_event(subject, "test", {"n": i}) for i in range(50)]
    relay = OutboxRelay(rt, TABLE)
    try:
        async with db.transaction(rt.sessions) as s:
            for e in events:
                await enqueue(s, TABLE, e)
        # No stream answers (as while a stream has no leader): every publish of the batch fails.
        await rt.js.delete_stream("LIFELINE_SYSTEM")  # type: ignore[union-attr]
        with caplog.at_level(logging.WARNING):
            assert await relay.drain() == 0
            await asyncio.sleep(0.1)
            gc.collect()  # an unawaited failed future reports itself when it is collected
        assert "never retrieved" not in caplog.text
        assert await _pending(rt) == len(events)

        await natsx.ensure_streams(rt.js)  # type: ignore[arg-type]
        assert await relay.drain() == len(events)
        assert await _on_stream(rt, subject) == [e.id for e in events]
    finally:
        await rt.close()


async def test_a_relay_publishes_what_waited_for_nats_once_it_is_back_not_at_its_safety_poll(
    own_nats: NatsServer, db_url: str, tmp_path: Path
) -> None:
    """The relay polls only every minute here: a commit wakes it, and rows that found NATS away
    go out once the client has reconnected (the reconnect wakes it, or its one-second retry)."""
    engine = db.create_engine(db_url)
    async with engine.begin() as conn:
        await conn.run_sync(_Base.metadata.create_all)
    settings = ServiceSettings(data_dir=tmp_path, nats_url=own_nats.url)
    rt = Runtime(settings, engine, db.session_factory(engine))

    async def nothing(_: Runtime) -> None:
        return None

    rt.start_nats(nothing)
    subject = f"lifeline.system.outbox{uuid.uuid4().hex[:8]}.v1"
    relay = OutboxRelay(rt, TABLE, interval=60.0)
    assert rt.on_reconnect == [relay.wake]
    rt.spawn(relay.run(), "outbox-relay")
    try:
        await asyncio.wait_for(rt.nats_ready.wait(), 10)
        first = new_event(subject, "test", {"n": 0})
        async with db.transaction(rt.sessions) as s:
            await enqueue(s, TABLE, first)
        relay.wake()  # as every commit that enqueues does
        assert await until(lambda: _pending_is(rt, 0), timeout=5)

        own_nats.stop()
        later = [new_event(subject, "test", {"n": i}) for i in range(1, 11)]
        async with db.transaction(rt.sessions) as s:
            for e in later:
                await enqueue(s, TABLE, e)
        relay.wake()
        await asyncio.sleep(0.5)
        assert await _pending(rt) == len(later)  # nothing lost while NATS is down
        own_nats.start()
        assert await until(lambda: _pending_is(rt, 0), timeout=15)
        assert await _on_stream(rt, subject) == [e.id for e in [first, *later]]
    finally:
        await rt.close()


async def _pending_is(rt: Runtime, n: int) -> bool:
    return await _pending(rt) == n
