"""The NATS connection helper against a real server: it warns of a lost connection only, and
notices a server that went silent in seconds."""

from __future__ import annotations

import logging

import pytest

from libs.common import nats as natsx
from libs.common.nats_health import answers
from tests.support.natsd import NatsServer
from tests.support.receivers import until


def _warned(caplog: pytest.LogCaptureFixture) -> int:
    return sum(r.getMessage() == "nats disconnected" for r in caplog.records)


async def test_a_lost_connection_is_warned_about_and_a_close_of_our_own_is_not(
    own_nats: NatsServer, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, logger=natsx.__name__)
    nc = await natsx.connect(own_nats.url, "test")
    await nc.close()  # every service does this when it stops
    assert _warned(caplog) == 0
    nc = await natsx.connect(own_nats.url, "test")
    try:
        own_nats.stop()
        assert await until(lambda: _warned(caplog) == 1, timeout=5)
        own_nats.start()
        assert await until(lambda: nc.is_connected, timeout=10)  # and it reconnects by itself
    finally:
        await nc.close()
    assert _warned(caplog) == 1


async def test_a_frozen_server_is_dropped_after_the_unanswered_pings_and_rejoined(
    own_nats: NatsServer, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, logger=natsx.__name__)
    nc = await natsx.connect(own_nats.url, "test", ping_interval=0.2, max_outstanding_pings=2)
    try:
        assert await answers(nc, timeout=1)
        own_nats.pause()
        try:
            assert not await answers(nc, timeout=0.3)
            # Still "connected" to nats-py until its pings go unanswered; then it lets go.
            assert await until(lambda: _warned(caplog) == 1, timeout=3)
        finally:
            own_nats.resume()
        assert await until(lambda: answers(nc, timeout=1), timeout=10)
    finally:
        await nc.close()


async def test_a_pong_arriving_after_the_probe_gave_up_leaves_the_client_working(
    own_nats: NatsServer, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, logger=natsx.__name__)
    nc = await natsx.connect(own_nats.url, "test")  # 5 s pings: the pause ends before they count
    try:
        own_nats.pause()
        try:
            assert not await answers(nc, timeout=0.3)
        finally:
            own_nats.resume()
        # The late PONG settles the first probe; the client still reads what the server sends.
        assert await answers(nc, timeout=1)
        assert await answers(nc, timeout=1)
        assert _warned(caplog) == 0
    finally:
        await nc.close()
