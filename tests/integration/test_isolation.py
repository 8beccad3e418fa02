"""Tests share one nats-server; each starts with empty streams, durable consumers kept."""

from __future__ import annotations

from libs.common import nats as natsx
from libs.common.events import new_event
from libs.common.subjects import REPORT_RECEIVED, stream_for
from tests.support.natsd import NatsServer


async def test_a_test_never_receives_events_an_earlier_test_left(nats_server: NatsServer) -> None:
    # `nats_server`: empty streams to start with, whichever test ran before on this server.
    session_nats = nats_server
    nc = await natsx.connect(session_nats.url, "test")
    js = nc.jetstream()
    await natsx.ensure_streams(js)
    spec = natsx.ConsumerSpec(durable="isolation-check", filter_subject=REPORT_RECEIVED)
    stream = stream_for(REPORT_RECEIVED).name
    try:
        sub = await natsx.ensure_pull_consumer(js, spec)
        # An earlier test published and stopped before its service consumed the event.
        await natsx.publish(js, new_event(REPORT_RECEIVED, "intake", {"report_id": "left-over"}))
        assert (await sub.consumer_info()).num_pending == 1
        session_nats.purge()  # what the `nats_server` fixture does before each test
        assert (await js.stream_info(stream)).state.messages == 0
        assert (await sub.consumer_info()).num_pending == 0  # the durable is still there
    finally:
        # The server is shared: leave no consumer behind, whatever the outcome.
        await js.delete_consumer(stream, spec.durable)
        await nc.close()
