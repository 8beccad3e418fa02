"""`lifeline up`: start the whole network on this machine with embedded defaults."""

from __future__ import annotations

import argparse
import asyncio
import json
import shutil
import signal
import sys
import time
from pathlib import Path

from lifeline.cli.base import CliError, Subparsers
from lifeline.cli.seal import add_kms_arguments, kms_options
from lifeline.environment import METRICS_PORTS, NetworkConfig
from lifeline.network import PARTS, Network
from lifeline.supervisor import supervise


def register(sub: Subparsers) -> None:
    """Add the `up` command."""
    p = sub.add_parser(
        "up",
        help="start nats-server, sharing, intake and alerts on this machine",
        description="Start the whole network with embedded defaults (SQLite, local nats-server).",
    )
    p.add_argument(
        "--data-dir",
        type=Path,
        default=Path("data"),
        help="where databases, keys and the NATS store live (default: ./data)",
    )
    p.add_argument(
        "--host", default="127.0.0.1", help="address every part listens on (default: 127.0.0.1)"
    )
    p.add_argument("--nats-port", type=int, default=4322, help="nats-server port (default: 4322)")
    p.add_argument("--intake-port", type=int, default=8101, help="intake port (default: 8101)")
    p.add_argument("--sharing-port", type=int, default=8102, help="sharing port (default: 8102)")
    p.add_argument("--alerts-port", type=int, default=8103, help="alerts port (default: 8103)")
    p.add_argument(
        "--console-port", type=int, default=8100, help="web console port (default: 8100)"
    )
    p.add_argument(
        "--metrics-host",
        default="127.0.0.1",
        help="address of every part's /metrics listener (default: 127.0.0.1)",
    )
    for name, port in METRICS_PORTS.items():
        p.add_argument(
            f"--{name}-metrics-port",
            type=int,
            default=port,
            help=f"{name}'s /metrics port (default: {port})",
        )
    p.add_argument("--json-logs", action="store_true", help="services log JSON lines")
    p.add_argument("--json", action="store_true", help="announce readiness as one JSON line")
    p.add_argument("--log-level", default="INFO", choices=["DEBUG", "INFO", "WARNING", "ERROR"])
    p.add_argument(
        "--ready-timeout", type=float, default=30.0, help="seconds to wait for readiness"
    )
    p.add_argument(
        "--sealed",
        action="store_true",
        help="keep the root key off the disk: the services wait for `lifeline unseal` "
        "(first start: asks for a passphrase and prints the trustees' shares once)",
    )
    p.add_argument("--shares", type=int, default=5, help="trustee shares to make (default: 5)")
    p.add_argument("--threshold", type=int, default=3, help="shares needed to unseal (default: 3)")
    add_kms_arguments(p)
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    """Start everything, print where it listens, and supervise until Ctrl-C or SIGTERM."""
    config = NetworkConfig(
        data_dir=args.data_dir.resolve(),
        host=args.host,
        nats_port=args.nats_port,
        ports={
            "console": args.console_port,
            "intake": args.intake_port,
            "sharing": args.sharing_port,
            "alerts": args.alerts_port,
        },
        metrics_host=args.metrics_host,
        metrics_ports={name: getattr(args, f"{name}_metrics_port") for name in PARTS},
        json_logs=args.json_logs,
        log_level=args.log_level,
        ready_timeout=args.ready_timeout,
        sealed=args.sealed,
        share_threshold=args.threshold,
        share_count=args.shares,
        kms=kms_options(args),
    )
    return asyncio.run(
        _supervise(config, json_summary=args.json_logs or getattr(args, "json", False))
    )


async def _supervise(config: NetworkConfig, *, json_summary: bool) -> int:
    network = Network(config)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    started = time.monotonic()
    try:
        await network.start()
    except CliError:
        await network.stop(grace=3.0)
        raise
    except asyncio.CancelledError:
        await network.stop(grace=3.0)
        return 130
    _announce(config, time.monotonic() - started, json_summary, sealed=network.dev_root is None)
    stopped = await supervise(network, stop)
    await network.stop()
    if not stopped:
        print("lifeline: error: nats-server keeps stopping; network shut down", file=sys.stderr)
        return 1
    print("lifeline: stopped", file=sys.stderr)
    return 0


def cli_hint() -> list[str]:
    """How to run `lifeline` from another shell, unless it is on the PATH already."""
    here = Path(sys.executable).parent  # the venv's bin/, where `lifeline` is installed
    found = shutil.which("lifeline")
    if not (here / "lifeline").exists() or (found and Path(found).parent == here):
        return []
    return [
        "Run `lifeline` from another shell: `make shell`, or",
        f'  export PATH="{here}:$PATH"',
    ]


def _announce(config: NetworkConfig, seconds: float, as_json: bool, *, sealed: bool) -> None:
    urls = {name: config.url(name) for name in PARTS} | {"nats": config.nats_url}
    metrics = {name: config.metrics_url(name) for name in PARTS}
    if as_json:
        print(
            json.dumps(
                {
                    "event": "ready",
                    "seconds": round(seconds, 2),
                    "urls": urls,
                    "metrics": metrics,
                    "data_dir": str(config.data_dir),
                    "sealed": sealed,
                }
            ),
            flush=True,
        )
        return
    lines = [f"Lifeline is up in {seconds:.1f} s (data: {config.data_dir})"]
    lines += [f"  {name:<8} {url}" for name, url in urls.items()]
    lines.append("Metrics (Prometheus, this machine only):")
    lines += [f"  {name:<8} {url}" for name, url in metrics.items()]
    if sealed:
        lines.append(f"Sealed: unseal with `lifeline unseal --data-dir {config.data_dir}`.")
    lines += cli_hint()
    lines.append("Press Ctrl-C to stop.")
    print("\n".join(lines), flush=True)
