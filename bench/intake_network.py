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
    tmp: Path,
    *,
    code: str | Path | None = None,
    env: dict[str, str] | None = None,
    tap: bool = False,
) -> tuple[subprocess.Popen[bytes], dict[str, str]]:
    """`lifeline up` on free ports (with the tap user when `tap`); the process and its URLs,
    `nats` included, once ready.

    `code`: run the network from another revision's tree (`bench/compare.py`) instead of this
    one; `env`: settings for its services (e.g. their database URLs).
    """
    from tests.support.natsd import free_port

    ports = {name: free_port() for name in ("nats", "intake", "sharing", "alerts", "console")}
    ports |= {f"{name}-metrics": free_port() for name in ("intake", "sharing", "alerts", "console")}
    # From a scratch directory: the tree on PYTHONPATH is the one imported.
    entry = [__file__] if tap else ["-m", "lifeline", "up"]
    argv = [sys.executable, *entry, "--json-logs", "--log-level", "WARNING"]
    argv += ["--ready-timeout", "120"]  # a busy machine
    argv += ["--data-dir", str(tmp / "data")]
    for name, port in ports.items():
        argv += [f"--{name}-port", str(port)]
    here = Path(__file__).resolve().parent.parent
    # A revision exported by `git archive` has no built console (it is not checked in): the
    # console, which no bench measures, serves this tree's.
    assets = {"LIFELINE_CONSOLE_ASSETS_DIR": str(here / "services/console/web/dist")}
    run_env = {
        **os.environ,
        **(assets if code else {}),
        "LIFELINE_INTAKE_RATE_BURST": "1000000",
        "LIFELINE_INTAKE_RATE_PER_SECOND": "1000000",
        "PYTHONPATH": str(code or here),
        **(env or {}),
    }
    log = (tmp / "network.log").open("wb")
    proc = subprocess.Popen(argv, stdout=log, stderr=subprocess.STDOUT, env=run_env, cwd=tmp)
    deadline = time.monotonic() + 150
    while time.monotonic() < deadline:
        for line in (tmp / "network.log").read_text(errors="replace").splitlines():
            if line.startswith('{"event": "ready"'):
                urls: dict[str, str] = json.loads(line)["urls"]
                return proc, urls | {"nats": f"nats://127.0.0.1:{ports['nats']}"}
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


def _from_proc(pids: dict[str, int], file: str) -> dict[str, str]:
    """The text of /proc/PID/`file` of each process still running (one restarted under a fault,
    or gone at the end of a run, is left out)."""
    out = {}
    for name, pid in pids.items():
        try:
            out[name] = Path(f"/proc/{pid}/{file}").read_text()
        except OSError:
            continue
    return out


def cpu_seconds(pids: dict[str, int]) -> dict[str, float]:
    """User + system CPU seconds of each process so far (every thread), from /proc."""
    tick = os.sysconf("SC_CLK_TCK")
    out = {}
    for name, stat in _from_proc(pids, "stat").items():
        fields = stat.rpartition(")")[2].split()
        out[name] = (int(fields[11]) + int(fields[12])) / tick
    return out


def disk_writes(pids: dict[str, int]) -> dict[str, int]:
    """Bytes each process has sent to storage so far (`write_bytes` of /proc/PID/io)."""
    out = {}
    for name, io in _from_proc(pids, "io").items():
        field = next(line for line in io.splitlines() if line.startswith("write_bytes:"))
        out[name] = int(field.split()[1])
    return out


if __name__ == "__main__":
    _with_tap()
