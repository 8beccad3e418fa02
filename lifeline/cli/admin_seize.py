"""`lifeline admin seize` and `lifeline admin seizures list|show|lift`: seizure response."""

from __future__ import annotations

import argparse
from typing import Any

from lifeline.cli.base import Subparsers, confirm
from lifeline.client import as_profile_client, command, emit, table
from lifeline.pages import every_item

SEIZURE_COLUMNS = ["id", "status", "target_kind", "target_id", "created_at", "lifted_at"]
COUNT_NAMES = ["clients", "client_keys", "delivery_keys", "report_grants", "approvals"]


def register(groups: Subparsers) -> None:
    """Add `admin seize` and `admin seizures ...` to the `admin` command."""
    p = command(groups, "seize", "seize a client or a partner: revoke everything it holds", _seize)
    target = p.add_mutually_exclusive_group(required=True)
    target.add_argument(
        "--client", metavar="ID", help="one client (its keys, tokens, delivery keys)"
    )
    target.add_argument("--partner", metavar="ID", help="a partner with every client it has")
    p.add_argument("--reason", required=True, help="why (kept with the seizure, never logged)")
    p.add_argument("--yes", action="store_true", help="do not ask for confirmation")
    parser = groups.add_parser(
        "seizures", help="list, show and lift seizures", description="Seizures and their lifting."
    )
    actions = parser.add_subparsers(dest="action", required=True, metavar="ACTION")
    p = command(actions, "list", "list seizures, newest first", _list)
    p.add_argument("--status", choices=["active", "lifted"], help="only these")
    command(actions, "show", "show one seizure and what it took", _show).add_argument("seizure_id")
    p = command(actions, "lift", "lift a seizure (a second operator approves)", _lift)
    p.add_argument("seizure_id")


def _call(args: argparse.Namespace, method: str, path: str, **kwargs: Any) -> Any:
    return as_profile_client(args, lambda api: api.call(method, path, **kwargs), scopes=["admin"])


def _confirm(what: str) -> None:
    question = (
        f"Seize {what}? Every key, token and delivery key it holds is revoked at once;\n"
        "lifting the seizure later restores no key (new keys must be enrolled)."
    )
    confirm(question, word="seize", refused="not seized")


def _seize(args: argparse.Namespace) -> int:
    what = f"client {args.client}" if args.client else f"partner {args.partner} (every client)"
    if not args.yes:
        _confirm(what)
    body = {"reason": args.reason}
    body |= {"client_id": args.client} if args.client else {"partner_id": args.partner}
    data = _call(args, "POST", "/v1/admin/seizures", json=body)
    emit(args, data, lambda: _detail(data))
    return 0


def _list(args: argparse.Namespace) -> int:
    params = {"status": args.status} if args.status else {}
    data = as_profile_client(
        args, lambda api: every_item(api, "/v1/admin/seizures", params), scopes=["admin"]
    )
    emit(args, data, lambda: table(data, SEIZURE_COLUMNS))
    return 0


def _show(args: argparse.Namespace) -> int:
    data = _call(args, "GET", f"/v1/admin/seizures/{args.seizure_id}")
    emit(args, data, lambda: _detail(data))
    return 0


def _lift(args: argparse.Namespace) -> int:
    data = _call(args, "POST", f"/v1/admin/seizures/{args.seizure_id}/lift")
    if "approval" in data:
        emit(args, data, lambda: pending_note(data["approval"]))
    else:
        emit(args, data, lambda: _detail(data) + "\nRevoked keys stay revoked: enrol new ones.")
    return 0


def _detail(data: dict[str, Any]) -> str:
    counts = data["counts"]
    lines = [table([data], SEIZURE_COLUMNS), "", f"reason: {data['reason']}"]
    lines += [f"{name.replace('_', ' ')}: {counts.get(name, 0)}" for name in COUNT_NAMES]
    return "\n".join(lines)


def pending_note(approval: dict[str, Any]) -> str:
    """What to tell the requester when an action waits for a second operator."""
    return (
        f"waiting for approval {approval['id']} ({approval['action']}), until "
        f"{approval['expires_at']}:\n  another operator runs `lifeline admin approvals approve "
        f"{approval['id']}`"
    )
