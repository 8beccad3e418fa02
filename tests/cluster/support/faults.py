"""The faults, one after another: each records when it began and when it ended (the service
or node back), and the phase runs on until the next fault begins."""

from __future__ import annotations

import asyncio
import signal
import time
from dataclasses import dataclass

import httpx

from tests.cluster.support.stack import SERVICES, Stack, node_ready, until_ready


@dataclass
class Phase:
    """One fault's window in the run."""

    name: str
    began: float
    ended: float  # the fault is over (what was killed or cut is back)
    until: float = 0.0  # the next phase begins
    error: str = ""  # what went wrong bringing things back, if anything did


async def _nats_back(stack: Stack, index: int, timeout: float = 30) -> None:
    deadline = time.monotonic() + timeout
    while not await asyncio.to_thread(node_ready, stack.nats, index):
        assert time.monotonic() < deadline, f"nats-{index} not current again"
        await asyncio.sleep(0.2)


def _clients(stack: Stack, index: int) -> int:
    url = f"http://127.0.0.1:{stack.nats.nodes[index].http_port}/connz"
    try:
        return int(httpx.get(url, timeout=2).json()["num_connections"])
    except httpx.HTTPError:
        return -1


async def busiest_node(stack: Stack) -> int:
    """The node most service replicas are connected to now: the fault hits them, not nobody
    (clients pick a node of the URL list at random)."""
    counts = [await asyncio.to_thread(_clients, stack, i) for i in range(len(stack.nats.nodes))]
    return counts.index(max(counts))


async def kill_nats_node(stack: Stack, hold: float) -> None:
    """kill -9 the busiest node, restart it on its store after `hold` seconds."""
    node = await busiest_node(stack)
    await asyncio.to_thread(stack.nats.servers[node].stop, signal.SIGKILL)
    await asyncio.sleep(hold)
    await asyncio.to_thread(stack.nats.servers[node].start)
    await _nats_back(stack, node)


async def freeze_nats_node(stack: Stack, hold: float) -> None:
    """SIGSTOP the busiest node (its sockets stay open, nothing answers), SIGCONT after
    `hold`."""
    node = await busiest_node(stack)
    await asyncio.to_thread(stack.nats.servers[node].pause)
    await asyncio.sleep(hold)
    stack.nats.servers[node].resume()
    await _nats_back(stack, node)


async def kill_replicas(stack: Stack, hold: float) -> None:
    """kill -9 one replica of each service together; start them again after `hold`."""
    victims = [stack.replicas[s][1] for s in SERVICES]
    for replica in victims:
        await asyncio.to_thread(replica.kill)
    await asyncio.sleep(hold)
    for replica in victims:
        replica.start()
    await asyncio.to_thread(until_ready, victims)


async def cut_postgres(stack: Stack, hold: float) -> None:
    """Every connection to PostgreSQL dropped and refused for `hold` seconds."""
    await stack.pg_proxy.stop()
    await asyncio.sleep(hold)
    await stack.pg_proxy.start()


async def rolling_restart(stack: Stack, hold: float) -> None:
    """SIGTERM each replica in turn, start it again, wait until ready, then the next."""
    del hold
    for replica in stack.all_replicas():
        await asyncio.to_thread(replica.terminate)
        replica.start()
        await asyncio.to_thread(until_ready, [replica])


FAULTS = (
    ("nats node killed", kill_nats_node, 5.0),
    # Longer than the silent-node detection (2 pings 5 s apart, 10-15 s): a real partition.
    ("nats node frozen", freeze_nats_node, 20.0),
    ("replicas killed", kill_replicas, 3.0),
    ("postgres cut", cut_postgres, 10.0),
    ("rolling restart", rolling_restart, 0.0),
)


async def run_faults(stack: Stack, settle: float, baseline: float) -> list[Phase]:
    """Run every fault, `settle` seconds apart, after `baseline` seconds without any."""
    began = time.monotonic()
    await asyncio.sleep(baseline)
    phases = [Phase("none (baseline)", began, began)]
    for name, inject, hold in FAULTS:
        start = time.monotonic()
        phases[-1].until = start
        error = ""
        try:
            await inject(stack, hold)
        except (AssertionError, RuntimeError, OSError) as exc:
            # Recorded, and the run goes on: the table of a failing run is what shows why.
            error = f"{type(exc).__name__}: {str(exc)[:300]}"
        phases.append(Phase(name, start, time.monotonic(), error=error))
        await asyncio.sleep(settle)
    phases[-1].until = time.monotonic()
    return phases
