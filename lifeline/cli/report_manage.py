"""`lifeline report show|erase`: read one report as the policy allows, or crypto-shred it."""

from __future__ import annotations

import argparse
from typing import Any

from lifeline.cli.admin_seize import pending_note
from lifeline.cli.base import Subparsers, confirm
from lifeline.cli.report_read import view_human
from lifeline.client import as_profile_client, command, emit


def register(group: Subparsers) -> None:
    """Add `show` and `erase` to the `report` command group."""
    p = command(
        group, "show", "show one report with the fields the policy lets you read "
        "(`report fetch` has it sealed to your key instead)", run_show,
    )  # fmt: skip
    p.add_argument("report_id")
    p = command(
        group, "erase", "erase one of your partner's reports: its data key is destroyed, so "
        "every copy becomes unreadable (asks first; --yes to skip)", run_erase,
    )  # fmt: skip
    p.add_argument("report_id")
    p.add_argument("--yes", action="store_true", help="do not ask (needed without a terminal)")


def run_show(args: argparse.Namespace) -> int:
    """Read through sharing's policy layer: withheld fields are listed, not shown."""
    data = as_profile_client(
        args, lambda api: api.call("GET", f"/v1/reports/{args.report_id}"), scopes=["reports:read"]
    )
    emit(args, data, lambda: view_human(data))
    return 0


def run_erase(args: argparse.Namespace) -> int:
    """Confirm, then erase (or file the erasure for a second operator's approval)."""
    if not args.yes:
        question = f"Erase report {args.report_id}? Every copy becomes unreadable; no undo."
        confirm(question, refused="not erased")
    data: dict[str, Any] = as_profile_client(
        args, lambda api: api.call("DELETE", f"/v1/reports/{args.report_id}")
    )
    if "approval" in data:
        emit(args, data, lambda: pending_note(data["approval"]))
    else:
        emit(args, data, lambda: f"erased {data['report_id']} at {data['erased_at']}")
    return 0
