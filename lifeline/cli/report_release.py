"""`lifeline report releases|release|refuse`: the submitter answers lawyers' release requests."""

from __future__ import annotations

import argparse
from typing import Any

from lifeline.cli.base import Subparsers
from lifeline.client import as_profile_client, command, emit, table
from lifeline.pages import every_item

COLUMNS = ["id", "report_id", "partner_id", "asked_by", "requested_at", "status", "fields"]


def register(group: Subparsers) -> None:
    """Add `releases`, `release` and `refuse` to the `report` command group."""
    p = command(
        group, "releases", "lawyers' requests to see alert details of your partner's reports",
        run_list,
    )  # fmt: skip
    p.add_argument("--status", choices=["pending", "released", "approved", "denied", "withdrawn"])
    p = command(
        group, "release", "release what a request asks for to that organisation's lawyers",
        run_release,
    )  # fmt: skip
    p.add_argument("request_id")
    p.add_argument(
        "--field",
        action="append",
        dest="fields",
        help="release only this field (repeat; default: every field asked for)",
    )
    p = command(group, "refuse", "refuse a release request (the lawyer is told)", run_refuse)
    p.add_argument("request_id")


def _call(args: argparse.Namespace, method: str, path: str, **kwargs: Any) -> Any:
    return as_profile_client(args, lambda api: api.call(method, path, **kwargs))


def run_list(args: argparse.Namespace) -> int:
    """List release requests, newest first."""
    params = {"status": args.status} if args.status else {}
    found = as_profile_client(
        args, lambda api: every_item(api, "/v1/release-requests", params, key="requests")
    )
    data = {"requests": found}
    rows = [r | {"fields": " ".join(r["fields"])} for r in found]
    emit(args, data, lambda: table(rows, COLUMNS) if rows else "no release requests")
    return 0


def run_release(args: argparse.Namespace) -> int:
    """Approve one request (all fields asked for, or those named)."""
    body = {"fields": args.fields} if args.fields else None
    data = _call(args, "POST", f"/v1/release-requests/{args.request_id}/approve", json=body)
    emit(args, data, lambda: f"released {', '.join(data['released'])} to {data['partner_id']}")
    return 0


def run_refuse(args: argparse.Namespace) -> int:
    """Refuse one request."""
    data = _call(args, "POST", f"/v1/release-requests/{args.request_id}/deny")
    emit(args, data, lambda: f"refused the request of {data['partner_id']}")
    return 0
