"""`lifeline report releases|release|refuse`: the submitter answers lawyers' release requests."""

from __future__ import annotations

import argparse
from typing import Any

from lifeline.cli.base import Subparsers
from lifeline.cli.report_read import _client, _common, _ok
from lifeline.client import emit, run, signed_in, table

COLUMNS = ["id", "report_id", "partner_id", "asked_by", "requested_at", "status", "fields"]


def register(group: Subparsers) -> None:
    """Add `releases`, `release` and `refuse` to the `report` command group."""
    p = group.add_parser(
        "releases",
        help="lawyers' requests to see alert details of your partner's reports",
        description="Who asked (organisation and lawyer), when, for which fields; the decision.",
    )
    p.add_argument("--status", choices=["pending", "released", "approved", "denied"])
    _common(p, run_list)
    p = group.add_parser(
        "release",
        help="release what a request asks for to that organisation's lawyers (audited)",
        description="Approve a release request: a per-report grant to the organisation's lawyers.",
    )
    p.add_argument("request_id")
    p.add_argument(
        "--field",
        action="append",
        dest="fields",
        help="release only this field (repeat; default: every field asked for)",
    )
    _common(p, run_release)
    p = group.add_parser("refuse", help="refuse a release request (audited; the lawyer is told)")
    p.add_argument("request_id")
    _common(p, run_refuse)


def _call(args: argparse.Namespace, method: str, path: str, **kwargs: Any) -> Any:
    sharing, client_id, key = _client(args)

    async def call() -> Any:
        async with signed_in(sharing, client_id, key) as (http, _):
            return await _ok(http.request(method, f"{sharing}{path}", **kwargs))

    return run(call(), sharing)


def _rows(requests: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [r | {"fields": " ".join(r["fields"])} for r in requests]


def run_list(args: argparse.Namespace) -> int:
    """List release requests, newest first."""
    params = {"status": args.status} if args.status else {}
    data = _call(args, "GET", "/v1/release-requests", params=params)
    rows = _rows(data["requests"])
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
