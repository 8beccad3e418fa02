"""The NATS connection helper against a real server: it warns of a lost connection only."""

from __future__ import annotations

import logging

import pytest

from libs.common import nats as natsx
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
