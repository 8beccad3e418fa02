"""The consumer loop against a real nats-server: poison, transient failures, duplicates."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator

import pytest
from nats.aio.client import Client
from sqlalchemy.exc import OperationalError

from libs.common import nats as natsx
from libs.common.consumer import ConsumerLoop, DeadLetter, LeftOver
from libs.common.events import Envelope, PermanentError, new_event
from tests.support.natsd import NatsServer


@pytest.fixture
async def nc(nats_server: NatsServer) -> AsyncIterator[Client]:
    client = await natsx.connect(nats_server.url, "test")
    await natsx.ensure_streams(client.jetstream())
    yield client
    await client.close()


class Recorder:
    """Collects what the loop handled and dead-lettered."""

    def __init__(self) -> None:
        self.handled: list[str] = []
        self.dead: list[DeadLetter] = []

    async def dead_letter(self, letter: DeadLetter) -> None:
        self.dead.append(letter)


async def _run(nc: Client, subject: str, handler, rec: Recorder, until, batch_handler=None) -> None:  # type: ignore[no-untyped-def]
    js = nc.jetstream()
    sub = await natsx.ensure_pull_consumer(
        js, natsx.ConsumerSpec(durable=f"t-{uuid.uuid4().hex[:8]}", filter_subject=subject)
    )
    loop = ConsumerLoop(
        sub,
        handler,
        rec.dead_letter,
        name="t",
        fetch_timeout=0.2,
        nak_delays=(0.05,),
        poison_after=3,
        batch_handler=batch_handler,
    )
    stop = asyncio.Event()
    task = asyncio.create_task(loop.run(stop))
    try:
        for _ in range(200):
            if until():
                break
            await asyncio.sleep(0.05)
    finally:
        stop.set()
        await asyncio.wait_for(task, timeout=3)


def _subject() -> str:
    return f"lifeline.system.test{uuid.uuid4().hex[:8]}.v1"


async def test_invalid_and_poison_messages_are_dead_lettered_and_later_ones_flow(
    nc: Client,
) -> None:
    subject, rec = _subject(), Recorder()
    js = nc.jetstream()
    await js.publish(subject, b"{not json")
    poison = new_event(subject, "test", {"crash": True})
    good = new_event(subject, "test", {"crash": False})
    for event in (poison, good):
        await natsx.publish(js, event)

    async def handler(event: Envelope) -> None:
        if event.data["crash"]:
            raise ValueError("handler bug")
        rec.handled.append(event.id)

    await _run(nc, subject, handler, rec, until=lambda: len(rec.dead) == 2 and rec.handled)
    assert rec.handled == [good.id]
    reasons = {d.event_id: d.reason for d in rec.dead}
    assert reasons == {None: "invalid_envelope", poison.id: "handler:ValueError"}


async def test_permanent_error_dead_letters_at_once(nc: Client) -> None:
    subject, rec = _subject(), Recorder()
    event = new_event(subject, "test", {})
    await natsx.publish(nc.jetstream(), event)
    calls = 0

    async def handler(_: Envelope) -> None:
        nonlocal calls
        calls += 1
        raise PermanentError("contract")

    await _run(nc, subject, handler, rec, until=lambda: bool(rec.dead))
    assert calls == 1
    assert rec.dead[0].reason == "permanent:contract"


async def test_transient_failures_retry_past_the_poison_limit_and_never_dead_letter(
    nc: Client,
) -> None:
    subject, rec = _subject(), Recorder()
    event = new_event(subject, "test", {})
    await natsx.publish(nc.jetstream(), event)
    failures = 0

    async def handler(e: Envelope) -> None:
        nonlocal failures
        if failures < 6:  # twice the poison limit: a database outage is not poison
            failures += 1
            raise OperationalError("SELECT 1", {}, Exception("database is down"))
        rec.handled.append(e.id)

    await _run(nc, subject, handler, rec, until=lambda: bool(rec.handled))
    assert rec.handled == [event.id]
    assert rec.dead == []


async def test_republishing_the_same_event_id_is_stored_once(nc: Client) -> None:
    subject = _subject()
    js = nc.jetstream()
    event = new_event(subject, "test", {})
    first = await natsx.publish(js, event)
    second = await natsx.publish(js, event)
    assert first == second
    info = await js.stream_info("LIFELINE_SYSTEM", subjects_filter=subject)
    assert info.state.subjects == {subject: 1}


async def test_a_batch_commits_its_good_messages_and_leaves_the_poison_to_be_dead_lettered(
    nc: Client,
) -> None:
    subject, rec = _subject(), Recorder()
    events = [new_event(subject, "test", {"poison": i == 2}) for i in range(5)]
    for event in events:
        await natsx.publish(nc.jetstream(), event)
    batches: list[list[str]] = []
    one_by_one: list[str] = []

    async def batch_handler(batch: list[Envelope]) -> None:
        batches.append([e.id for e in batch])
        rec.handled.extend(e.id for e in batch if not e.data["poison"])
        raise LeftOver(frozenset(e.id for e in batch if e.data["poison"]))

    async def handler(event: Envelope) -> None:
        one_by_one.append(event.id)
        raise PermanentError("does not open")

    await _run(nc, subject, handler, rec, until=lambda: bool(rec.dead), batch_handler=batch_handler)
    assert batches == [[e.id for e in events]]  # one fetch, one batch
    assert rec.handled == [e.id for i, e in enumerate(events) if i != 2]
    assert one_by_one == [events[2].id]
    assert [(d.event_id, d.reason) for d in rec.dead] == [(events[2].id, "permanent:does not open")]


async def test_a_long_poll_hands_messages_over_at_once_and_a_refetch_loses_none(
    nc: Client,
) -> None:
    """Pull requests that expire only after a minute: a message is handled the moment it is
    stored, and dropping the outstanding request (as a reconnect does) neither stops the loop
    nor loses or repeats a message."""
    subject, rec = _subject(), Recorder()
    js = nc.jetstream()
    sub = await natsx.ensure_pull_consumer(
        js, natsx.ConsumerSpec(durable=f"t-{uuid.uuid4().hex[:8]}", filter_subject=subject)
    )

    async def handler(event: Envelope) -> None:
        rec.handled.append(event.id)

    loop = ConsumerLoop(sub, handler, rec.dead_letter, name="t", fetch_timeout=60.0)
    stop = asyncio.Event()
    task = asyncio.create_task(loop.run(stop))
    events = [new_event(subject, "test", {"n": i}) for i in range(6)]
    try:
        for i, event in enumerate(events):
            await asyncio.sleep(0.2)  # the loop is waiting on its pull request
            if i % 2:
                loop.refetch()
            await natsx.publish(js, event)
            for _ in range(40):
                if event.id in rec.handled:
                    break
                await asyncio.sleep(0.05)
            assert event.id in rec.handled, f"message {i} not handled within 2 s"
        assert rec.handled == [e.id for e in events]
    finally:
        stop.set()
        loop.refetch()  # the loop notices `stop` once its pull request ends
        await asyncio.wait_for(task, timeout=3)
    assert not task.cancelled()


async def test_a_lingering_loop_takes_what_arrived_meanwhile_as_one_batch_and_stops_at_once(
    nc: Client,
) -> None:
    """With `linger`, messages arriving one by one after a fetch that was not full wait for
    the next fetch together (one batch, one transaction); `stop` ends the wait."""
    subject, rec = _subject(), Recorder()
    js = nc.jetstream()
    sub = await natsx.ensure_pull_consumer(
        js, natsx.ConsumerSpec(durable=f"t-{uuid.uuid4().hex[:8]}", filter_subject=subject)
    )
    batches: list[list[str]] = []

    async def handler(event: Envelope) -> None:
        batches.append([event.id])

    async def batch_handler(batch: list[Envelope]) -> None:
        batches.append([e.id for e in batch])

    loop = ConsumerLoop(
        sub, handler, rec.dead_letter, name="t", batch_handler=batch_handler, linger=0.8
    )
    stop = asyncio.Event()
    task = asyncio.create_task(loop.run(stop))
    events = [new_event(subject, "test", {"n": i}) for i in range(6)]
    try:
        await asyncio.sleep(0.2)
        await natsx.publish(js, events[0])
        for _ in range(40):
            if batches:
                break
            await asyncio.sleep(0.05)
        assert batches == [[events[0].id]]  # handed over at once, then the loop lingers
        loop.linger = 30.0  # from its next wait on: only `stop` can end that one in time
        for event in events[1:]:
            await natsx.publish(js, event)
            await asyncio.sleep(0.05)
        for _ in range(60):
            if len(batches) > 1:
                break
            await asyncio.sleep(0.05)
        assert batches == [[events[0].id], [e.id for e in events[1:]]]
        await asyncio.sleep(0.1)  # lingering for 30 s now: its last fetch was not full
    finally:
        stop.set()
        loop.refetch()
        await asyncio.wait_for(task, timeout=3)
