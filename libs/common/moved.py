"""A durable whose subject moved to a stream of its own: its old durable, read to the end.

When a subject moves (`bus.Durable.moved_from`), messages published before the move stay on the
old stream, and so does the durable that had not read them all yet. The service runs its
handler on that old durable as well until the old stream no longer captures the subject and the
durable has nothing pending or unacknowledged, then deletes it: no report published before the
move is lost, and none is handled twice beyond what the handlers' event-id dedupe absorbs.
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import logging

from nats.js import JetStreamContext
from nats.js.errors import NotFoundError

from libs.common.consumer import ConsumerLoop
from libs.common.nats import ConsumerSpec
from libs.common.subjects import captures

log = logging.getLogger(__name__)


async def drain(
    js: JetStreamContext,
    spec: ConsumerSpec,
    loop: ConsumerLoop,
    stop: asyncio.Event,
    poll: float = 1.0,
) -> bool:
    """Run `loop`'s handlers on the old durable until it is drained; True once deleted here."""
    while not stop.is_set():
        try:
            return await _drain_once(js, spec, loop, stop, poll)
        except NotFoundError:
            return False  # no old durable (a new bus), or another replica deleted it
        except Exception as exc:
            # NATS restarting under us: the old durable keeps its place, try again.
            log.warning(
                "moved durable not drained yet, retrying",
                extra={"consumer": spec.durable, "reason": type(exc).__name__},
            )
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stop.wait(), poll)
    return False


async def _drain_once(
    js: JetStreamContext,
    spec: ConsumerSpec,
    loop: ConsumerLoop,
    stop: asyncio.Event,
    poll: float,
) -> bool:
    old = spec.moved_from
    assert old is not None
    await js.consumer_info(old, spec.durable)  # NotFoundError: nothing to drain
    sub = await js.pull_subscribe_bind(durable=spec.durable, stream=old)
    done = asyncio.Event()
    reader = dataclasses.replace(loop, sub=sub, stream=old)
    task = asyncio.create_task(reader.run(done), name=f"moved-{spec.durable}")
    try:
        while not await _drained(js, old, spec):
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stop.wait(), poll)
            if stop.is_set():
                return False
    finally:
        done.set()
        reader.refetch()
        await task
        await sub.unsubscribe()
    await js.delete_consumer(old, spec.durable)
    log.info("moved durable drained and deleted", extra={"consumer": spec.durable, "stream": old})
    return True


async def _drained(js: JetStreamContext, old: str, spec: ConsumerSpec) -> bool:
    """Whether the old stream takes no more of the subject and the old durable has it all."""
    stream = await js.stream_info(old)
    if captures(stream.config.subjects or (), spec.filter_subject):
        return False  # the layout is not migrated yet: publishes still land there
    return await left_behind(js, spec) == 0


async def left_behind(js: JetStreamContext, spec: ConsumerSpec) -> int:
    """What the old durable has not acknowledged yet: pending or in flight (0 once it is gone)."""
    if spec.moved_from is None:
        return 0
    try:
        info = await js.consumer_info(spec.moved_from, spec.durable)
    except NotFoundError:
        return 0
    return int(info.num_pending or 0) + int(info.num_ack_pending or 0)
