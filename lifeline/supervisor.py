"""What keeps the embedded network running: a service that crashes is started again with
back-off instead of stopping everything; nats-server at once, until it keeps dying.

`python -m lifeline.supervisor --plan-fd N` is what `lifeline up` becomes once it has prepared
the network (`lifeline.launch`): it loads no key, bus or web library for the network's life.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
import sys
import time
from dataclasses import dataclass, field

from lifeline.cli.base import CliError, print_error
from lifeline.cli.exits import Exit
from lifeline.network import Network, Plan
from lifeline.ready import announce


@dataclass
class Backoff:
    """Delay before a service is started again: doubling from `first_s` up to `max_s`, and
    back to `first_s` once it had run `healthy_after_s` (a crash loop backs off, a rare crash
    does not wait long)."""

    first_s: float = 0.5
    max_s: float = 30.0
    healthy_after_s: float = 60.0
    _next: dict[str, float] = field(default_factory=dict)

    def delay(self, name: str, ran_for_s: float) -> float:
        """Seconds to wait before starting `name` again, after it ran `ran_for_s`."""
        if ran_for_s >= self.healthy_after_s:
            self._next.pop(name, None)
        delay = self._next.get(name, self.first_s)
        self._next[name] = min(delay * 2, self.max_s)
        return delay


@dataclass
class NatsRestarts:
    """nats-server is started again at once, but more than `limit` exits within `window_s`
    means something is wrong with it (its store, its port): then the network stops."""

    limit: int = 3
    window_s: float = 60.0
    _exits: list[float] = field(default_factory=list)

    def allow(self) -> bool:
        """Record an exit now; False once there were too many."""
        now = time.monotonic()
        self._exits = [t for t in self._exits if now - t < self.window_s] + [now]
        return len(self._exits) <= self.limit


async def supervise(network: Network, stop: asyncio.Event, backoff: Backoff | None = None) -> bool:
    """Keep the children running until `stop` (True); False once nats-server keeps dying."""
    backoff, nats = backoff or Backoff(), NatsRestarts()
    while True:
        died = await network.wait_for_exit(stop)
        if died is None:
            return True
        child = network.exited(died)
        if died == "nats":
            if not nats.allow():
                return False
            print(
                f"lifeline: nats-server exited with status {child.proc.returncode}; starting it "
                "again (the services answer 503 on /readyz until they have reconnected)",
                file=network.out,
                flush=True,
            )
            try:
                await network.respawn(child)
            except CliError:
                return False
            continue
        delay = backoff.delay(died, child.ran_for())
        sealed = "; it starts sealed (`lifeline unseal`)" if network.plan.sealed else ""
        print(
            f"lifeline: {died} exited with status {child.proc.returncode}; starting it again "
            f"in {delay:.1f} s{sealed}",
            file=network.out,
            flush=True,
        )
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(stop.wait(), timeout=delay)
        if stop.is_set():
            return True
        await network.respawn(child)


async def run(plan: Plan) -> int:
    """Start the network, say where it listens, and supervise until Ctrl-C or SIGTERM."""
    network = Network(plan)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    try:
        await network.start()
    except CliError:
        await network.stop(grace=3.0)
        raise
    except asyncio.CancelledError:
        await network.stop(grace=3.0)
        return Exit.INTERRUPTED
    announce(plan, time.monotonic() - plan.started)
    stopped = await supervise(network, stop)
    await network.stop()
    if not stopped:
        print("lifeline: error: nats-server keeps stopping; network shut down", file=sys.stderr)
        return Exit.FAILURE
    print("lifeline: stopped", file=sys.stderr)
    return Exit.OK


def main(argv: list[str]) -> int:
    """Read the plan `lifeline up` left at `--plan-fd`, then run it."""
    fd = int(argv[argv.index("--plan-fd") + 1])
    with os.fdopen(fd, encoding="utf-8") as left:  # closed: nothing else may read it again
        plan = Plan.loads(left.read())
    try:
        return asyncio.run(run(plan))
    except CliError as exc:
        print_error(exc, as_json=plan.json_errors)
        return exc.exit_code
    except KeyboardInterrupt:
        return Exit.INTERRUPTED


if __name__ == "__main__":
    sys.exit(main(sys.argv))
