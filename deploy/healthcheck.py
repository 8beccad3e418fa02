"""Container health probe: `python healthcheck.py [PATH] [SERVICE]`, exit 0 on HTTP 200.

The image has no curl, and one image runs all three services and the web console, so the probe
works out which one this container runs (`-m services.<name>` on a process command line, unless
SERVICE is given), reads its settings from the environment exactly as it does, and asks
`http://<host>:<port><PATH>` (PATH defaults to `/healthz`; compose uses `/readyz`).
"""

from __future__ import annotations

import http.client
import importlib
import itertools
import sys
from collections.abc import Iterable, Sequence
from pathlib import Path

# The console is no service on the bus, but it runs from this image and answers the same routes.
SERVICES = ("intake", "sharing", "alerts", "console")
ALLOWED_PATHS = ("/healthz", "/readyz")
TIMEOUT_S = 3.0


def service_from_cmdline(argv: Sequence[str]) -> str | None:
    """`intake` for `python -m services.intake`, else None."""
    for flag, module in itertools.pairwise(argv):
        if flag == "-m" and module.startswith("services."):
            name = module.removeprefix("services.")
            if name in SERVICES:
                return name
    return None


def _cmdlines(proc: Path = Path("/proc")) -> Iterable[list[str]]:
    for entry in proc.iterdir():
        if not entry.name.isdigit():
            continue
        try:
            raw = (entry / "cmdline").read_bytes()
        except OSError:
            continue
        yield [part.decode(errors="replace") for part in raw.split(b"\0") if part]


def running_service() -> str:
    """The service a process of this container runs."""
    for argv in _cmdlines():
        found = service_from_cmdline(argv)
        if found:
            return found
    raise LookupError("no `python -m services.<name>` process found")


def target(service: str) -> tuple[str, int]:
    """Host and port the service listens on, from its own settings class."""
    module = importlib.import_module(f"services.{service}.settings")
    settings = getattr(module, f"{service.capitalize()}Settings")()
    host = str(settings.host)
    if host in ("", "0.0.0.0"):  # noqa: S104 - a wildcard bind is reached on loopback
        host = "127.0.0.1"
    elif host == "::":
        host = "::1"
    return host, int(settings.port)


def probe(host: str, port: int, path: str) -> int:
    """HTTP status of GET path."""
    conn = http.client.HTTPConnection(host, port, timeout=TIMEOUT_S)
    try:
        conn.request("GET", path, headers={"User-Agent": "lifeline-healthcheck"})
        return conn.getresponse().status
    finally:
        conn.close()


def main(args: Sequence[str]) -> int:
    """Exit status for Docker/compose: 0 healthy, 1 not."""
    path = args[0] if args else "/healthz"
    if path not in ALLOWED_PATHS:
        sys.stderr.write(f"path must be one of {ALLOWED_PATHS}\n")
        return 2
    try:
        service = args[1] if len(args) > 1 else running_service()
        host, port = target(service)
        status = probe(host, port, path)
    except (OSError, LookupError, http.client.HTTPException) as exc:
        sys.stderr.write(f"unhealthy: {type(exc).__name__}: {exc}\n")
        return 1
    if status != 200:
        sys.stderr.write(f"unhealthy: {path} answered {status}\n")
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
