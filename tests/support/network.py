"""Start the whole network exactly as a user does (`lifeline up`, a subprocess) for e2e tests."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

from tests.support.natsd import free_port

LIFELINE = str(Path(sys.executable).parent / "lifeline")
# Every listening part of the network.
METRICS_NAMES = ("intake", "sharing", "alerts", "console")  # each with a /metrics listener
PORT_NAMES = (
    "nats",
    "intake",
    "sharing",
    "alerts",
    "console",
    *(f"{n}-metrics" for n in METRICS_NAMES),
)


@dataclass
class RunningNetwork:
    """A `lifeline up` process and where its parts listen."""

    proc: subprocess.Popen[bytes]
    urls: dict[str, str]
    data_dir: Path
    log: Path
    ports: dict[str, int]
    # Each service's /metrics URL, as `lifeline up` announced it.
    metrics: dict[str, str] = field(default_factory=dict)

    def output(self) -> str:
        """Everything the network printed so far."""
        return self.log.read_text(errors="replace")


def up_command(data_dir: Path, ports: dict[str, int]) -> list[str]:
    """The argv of `lifeline up` on the given ports."""
    return [
        LIFELINE,
        "up",
        "--json-logs",
        "--data-dir",
        str(data_dir),
        "--nats-port",
        str(ports["nats"]),
        "--intake-port",
        str(ports["intake"]),
        "--sharing-port",
        str(ports["sharing"]),
        "--alerts-port",
        str(ports["alerts"]),
        "--console-port",
        str(ports["console"]),
        *(
            arg
            for name in METRICS_NAMES
            for arg in (f"--{name}-metrics-port", str(ports[f"{name}-metrics"]))
        ),
    ]


@contextmanager
def lifeline_up(
    tmp: Path,
    timeout: float = 30.0,
    env: dict[str, str] | None = None,
    args: tuple[str, ...] = (),
    stdin: str | None = None,
) -> Iterator[RunningNetwork]:
    """Run `lifeline up` (with extra `env` settings, `args` and `stdin`) until its JSON ready
    line; SIGTERM it after."""
    ports = {name: free_port() for name in PORT_NAMES}
    data_dir, log = tmp / "data", tmp / "network.log"
    with log.open("wb") as sink:
        proc = subprocess.Popen(
            [*up_command(data_dir, ports), *args],
            stdout=sink,
            stderr=subprocess.STDOUT,
            stdin=subprocess.PIPE if stdin is not None else None,
            env={**os.environ, **(env or {})},
        )
    if proc.stdin is not None:
        proc.stdin.write((stdin or "").encode())
        proc.stdin.close()
    net = RunningNetwork(proc, {}, data_dir, log, ports)
    try:
        deadline = time.monotonic() + timeout
        while not net.urls:
            if proc.poll() is not None:
                raise RuntimeError(f"lifeline up exited {proc.returncode}:\n{net.output()}")
            if time.monotonic() > deadline:
                raise RuntimeError(f"lifeline up not ready in {timeout} s:\n{net.output()}")
            for line in net.output().splitlines():
                if line.startswith('{"event": "ready"'):
                    ready = json.loads(line)
                    net.urls, net.metrics = ready["urls"], ready["metrics"]
            time.sleep(0.05)
        yield net
    finally:
        if proc.poll() is None:
            proc.send_signal(signal.SIGTERM)
            try:
                proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                proc.kill()
                raise
