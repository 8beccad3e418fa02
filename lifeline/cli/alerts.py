"""`lifeline alerts`: list, show, acknowledge and resolve alerts; contacts and escalation are in
`alerts_contacts`."""

from __future__ import annotations

import argparse
from typing import Any

from lifeline.cli import alerts_contacts, alerts_rota
from lifeline.cli.base import Subparsers
from lifeline.cli.lawyer import call, lawyer_walk, leaf
from lifeline.client import emit, table
from lifeline.pages import add_paging_options, note_more
from services.alerts.alerts.domain import OUTCOMES

ALERT_COLUMNS = [
    "id",
    "status",
    "priority",
    "label",
    "incident_type",
    "legal_basis",
    "country",
    "created_at",
]
STATUSES = ["open", "acknowledged", "resolved", "withdrawn"]


def register(sub: Subparsers) -> None:
    """Add `lifeline alerts list|show|ack|resolve|contacts|escalation|rota`."""
    p = sub.add_parser(
        "alerts", help="your alerts (list, show, ack, resolve) and how you are reached"
    )
    actions = p.add_subparsers(dest="action", required=True, metavar="ACTION")
    ls = leaf(actions, "list", "list your alerts, newest first", _list)
    ls.add_argument("--status", choices=STATUSES, help="only these")
    add_paging_options(ls, 50)
    show = leaf(actions, "show", "one alert with every delivery attempt", _show)
    show.add_argument("alert_id")
    ack = leaf(actions, "ack", "acknowledge an alert: escalation stops, the others are told", _ack)
    ack.add_argument("alert_id")
    res = leaf(
        actions,
        "resolve",
        "say what became of the case (acknowledges the alert if still open; again corrects it)",
        _resolve,
    )
    res.add_argument("alert_id")
    res.add_argument("--outcome", required=True, choices=OUTCOMES, help="what became of the case")
    res.add_argument("--note", help="a note (up to 2000 characters; stored encrypted)")
    fb = leaf(
        actions,
        "feedback",
        "what became of your organisation's alerts: outcomes, the 'not my client' share",
        _feedback,
    )
    fb.add_argument("--since", help="only alerts resolved since (ISO 8601 instant with offset)")
    alerts_contacts.register(actions)
    alerts_rota.register(actions)


def _list(args: argparse.Namespace) -> int:
    params = {"limit": args.limit, "status": args.status, "cursor": args.cursor}
    rows, more = lawyer_walk(args, ["alerts:read"], "/v1/alerts", params, "alerts")
    emit(args, rows, lambda: table(rows, ALERT_COLUMNS))
    note_more(more)
    return 0


def _show(args: argparse.Namespace) -> int:
    data = call(args, ["alerts:read"], "GET", f"/v1/alerts/{args.alert_id}")
    emit(args, data, lambda: _alert_human(data))
    return 0


def _shown(value: Any) -> str:
    """A detail as the alert shows it: null is one the partner's policy withholds."""
    return "withheld" if value is None else str(value)


def _alert_human(a: dict[str, Any]) -> str:
    lines = [
        f"Alert {a['id']}  [{a['status']}, priority {a['priority']}]",
        f"  entry      {a['label']}",
        f"  match      {a['match']['strength']}: {a['match']['reason']}",
        f"  incident   {_shown(a['incident_type'])} ({_shown(a['legal_basis'])})",
        f"  where      {_shown(a['country'])}, {_shown(a['facility_kind'])}",
        f"  occurred   {_shown(a['occurred_at'])}  (reports: {a['report_count']})",
    ]
    if a.get("report_url"):
        lines.append(f"  report     {a['report_url']}")
    if a.get("restricted"):
        # docs/alerts.md §3a: the partner's policy hides details until it releases them.
        lines.append(
            f"  withheld   a partner holds a report about your client; release: {a.get('release')}"
        )
    if a.get("acknowledged"):
        ack = a["acknowledged"]
        lines.append(f"  acked      by {ack['by']} at {ack['at']} via {ack['via']}")
    if a.get("resolution"):
        res = a["resolution"]
        lines.append(f"  resolved   {res['outcome']} by {res['by']} at {res['at']}")
        if res.get("note"):
            lines += [f"  note       {line}" for line in res["note"].splitlines()]
    # Follow-ups of the report: what the partner said became of the case since.
    for u in a.get("updates", []):
        reopened = ", re-opened the alert" if u["reopened"] else ""
        lines.append(
            f"  update     {u['status'] or 'status not disclosed'} at {u['at']}"
            f" (report {u['report_id']}{reopened})"
        )
    for d in a.get("deliveries", []):
        tries = ", ".join(
            f"{t['outcome']}{'/' + str(t['http_status']) if t['http_status'] else ''}"
            for t in d["attempts"]
        )
        lines.append(
            f"  {d['kind']:<11}{d['channel']:<8} step {d['step']}: {d['status']}"
            f" ({tries or 'no attempt yet'})"
        )
    return "\n".join(lines)


def _ack(args: argparse.Namespace) -> int:
    data = call(args, ["alerts:ack"], "POST", f"/v1/alerts/{args.alert_id}/ack")
    ack = data["alert"]["acknowledged"] or {}
    text = (
        f"already acknowledged by {ack.get('by')} at {ack.get('at')}"
        if data["already"]
        else f"acknowledged {data['alert']['id']}: escalation stopped, the others are told"
    )
    emit(args, data, lambda: text)
    return 0


def _resolve(args: argparse.Namespace) -> int:
    body = {"outcome": args.outcome, "note": args.note}
    data = call(args, ["alerts:ack"], "POST", f"/v1/alerts/{args.alert_id}/resolve", json=body)
    emit(args, data, lambda: _alert_human(data))
    return 0


def _feedback(args: argparse.Namespace) -> int:
    # A lawyer's profile or the partner administrator's: whatever scope the client holds.
    params = {"since": args.since} if args.since else {}
    data = call(args, [], "GET", "/v1/organisation/feedback", params=params)
    emit(args, data, lambda: _feedback_human(data))
    return 0


def _share(value: float | None) -> str:
    return "-" if value is None else f"{value:.0%}"


def _feedback_human(f: dict[str, Any]) -> str:
    since = f" since {f['since']}" if f.get("since") else ""
    lines = [
        f"Resolved alerts{since}: {f['resolved']}, not my client {_share(f['not_my_client_share'])}"
    ]
    for strength, fig in f["by_strength"].items():
        lines.append(
            f"  {strength:<9} {fig['resolved']:>5} resolved,"
            f" not my client {_share(fig['not_my_client_share'])}"
        )
    lines += [f"  {outcome:<25} {n:>5}" for outcome, n in f["by_outcome"].items() if n]
    lines.append(f"  reports kept back by 'not my client': {f['suppressed_matches']}")
    return "\n".join(lines)
