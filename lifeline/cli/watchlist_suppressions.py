"""`lifeline watchlist suppressions|lift`: an entry's "not my client" suppressions."""

from __future__ import annotations

import argparse
from typing import Any

from lifeline.cli.base import CliError, Subparsers
from lifeline.cli.exits import Exit
from lifeline.cli.lawyer import all_entries, call, lawyer_api, leaf
from lifeline.cli.profile import load_profile, profile_path
from lifeline.client import api_error, emit, run, table

COLUMNS = ["id", "alert_id", "created_at", "suppressed", "last_suppressed_at"]


def register(actions: Subparsers) -> None:
    """Add `lifeline watchlist suppressions ENTRY` and `lifeline watchlist lift ENTRY ID`."""
    ls = leaf(
        actions,
        "suppressions",
        "show an entry's 'not my client' suppressions (and the reports each kept back)",
        _list,
    )
    ls.add_argument("entry", help="the entry's id or label")
    lift = leaf(
        actions, "lift", "lift a suppression: that person's reports alert the entry again", _lift
    )
    lift.add_argument("entry", help="the entry's id or label")
    lift.add_argument("suppression_id")


def _entry(args: argparse.Namespace) -> dict[str, Any]:
    found = [e for e in all_entries(args) if args.entry in (e["id"], e["label"])]
    if not found:
        raise CliError(
            f"no entry with id or label {args.entry!r}", Exit.NOT_FOUND, code="not_found"
        )
    return dict(found[0])


def _list(args: argparse.Namespace) -> int:
    entry = _entry(args)
    data = call(args, ["watchlist:manage"], "GET", f"/v1/watchlist/entries/{entry['id']}")
    held = data["suppressions"] or []
    emit(args, held, lambda: table(held, COLUMNS) if held else "no suppressions")
    return 0


def _lift(args: argparse.Namespace) -> int:
    entry = _entry(args)
    path = f"/v1/watchlist/entries/{entry['id']}/suppressions/{args.suppression_id}"

    async def go() -> None:
        async with lawyer_api(args, ["watchlist:manage"]) as (api, _):
            resp = await api.http.delete(f"{api.base_url}{path}")
            if resp.status_code != 204:
                raise api_error(resp)

    run(go(), load_profile(profile_path(args)).sharing_url)
    emit(args, {"lifted": args.suppression_id}, lambda: f"lifted: {args.suppression_id}")
    return 0
