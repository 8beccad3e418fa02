"""`lifeline alerts rota`: your organisation's duty rota, who is on duty, and its calendar."""

from __future__ import annotations

import argparse
import json
from pathlib import Path
from typing import Any

from lifeline.cli.alerts_contacts import CONTACT_COLUMNS
from lifeline.cli.base import CliError, Subparsers
from lifeline.cli.lawyer import call, lawyer_api, leaf, preload_key
from lifeline.cli.profile import load_profile, profile_path
from lifeline.client import api_error, emit, run, table

ROTA = "/v1/organisation/rota"


def register(actions: Subparsers) -> None:
    """Add `lifeline alerts rota show|set|delete|on-duty|ics`."""
    rota = actions.add_parser("rota", help="your organisation's duty rota and who is on duty")
    r_actions = rota.add_subparsers(dest="rota_action", required=True, metavar="ACTION")
    leaf(r_actions, "show", "show the rota: members, hand-over, overrides", _show)
    put = leaf(
        r_actions,
        "set",
        "replace the rota from a JSON file (a partner administrator; see docs/alerts.md)",
        _set,
    )
    put.add_argument("file", type=Path, help="the rota as the API takes it (JSON)")
    leaf(
        r_actions,
        "delete",
        "drop the rota: the static duty contacts are paged again (a partner administrator)",
        _delete,
    )
    on = leaf(r_actions, "on-duty", "who a duty escalation step pages now (or at --at)", _on_duty)
    on.add_argument("--at", help="an ISO 8601 instant with offset, e.g. 2026-12-07T09:00+01:00")
    ics = leaf(r_actions, "ics", "the rota's shifts as an iCalendar file (names only)", _ics)
    ics.add_argument("--weeks", type=int, default=8, help="how far ahead (default 8, at most 52)")
    ics.add_argument("--output", "-o", type=Path, help="write to this file (default: stdout)")


def _show(args: argparse.Namespace) -> int:
    # A lawyer's profile or the partner administrator's: whatever scope the client holds.
    data = call(args, [], "GET", ROTA)
    emit(args, data, lambda: _human(data))
    return 0


def _set(args: argparse.Namespace) -> int:
    try:
        body = json.loads(args.file.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise CliError(f"cannot read the rota from {args.file}: {exc}") from None
    data = call(args, ["escalation:manage"], "PUT", ROTA, json=body)
    emit(args, data, lambda: _human(data))
    return 0


def _delete(args: argparse.Namespace) -> int:
    preload_key(args)

    async def go() -> None:
        async with lawyer_api(args, ["escalation:manage"]) as (api, _):
            response = await api.http.request("DELETE", api.base_url + ROTA)
            if not response.is_success:
                raise api_error(response)

    run(go(), load_profile(profile_path(args)).sharing_url)
    emit(args, {"deleted": True}, lambda: "Rota deleted: the static duty contacts are paged.")
    return 0


def _on_duty(args: argparse.Namespace) -> int:
    params = {"at": args.at} if args.at else {}
    data = call(args, [], "GET", f"{ROTA}/on-duty", params=params)
    emit(args, data, lambda: _on_duty_human(data))
    return 0


def _ics(args: argparse.Namespace) -> int:
    preload_key(args)

    async def go() -> str:
        async with lawyer_api(args, []) as (api, _):
            response = await api.http.request(
                "GET", api.base_url + ROTA + ".ics", params={"weeks": args.weeks}
            )
            if not response.is_success:
                raise api_error(response)
            return response.text

    text = run(go(), load_profile(profile_path(args)).sharing_url)
    if args.output:
        args.output.write_text(text, encoding="utf-8")
    else:
        print(text, end="")
    return 0


def _human(d: dict[str, Any]) -> str:
    lines = [
        f"Organisation {d['org_id']}: hand-over {d['handover_weekday']} {d['handover_time']} "
        f"({d['time_zone']}), member 1 from the first hand-over on or after {d['starts_on']}"
    ]
    for m in d["members"]:
        lines.append(f"\nMember {m['index'] + 1}: {m['name'] or '(no name)'}")
        lines.append(table(m["contacts"], CONTACT_COLUMNS))
    for o in d["overrides"]:
        lines.append(
            f"\nOverride: member {o['member'] + 1} from {o['starts_at']} to {o['ends_at']}"
        )
    for contact_id, secret in d.get("new_secrets", {}).items():
        lines.append(
            f"\nWebhook secret for {contact_id} (shown once: verify signatures with it)\n  {secret}"
        )
    return "\n".join(lines)


def _on_duty_human(d: dict[str, Any]) -> str:
    if d["member"] is None:
        head = f"At {d['at']}: no rota, the static duty contacts are paged"
    else:
        who = d["name"] or f"member {d['member'] + 1}"
        head = f"At {d['at']}: {who} is on duty" + (" (covering)" if d["covering"] else "")
        head += f" until {d['until']}"
        if d["source"] != "rota":
            head += "; none of their contacts works, so the static duty contacts are paged"
    return head + "\n" + table(d["contacts"], CONTACT_COLUMNS)
