"""The embedded network a bench drives: `lifeline up` plus a read-only tap on the bus.

Run as a script it is `lifeline up` whose nats-server knows one more user, `bench-tap`, that may
subscribe to `lifeline.report.received.v1` and publish nothing: the bench sees each event the
moment the server takes it into the stream, without borrowing a service's durable. The tap's
certificate is issued by the network's own CA once the network is up. `--code DIR` in the
bench puts another revision's tree first on every process's path (`bench/compare.py`).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

TAP = "bench-tap"
TAPPED = "lifeline.report.received.v1"
NAMES = {"services.intake": "intake", "services.sharing": "sharing", "services.alerts": "alerts"}
NAMES |= {"services.console": "console", "nats-server": "nats"}


def _with_tap() -> None:
    """`lifeline up`, its bus authorisation extended by the tap user."""
    from lifeline import bus
    from lifeline.bus_pki import bus_user
    from lifeline.cli.main import main

    services = bus.authorization

    def authorization() -> dict[str, Any]:
        users = services()
        users["users"].append(
            {
                "user": bus_user(TAP),
                "permissions": {"publish": {"deny": [">"]}, "subscribe": {"allow": [TAPPED]}},
            }
        )
        return users

    bus.authorization = authorization  # type: ignore[assignment]
    sys.exit(main(["up", *sys.argv[1:]]))


def start(
    tmp: Path, ports: dict[str, int], env: dict[str, str], code: str | None
) -> tuple[subprocess.Popen[bytes], dict[str, str]]:
    """The network on `ports` with `env` added; returns the process and its URLs once ready."""
    argv = [sys.executable, __file__, "--json-logs", "--log-level", "WARNING"]
    argv += ["--data-dir", str(tmp / "data")]
    for name, port in ports.items():
        argv += [f"--{name}-port", str(port)]
    full = {**os.environ, **env}
    if code:
        full["PYTHONPATH"] = os.pathsep.join([code, full.get("PYTHONPATH", "")])
    log = (tmp / "network.log").open("wb")
    proc = subprocess.Popen(argv, stdout=log, stderr=subprocess.STDOUT, env=full)
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        for line in (tmp / "network.log").read_text(errors="replace").splitlines():
            if line.startswith('{"event": "ready"'):
                return proc, json.loads(line)["urls"]
        if proc.poll() is not None:
            break
        time.sleep(0.1)
    raise SystemExit("network did not start:\n" + (tmp / "network.log").read_text())


def tap_credentials(data_dir: Path) -> tuple[Path, Path, Path]:
    """(CA, certificate, key) of the tap, issued now by the network's CA (development mode: its
    root key is beside the data); the tap's key is written unsealed, for the bench to read."""
    from cryptography.x509 import RFC822Name
    from cryptography.x509.oid import ExtendedKeyUsageOID

    from libs.common.seal import sealfile
    from lifeline.bus_pki import BusFiles, bus_user, load_ca, write_leaf
    from lifeline.sealing import holding

    files = BusFiles(data_dir / "bus")
    with holding(sealfile.read_dev_root(data_dir / sealfile.SEAL_FILE)):
        authority = load_ca(files)
    names = [RFC822Name(bus_user(TAP))]
    write_leaf(files, TAP, names, [ExtendedKeyUsageOID.CLIENT_AUTH], authority)  # type: ignore[list-item]
    return files.ca, files.cert(TAP), files.key(TAP)


def processes(parent: int) -> dict[str, int]:
    """The network's processes (children of `parent`) by name: intake, sharing, ..., nats."""
    found = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
            cmdline = (entry / "cmdline").read_bytes().replace(b"\0", b" ").decode()
        except OSError:
            continue
        if int(stat.rpartition(")")[2].split()[1]) != parent:
            continue
        for needle, name in NAMES.items():
            if needle in cmdline:
                found[name] = int(entry.name)
    return found


def cpu_seconds(pids: dict[str, int]) -> dict[str, float]:
    """User + system CPU seconds of each process so far (every thread), from /proc."""
    tick = os.sysconf("SC_CLK_TCK")
    out = {}
    for name, pid in pids.items():
        fields = Path(f"/proc/{pid}/stat").read_text().rpartition(")")[2].split()
        out[name] = (int(fields[11]) + int(fields[12])) / tick
    return out


if __name__ == "__main__":
    _with_tap()
