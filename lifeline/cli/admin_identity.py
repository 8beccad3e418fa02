"""`lifeline admin identity ...`: sharing's PRF key versions and the canonicaliser bound to each."""

from __future__ import annotations

import argparse
from typing import Any

from lifeline.cli.base import Subparsers
from lifeline.client import as_profile_client, command, emit


def register(groups: Subparsers) -> None:
    """Add `admin identity rotate` and `admin identity retire`."""
    text = "manage the identity (PRF) key versions and the name rules bound to them"
    parser = groups.add_parser("identity", help=text, description=text[0].upper() + text[1:] + ".")
    actions = parser.add_subparsers(dest="action", required=True, metavar="ACTION")
    command(
        actions,
        "rotate",
        "a new current PRF key version, bound to sharing's canonicaliser (name rules) version",
        _rotate,
    )
    p = command(
        actions, "retire", "destroy an old PRF key version (refused for the current one)", _retire
    )
    p.add_argument("version", type=int, help="the old key version (rotate names it)")


def _call(args: argparse.Namespace, method: str, path: str) -> Any:
    return as_profile_client(args, lambda api: api.call(method, path), scopes=["admin"])


def _rotate(args: argparse.Namespace) -> int:
    data = _call(args, "POST", "/v1/admin/identity/prf/rotate")
    emit(
        args,
        data,
        lambda: (
            f"PRF key version {data['current_version']} is current, bound to canonicaliser "
            f"version {data['canonical_version']}.\n"
            "Clients of that version tokenise under it now (older ones are refused); lawyers "
            "re-derive their watchlists.\nRetire the old version once its reports have aged "
            f"out: `lifeline admin identity retire {data['previous_version']}`"
        ),
    )
    return 0


def _retire(args: argparse.Namespace) -> int:
    data = _call(args, "POST", f"/v1/admin/identity/prf/{args.version}/retire")
    emit(args, data, lambda: f"PRF key version {data['version']} retired (its seed is destroyed)")
    return 0
