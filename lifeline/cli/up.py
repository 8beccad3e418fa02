"""`lifeline up`: start the whole network on this machine with embedded defaults."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import NoReturn

from lifeline.cli.base import Subparsers
from lifeline.cli.seal import add_kms_arguments, kms_options
from lifeline.environment import METRICS_PORTS, NetworkConfig
from lifeline.launch import hand_over, prepare
from lifeline.network import PARTS


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


def run(args: argparse.Namespace) -> NoReturn:
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
    # Prepared here, supervised by what this process becomes: `hand_over` does not return.
    as_json = getattr(args, "json", False)
    hand_over(prepare(config, json_output=args.json_logs or as_json, json_errors=as_json))
