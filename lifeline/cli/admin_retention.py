"""`lifeline admin retention show`, `admin partner show` (with its retention) and
`admin partner set-retention`."""

from __future__ import annotations

import argparse
from collections.abc import Mapping
from typing import Any

from libs.common.reports.vocabulary import Tlp
from lifeline.cli import lawyer
from lifeline.cli.admin_seize import pending_note
from lifeline.cli.base import CliError, Subparsers
from lifeline.cli.profile import load_profile, profile_path
from lifeline.client import as_profile_client, command, emit, table

PARTNER_COLUMNS = ["id", "status", "name", "created_at"]


def register(groups: Subparsers, actions: Mapping[str, Subparsers]) -> None:
    """Add `admin retention show` and the partner group's `show` and `set-retention`."""
    group = groups.add_parser("retention", help="how long the network keeps what it holds")
    sub = group.add_subparsers(dest="action", required=True, metavar="ACTION")
    command(sub, "show", "show the network's retention periods and the last sweeps", _network)
    p = command(actions["partner"], "show", "show one partner and its report retention", _show)
    p.add_argument("partner_id")
    p = command(
        actions["partner"],
        "set-retention",
        "set how long a partner's reports are kept (the sweep erases older ones)",
        _set,
    )
    p.add_argument("partner_id")
    days = p.add_mutually_exclusive_group(required=True)
    days.add_argument("--days", type=int, help="days for every TLP the partner's --tlp omits")
    days.add_argument(
        "--network-default",
        action="store_true",
        help="no own general period: the network's applies to TLPs --tlp omits",
    )
    p.add_argument(
        "--tlp",
        action="append",
        default=[],
        metavar="TLP=DAYS",
        help="a period for one TLP, e.g. RED=30 (repeat for several)",
    )


def _call(args: argparse.Namespace, method: str, path: str, **kwargs: Any) -> Any:
    return as_profile_client(args, lambda api: api.call(method, path, **kwargs))


def _days(value: int | None) -> str:
    return "kept" if value is None else f"{value} d"


def _periods(effective: Mapping[str, int | None]) -> str:
    return ", ".join(f"{tlp} {_days(days)}" for tlp, days in effective.items())


def _show(args: argparse.Namespace) -> int:
    partner = _call(args, "GET", f"/v1/admin/partners/{args.partner_id}")
    retention = _call(args, "GET", f"/v1/admin/partners/{args.partner_id}/retention")
    data = {**partner, "retention": retention}
    emit(
        args,
        data,
        lambda: (
            table([partner], PARTNER_COLUMNS) + f"\nretention: {_periods(retention['effective'])}"
        ),
    )
    return 0


def _tlp_days(pairs: list[str]) -> dict[str, int]:
    out = {}
    for pair in pairs:
        tlp, sep, days = pair.partition("=")
        if not sep or tlp.upper() not in {t.value for t in Tlp} or not days.isdigit():
            raise CliError(f"--tlp {pair!r}: expected TLP=DAYS, e.g. RED=30")
        out[tlp.upper()] = int(days)
    return out


def _set(args: argparse.Namespace) -> int:
    body = {"days": None if args.network_default else args.days, "tlp": _tlp_days(args.tlp)}
    data = _call(args, "PUT", f"/v1/admin/partners/{args.partner_id}/retention", json=body)
    if "approval" in data:
        emit(args, data, lambda: pending_note(data["approval"]))
        return 0
    emit(args, data, lambda: f"{data['partner_id']}: {_periods(data['effective'])}")
    return 0


def _network(args: argparse.Namespace) -> int:
    data = {"sharing": _call(args, "GET", "/v1/admin/retention")}
    if load_profile(profile_path(args)).alerts_url:
        data["alerts"] = lawyer.call(args, ["admin"], "GET", "/v1/admin/retention")
    emit(args, data, lambda: _network_text(data))
    return 0


def _network_text(data: Mapping[str, Any]) -> str:
    sharing = data["sharing"]
    reports = sharing["reports"]
    lines = [
        f"reports: {_days(reports['days'])} by default"
        + "".join(f", {tlp} {days} d" for tlp, days in reports["tlp"].items())
        + " (a partner's own periods come first: `admin partner show ID`)",
        f"read log: {_days(sharing['read_log_days'])}",
    ]
    alerts = data.get("alerts")
    if alerts is not None:
        lines.append(
            f"closed alerts: {_days(alerts['alert_days'])}; delivery attempts: "
            f"{_days(alerts['attempt_days'])}; contact warnings: {_days(alerts['warning_days'])}"
        )
    runs = [
        {"sweep": name, **run, "last_counts": _counts(run["last_counts"])}
        for part in (sharing, alerts or {})
        for name, run in part.get("sweeps", {}).items()
    ]
    lines.append(table(runs, ["sweep", "last_run_at", "last_pruned_at", "last_counts"]))
    return "\n".join(lines)


def _counts(counts: Mapping[str, int]) -> str:
    return " ".join(f"{k}={v}" for k, v in sorted(counts.items())) or "-"
