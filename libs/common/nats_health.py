"""Noticing a silent NATS server: a round-trip probe, and a client that can leave it in seconds."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Awaitable, Callable

from nats.aio.client import Client as NatsClient
from nats.aio.transport import TcpTransport

# How long a connection being dropped may take to close before it is cut.
CLOSE_GRACE_S = 1.0

# Strong references to probes still waiting for their PONG (asyncio keeps only weak ones).
_PROBES: set[asyncio.Task[None]] = set()


def _probe_done(task: asyncio.Task[None]) -> None:
    _PROBES.discard(task)
    if not task.cancelled():
        task.exception()  # retrieved: a timed-out or closed probe has nobody else to tell


async def answers(nc: NatsClient, timeout: float) -> bool:
    """Whether the server in use answered a PING within `timeout` seconds."""
    if not nc.is_connected:
        return False
    # nats-py's flush() cancels its PONG future when its own timeout expires, and a PONG that
    # arrives after that kills the client's read loop (set_result on a cancelled future). So the
    # flush may wait until the client itself gives up on a silent server (its pings make it
    # reconnect, which drops the pending PONGs); only our wait for it is short.
    patience = nc.options["ping_interval"] * (nc.options["max_outstanding_pings"] + 2)
    probe = asyncio.create_task(nc.flush(timeout=patience))
    _PROBES.add(probe)
    probe.add_done_callback(_probe_done)
    try:
        await asyncio.wait_for(asyncio.shield(probe), timeout)
    except Exception:
        return False
    return True


_graceful_wait_closed: Callable[[TcpTransport], Awaitable[None]] = TcpTransport.wait_closed


async def _wait_closed_briefly(self: TcpTransport) -> None:
    """Wait for the close, then cut the connection: a frozen server never finishes one."""
    try:
        await asyncio.wait_for(_graceful_wait_closed(self), CLOSE_GRACE_S)
    except TimeoutError:
        for writer in (self._io_writer, self._bare_io_writer):
            if writer is not None:
                with contextlib.suppress(Exception):
                    writer.transport.abort()


def cut_stuck_closes() -> None:
    """Make nats-py cut a dropped connection that does not close within `CLOSE_GRACE_S`."""
    # nats-py waits for the TLS close of the connection it drops before it dials another server
    # (nats-io/nats.py#671); to a frozen server that close never completes, and the client stays
    # off the bus until the kernel gives up on the socket, many minutes later.
    TcpTransport.wait_closed = _wait_closed_briefly  # type: ignore[method-assign]
