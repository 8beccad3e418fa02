"""`lifeline bus rotate`: new bus credentials for one service, or a new CA for all of them;
`lifeline bus deploy-bundle`: the bus's CA, certificates and configurations for production."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

from libs.common.bus import ROLES
from lifeline.bus import rotate
from lifeline.bus_deploy import NODES, BundleError, cluster_nodes, write_bundle
from lifeline.cli.base import CliError, Subparsers
from lifeline.client import emit
from lifeline.environment import NetworkConfig


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
    r.add_argument("--json", action="store_true", help="print JSON")
    r.set_defaults(func=run_rotate)
    d = group.add_parser(
        "deploy-bundle",
        help="make or refresh the production bus: CA, node, route and service certificates",
        description=(
            "Write, for deploy/compose.yaml and deploy/k8s, one nats-server configuration and "
            "certificate per node, the cluster's route certificate and each service's "
            "certificate, signed by the CA in --ca-dir (made there if missing: keep that "
            "directory offline). Run again to refresh: current certificates are kept unless "
            "--renew names them."
        ),
    )
    d.add_argument("--out", type=Path, default=Path("deploy/bus"), help="default: deploy/bus")
    d.add_argument("--ca-dir", type=Path, required=True, help="the CA (offline; not in --out)")
    d.add_argument("--nodes", type=int, default=3, help="NATS nodes (3, 5 or 7; default 3)")
    d.add_argument(
        "--namespace", default="lifeline", help="Kubernetes namespace (default lifeline)"
    )
    d.add_argument("--host", action="append", default=[], help="another name every node answers to")
    d.add_argument(
        "--renew",
        action="append",
        default=[],
        choices=[*ROLES, NODES],
        help="issue this service's (or the nodes') certificate anew: rotation",
    )
    d.add_argument(
        "--new-ca",
        action="store_true",
        help="replace the bundle's CA with the one in --ca-dir (made if missing): all anew",
    )
    d.add_argument("--json", action="store_true", help="print JSON")
    d.set_defaults(func=run_deploy_bundle)


def run_rotate(args: argparse.Namespace) -> int:
    """Delete the chosen credentials and say what happens next."""
    root = NetworkConfig(args.data_dir.resolve()).bus_files.root
    if not root.is_dir():
        raise CliError(f"no bus under {args.data_dir} (start the network once first)")
    try:
        retired = rotate(root, args.service)
    except ValueError as exc:
        raise CliError(str(exc)) from None
    emit(
        args,
        {"retired": retired},
        lambda: f"retired: {', '.join(retired)}; `lifeline up` issues new ones when it next starts",
    )
    return 0


def run_deploy_bundle(args: argparse.Namespace) -> int:
    """Write the bundle and say where the CA key is and what to do with it."""
    try:
        nodes = cluster_nodes(args.nodes, args.namespace, args.host)
        files = write_bundle(args.out, args.ca_dir, nodes, renew=args.renew, new_ca=args.new_ca)
    except BundleError as exc:
        raise CliError(str(exc)) from None
    data = {
        "bundle": str(files.root),
        "nodes": [n.name for n in nodes],
        "roles": list(ROLES),
        "renewed": args.renew,
        "ca_key": str(args.ca_dir.resolve() / "ca-key.pem"),
    }
    emit(args, data, lambda: _bundle_human(data))
    return 0


def _bundle_human(data: dict[str, Any]) -> str:
    lines = [f"bus bundle in {data['bundle']}: {', '.join(data['nodes'] + data['roles'])}"]
    if data["renewed"]:
        lines.append(
            f"issued anew: {', '.join(data['renewed'])}; restart what uses them (deploy/README.md)"
        )
    lines.append(f"the CA key is {data['ca_key']}: keep it offline")
    return "\n".join(lines)
