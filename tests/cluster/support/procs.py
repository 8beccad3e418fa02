"""Service replicas as real processes (`python -m services.<name>`), as `lifeline up` runs them."""

from __future__ import annotations

import os
import signal
import subprocess
import time
from dataclasses import dataclass, field
from pathlib import Path

import httpx

# The checkout whose services run: this one, or another (the "before" run) given by path.
CODE_ENV = "LIFELINE_CLUSTER_CODE"
HERE = Path(__file__).resolve().parents[3]


def code_root() -> Path:
    """The checkout the services and the CLI run from."""
    return Path(os.environ.get(CODE_ENV) or HERE).resolve()


def venv_bin(name: str) -> str:
    """An executable of that checkout's virtual environment."""
    return str(code_root() / ".venv" / "bin" / name)


def clean_env() -> dict[str, str]:
    """This process's environment without LIFELINE_* settings, on the checkout's code."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("LIFELINE_")}
    env["PYTHONPATH"] = str(code_root())
    return env


@dataclass
class Replica:
    """One replica of a service: its own port and log, the service's shared settings."""

    service: str
    index: int
    port: int
    env: dict[str, str]
    log: Path
    proc: subprocess.Popen[bytes] | None = None
    starts: int = 0
    exits: list[int] = field(default_factory=list)

    @property
    def name(self) -> str:
        """e.g. alerts-1."""
        return f"{self.service}-{self.index}"

    @property
    def url(self) -> str:
        """This replica's own base URL."""
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> None:
        """Start the process (again, on the same port and data)."""
        assert self.proc is None or self.proc.poll() is not None
        prefix = f"LIFELINE_{self.service.upper()}_"
        env = {**clean_env(), **self.env, prefix + "PORT": str(self.port)}
        with self.log.open("ab") as sink:
            self.proc = subprocess.Popen(
                [venv_bin("python"), "-m", f"services.{self.service}"],
                stdout=sink,
                stderr=subprocess.STDOUT,
                stdin=subprocess.DEVNULL,
                env=env,
                cwd=code_root(),
                start_new_session=True,
            )
        self.starts += 1

    def ready(self) -> bool:
        """Whether /readyz answers 200."""
        try:
            return httpx.get(self.url + "/readyz", timeout=1).status_code == 200
        except httpx.HTTPError:
            return False

    def wait_ready(self, timeout: float = 60) -> None:
        """Block until ready; fail with the log's tail if it exits or takes too long."""
        deadline = time.monotonic() + timeout
        while not self.ready():
            assert self.proc is not None
            if self.proc.poll() is not None or time.monotonic() > deadline:
                tail = self.log.read_text(errors="replace")[-3000:]
                raise RuntimeError(f"{self.name} not ready (exit {self.proc.poll()}):\n{tail}")
            time.sleep(0.1)

    def signal(self, sig: int) -> None:
        """Send a signal to the process."""
        if self.proc is not None and self.proc.poll() is None:
            self.proc.send_signal(sig)

    def kill(self) -> None:
        """SIGKILL: a crash, nothing flushed or drained."""
        self.signal(signal.SIGKILL)
        self._reap(10)

    def terminate(self, grace: float = 30) -> float:
        """SIGTERM and wait for the exit (the service drains first); seconds it took."""
        began = time.monotonic()
        self.signal(signal.SIGTERM)
        self._reap(grace)
        return time.monotonic() - began

    def _reap(self, timeout: float) -> None:
        if self.proc is None:
            return
        try:
            self.exits.append(self.proc.wait(timeout=timeout))
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.exits.append(self.proc.wait(timeout=10))
