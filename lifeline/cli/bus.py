"""`lifeline bus rotate`: new bus credentials for one service, or a new CA for all of them."""

from __future__ import annotations

import argparse
from pathlib import Path

from lifeline.bus import rotate
from lifeline.cli.base import CliError, Subparsers
from lifeline.network import NetworkConfig


def register(sub: Subparsers) -> None:
    """Add the `bus` command group."""
    p = sub.add_parser("bus", help="the event bus's certificates (mutual TLS identities)")
    group = p.add_subparsers(dest="bus_command", required=True, metavar="SUBCOMMAND")
    r = group.add_parser(
        "rotate",
        help="retire bus credentials; `lifeline up` issues new ones at its next start",
        description=(
            "With --service, retire that service's key and certificate. Without, retire the "
            "CA and every certificate: a stolen one stops working once the network restarts. "
            "Run it while the network is stopped."
        ),
    )
    r.add_argument("--data-dir", type=Path, default=Path("data"), help="default: ./data")
    r.add_argument("--service", default=None, help="only this service (sharing, intake, alerts)")
    r.set_defaults(func=run_rotate)


def run_rotate(args: argparse.Namespace) -> int:
    """Delete the chosen credentials and say what happens next."""
    root = NetworkConfig(args.data_dir.resolve()).bus_files.root
    if not root.is_dir():
        raise CliError(f"no bus under {args.data_dir} (start the network once first)")
    try:
        retired = rotate(root, args.service)
    except ValueError as exc:
        raise CliError(str(exc)) from None
    print(f"retired: {', '.join(retired)}; `lifeline up` issues new ones when it next starts")
    return 0
