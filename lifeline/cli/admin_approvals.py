"""`lifeline admin approvals list|show|approve|deny`: the second operator's side of approval."""

from __future__ import annotations

import argparse
import json
from typing import Any

from lifeline.cli.base import Subparsers
from lifeline.client import as_profile_client, command, emit, table
from lifeline.pages import every_item

APPROVAL_COLUMNS = ["id", "status", "action", "target", "requested_by", "expires_at"]
STATUSES = ["pending", "running", "done", "failed", "denied", "expired", "cancelled"]


def register(groups: Subparsers) -> None:
    """Add `admin approvals ...` to the `admin` command."""
    parser = groups.add_parser(
        "approvals",
        help="decide actions waiting for a second operator",
        description="Actions waiting for a second operator, and their decisions.",
    )
    actions = parser.add_subparsers(dest="action", required=True, metavar="ACTION")
    p = command(actions, "list", "list approvals, newest first", _list)
    p.add_argument("--status", choices=STATUSES, help="only these (e.g. pending)")
    for name, text, how in (
        ("show", "show one approval and its exact request", None),
        ("approve", "approve (not your own request): the action runs now, once", "approve"),
        ("deny", "deny (not your own request): the action never runs", "deny"),
    ):
        p = command(actions, name, text, lambda args, how=how: _decide(args, how))
        p.add_argument("approval_id")


def _call(args: argparse.Namespace, method: str, path: str, **kwargs: Any) -> Any:
    return as_profile_client(args, lambda api: api.call(method, path, **kwargs), scopes=["admin"])


def _list(args: argparse.Namespace) -> int:
    params = {"status": args.status} if args.status else {}
    data = as_profile_client(
        args, lambda api: every_item(api, "/v1/admin/approvals", params), scopes=["admin"]
    )
    emit(args, data, lambda: table(data, APPROVAL_COLUMNS))
    return 0


def _decide(args: argparse.Namespace, how: str | None) -> int:
    path = f"/v1/admin/approvals/{args.approval_id}"
    data = _call(args, "POST", f"{path}/{how}") if how else _call(args, "GET", path)
    emit(args, data, lambda: _detail(data))
    return 0


def _detail(data: dict[str, Any]) -> str:
    request = json.dumps(data["request"], indent=2, sort_keys=True)
    lines = [table([data], APPROVAL_COLUMNS), "", f"request:\n{request}"]
    if data.get("outcome") is not None:
        lines.append(f"outcome:\n{json.dumps(data['outcome'], indent=2, sort_keys=True)}")
    return "\n".join(lines)
