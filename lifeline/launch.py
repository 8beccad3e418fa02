"""What `lifeline up` does before it supervises: the data directory, the seal, the bus's files,
each part's environment; then it becomes the supervisor (`exec`), which keeps none of it.

`python -m lifeline.launch --check-bus …` is the child the supervisor runs before it starts
nats-server again: the certificates are checked (and issued anew in development mode) there.
"""

from __future__ import annotations

import argparse
import os
import socket
import sys
import time
from pathlib import Path
from typing import NoReturn

from libs.common.seal import root as seal_root
from libs.common.seal import sealfile
from lifeline.bus import ensure_bus
from lifeline.cli.base import CliError
from lifeline.datadir import lock_data_dir
from lifeline.environment import NetworkConfig, console_env, service_env
from lifeline.network import CONSOLE, PARTS, SERVICES, Part, Plan, find_nats_server
from lifeline.sealing import development_keys, holding, open_or_create, save_urls

SERVER_NAME = "lifeline-local"


def check_port_free(host: str, port: int, what: str) -> None:
    """Fail with one clear line if something already listens on the port."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind((host, port))
        except OSError as exc:
            raise CliError(f"port {port} on {host} is taken ({what}): {exc.strerror}") from None


def prepare(config: NetworkConfig, *, json_output: bool, json_errors: bool) -> Plan:
    """Lock the data directory, check the ports, open (or create) the seal, make the bus's
    files and every part's environment."""
    cfg, started = config, time.monotonic()
    # The data directory holds every database, key and the NATS store: the owner's alone,
    # and so is everything this process and its children create in it.
    os.umask(0o077)
    cfg.data_dir.mkdir(parents=True, exist_ok=True, mode=0o700)
    cfg.data_dir.chmod(0o700)
    # First: a second `lifeline up` here is told so, whatever ports it was given.
    lock_fd = lock_data_dir(cfg.data_dir)
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
        out=sys.stdout,
        kms=cfg.kms,
    )
    with holding(root):
        config_file = _bus_files(cfg.data_dir, cfg.host, cfg.nats_port)
        shared = development_keys(cfg.data_dir) | cfg.kms.service_env(SERVICES)
    save_urls(cfg.data_dir, {name: cfg.url(name) for name in SERVICES})
    parts = [
        Part(name, [sys.executable, "-m", f"services.{name}"], service_env(cfg, name, shared))
        for name in SERVICES
    ]
    parts.append(Part(CONSOLE, [sys.executable, "-m", "services.console"], console_env(cfg)))
    check = [sys.executable, "-m", "lifeline.launch", "--check-bus", str(cfg.data_dir)]
    return Plan(
        nats=Part("nats", [find_nats_server(), "-c", str(config_file)]),
        bus_check=[*check, cfg.host, str(cfg.nats_port)],
        parts=parts,
        urls={name: cfg.url(name) for name in PARTS} | {"nats": cfg.nats_url},
        metrics={name: cfg.metrics_url(name) for name in PARTS},
        data_dir=str(cfg.data_dir),
        # Sealed, or a sealed data directory started without --sealed: no root key here.
        sealed=cfg.sealed or root is None,
        ready_timeout=cfg.ready_timeout,
        json=json_output,
        json_errors=json_errors,
        lock_fd=lock_fd,
        started=started,
    )


def _bus_files(data_dir: Path, host: str, port: int) -> Path:
    """Check (or make) the bus's certificates and nats-server's configuration; its path."""
    files = ensure_bus(
        NetworkConfig(data_dir).bus_files.root,
        host=host,
        port=port,
        store_dir=data_dir / "nats",
        server_name=SERVER_NAME,
        # Sealed and restarted: no root key here, so nothing can be issued.
        can_issue=seal_root.current() is not None,
    )
    return files.config


def hand_over(plan: Plan) -> NoReturn:
    """Become the supervisor (`python -m lifeline.supervisor`): the keys, the bus PKI and the
    CLI's libraries loaded so far stay behind, and the process keeps its pid and its lock."""
    # A memfd, not a pipe (no size limit) nor a file (the environments never touch the disk).
    fd = os.memfd_create("lifeline-plan", 0)
    os.write(fd, plan.dumps().encode())
    os.lseek(fd, 0, os.SEEK_SET)
    if plan.lock_fd is not None:
        os.set_inheritable(plan.lock_fd, True)
    os.set_inheritable(fd, True)
    sys.stdout.flush()
    sys.stderr.flush()
    supervisor = [sys.executable, "-m", "lifeline.supervisor", "--plan-fd", str(fd)]
    os.execv(sys.executable, supervisor)  # noqa: S606 - this interpreter, a fixed argv


def check_bus(data_dir: Path, host: str, port: int) -> None:
    """Before nats-server starts again: the root key only in development mode (it is beside
    the data there; a sealed network's supervisor never holds it)."""
    seal = data_dir / sealfile.SEAL_FILE
    document = sealfile.load(seal)
    root = sealfile.read_dev_root(seal) if document is not None and document.dev else None
    with holding(root):
        _bus_files(data_dir, host, port)


if __name__ == "__main__":
    parser = argparse.ArgumentParser(prog="lifeline.launch")
    parser.add_argument("--check-bus", type=Path, required=True, metavar="DATA_DIR")
    parser.add_argument("host")
    parser.add_argument("port", type=int)
    args = parser.parse_args()
    try:
        check_bus(args.check_bus, args.host, args.port)
    except CliError as exc:
        # The reason alone: the supervisor quotes the last line ("nats-server could not start: …").
        print(exc, file=sys.stderr)
        sys.exit(int(exc.exit_code))
