"""`lifeline alerts`: list, show and acknowledge alerts; set how you and colleagues are told."""

from __future__ import annotations

import argparse
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from email.utils import parseaddr
from pathlib import Path
from typing import Any

import httpx

from lifeline.cli.base import CliError, Subparsers
from lifeline.cli.profile import add_profile_option, load_profile, profile_path
from lifeline.client import Api, add_passphrase_options, emit, load_key, run, signed_in, table

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
CONTACT_COLUMNS = ["id", "role", "channel", "address", "name", "encrypted", "disabled"]


def leaf(actions: Subparsers, name: str, text: str, func: Any) -> argparse.ArgumentParser:
    """A lawyer command: profile, passphrase and --json options."""
    p = actions.add_parser(name, help=text, description=text[0].upper() + text[1:] + ".")
    add_profile_option(p)
    add_passphrase_options(p)
    p.add_argument("--json", action="store_true", help="print JSON")
    p.set_defaults(func=func)
    return p


@asynccontextmanager
async def lawyer_api(
    args: argparse.Namespace, scopes: list[str]
) -> AsyncIterator[tuple[Api, httpx.AsyncClient]]:
    """Alerts' API (and sharing's, for tokenisation) signed in as the profile's client."""
    profile = load_profile(profile_path(args))
    if not profile.alerts_url:
        raise CliError("the profile has no alerts URL: run `lifeline profile set --alerts-url ...`")
    client_id, key_path = profile.require_client()
    key = args.loaded_key if hasattr(args, "loaded_key") else load_key(key_path, args)
    async with signed_in(profile.sharing_url, client_id, key, scopes=scopes) as (http, _):
        http.base_url = profile.sharing_url  # tokenise_identities talks to sharing's OPRF
        yield Api(http, profile.alerts_url), http


def call(args: argparse.Namespace, scopes: list[str], method: str, path: str, **kw: Any) -> Any:
    """One alerts API call as the profile's client."""
    preload_key(args)

    async def go() -> Any:
        async with lawyer_api(args, scopes) as (api, _):
            return await api.call(method, path, **kw)

    return run(go(), load_profile(profile_path(args)).sharing_url)


def preload_key(args: argparse.Namespace) -> None:
    """Load the private key (asking for its passphrase) before any network work starts."""
    _, key_path = load_profile(profile_path(args)).require_client()
    args.loaded_key = load_key(key_path, args)


def register(sub: Subparsers) -> None:
    """Add `lifeline alerts list|show|ack|contacts|escalation`."""
    p = sub.add_parser("alerts", help="your alerts (list, show, ack) and how you are reached")
    actions = p.add_subparsers(dest="action", required=True, metavar="ACTION")
    ls = leaf(actions, "list", "list your alerts, newest first", _list)
    ls.add_argument("--status", choices=["open", "acknowledged", "withdrawn"], help="only these")
    ls.add_argument("--limit", type=int, default=50, help="at most this many (default 50)")
    show = leaf(actions, "show", "one alert with every delivery attempt", _show)
    show.add_argument("alert_id")
    ack = leaf(actions, "ack", "acknowledge an alert: escalation stops, the others are told", _ack)
    ack.add_argument("alert_id")

    contacts = actions.add_parser("contacts", help="your webhook, email and backup contacts")
    c_actions = contacts.add_subparsers(dest="contacts_action", required=True, metavar="ACTION")
    leaf(c_actions, "show", "show your contact channels (never secrets)", _contacts_show)
    cs = leaf(
        c_actions,
        "set",
        "replace your contact channels (a new webhook secret is shown once)",
        _contacts_set,
    )
    cs.add_argument("--webhook-url", help="your webhook (Standard Webhooks, https)")
    secret = cs.add_mutually_exclusive_group()
    secret.add_argument(
        "--webhook-secret-file", type=Path, help="use your own whsec_ secret from this file"
    )
    secret.add_argument(
        "--rotate-secret", action="store_true", help="generate a new webhook secret"
    )
    cs.add_argument(
        "--email",
        help="your email address (paged at once on highest priority, else when the webhook fails)",
    )
    cs.add_argument(
        "--pgp-key", type=Path, help="your OpenPGP public key file: emails are encrypted to it"
    )
    cs.add_argument(
        "--backup-email", action="append", default=[], help="'Name <address>' of a backup (repeat)"
    )
    cs.add_argument(
        "--backup-webhook", action="append", default=[], help="a backup's webhook URL (repeat)"
    )

    esc = actions.add_parser(
        "escalation", help="your organisation's escalation timing and duty contacts"
    )
    e_actions = esc.add_subparsers(dest="escalation_action", required=True, metavar="ACTION")
    leaf(e_actions, "show", "show N, M, repeats and duty contacts", _escalation_show)
    es = leaf(
        e_actions,
        "set",
        "set N, M, repeats and duty contacts for your organisation (a partner administrator)",
        _escalation_set,
    )
    es.add_argument("--after", type=int, required=True, help="N: minutes until re-notify + backups")
    es.add_argument(
        "--duty-after", type=int, required=True, help="M: minutes until the duty contact"
    )
    es.add_argument(
        "--repeat-every", type=int, default=15, help="minutes between repeats (default 15)"
    )
    es.add_argument("--max-repeats", type=int, default=4, help="repeats after that (default 4)")
    es.add_argument("--duty-email", action="append", default=[], help="'Name <address>' (repeat)")
    es.add_argument(
        "--duty-webhook", action="append", default=[], help="a duty webhook URL (repeat)"
    )


def _list(args: argparse.Namespace) -> int:
    params: dict[str, Any] = {
        "limit": args.limit,
        **({"status": args.status} if args.status else {}),
    }
    data = call(args, ["alerts:read"], "GET", "/v1/alerts", params=params)
    emit(args, data["alerts"], lambda: table(data["alerts"], ALERT_COLUMNS))
    return 0


def _show(args: argparse.Namespace) -> int:
    data = call(args, ["alerts:read"], "GET", f"/v1/alerts/{args.alert_id}")
    emit(args, data, lambda: _alert_human(data))
    return 0


def _alert_human(a: dict[str, Any]) -> str:
    lines = [
        f"Alert {a['id']}  [{a['status']}, priority {a['priority']}]",
        f"  entry      {a['label']}",
        f"  match      {a['match']['strength']}: {a['match']['reason']}",
        f"  incident   {a['incident_type']} ({a['legal_basis']})",
        f"  where      {a['country']}, {a['facility_kind']}",
        f"  occurred   {a['occurred_at']}  (reports: {a['report_count']})",
        f"  report     {a['report_url']}",
    ]
    if a.get("acknowledged"):
        ack = a["acknowledged"]
        lines.append(f"  acked      by {ack['by']} at {ack['at']} via {ack['via']}")
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


def _contact(channel: str, spec: str) -> dict[str, Any]:
    if channel == "webhook":
        return {"channel": "webhook", "address": spec}
    name, address = parseaddr(spec)
    if not address:
        raise CliError(f"not an email address: {spec!r}")
    return {"channel": "email", "address": address, **({"name": name} if name else {})}


def _read(path: Path, what: str) -> str:
    try:
        return path.read_text().strip()
    except OSError as exc:
        raise CliError(f"cannot read the {what} {path}: {exc.strerror}") from None


def _contacts_show(args: argparse.Namespace) -> int:
    data = call(args, ["watchlist:manage"], "GET", "/v1/lawyer/profile")
    emit(args, data, lambda: table(data["contacts"], CONTACT_COLUMNS))
    return 0


def _contacts_set(args: argparse.Namespace) -> int:
    body: dict[str, Any] = {
        "backup_contacts": [_contact("email", s) for s in args.backup_email]
        + [_contact("webhook", s) for s in args.backup_webhook]
    }
    if args.webhook_url:
        body["webhook"] = {"url": args.webhook_url, "rotate_secret": args.rotate_secret}
        if args.webhook_secret_file:
            body["webhook"]["secret"] = _read(args.webhook_secret_file, "secret file")
    if args.email:
        body["email"] = {"address": args.email}
        if args.pgp_key:
            body["email"]["pgp_public_key"] = _read(args.pgp_key, "key file")
    data = call(args, ["watchlist:manage"], "PUT", "/v1/lawyer/profile", json=body)
    emit(args, data, lambda: _with_secrets(data))
    return 0


def _with_secrets(data: dict[str, Any]) -> str:
    lines = [table(data["contacts"], CONTACT_COLUMNS)]
    for contact_id, secret in data.get("new_secrets", {}).items():
        lines.append(
            f"\nWebhook secret for {contact_id} (shown once: verify signatures with it)\n  {secret}"
        )
    return "\n".join(lines)


def _escalation_show(args: argparse.Namespace) -> int:
    # A lawyer's profile or the partner administrator's: whatever scope the client holds.
    data = call(args, [], "GET", "/v1/organisation/escalation")
    emit(args, data, lambda: _escalation_human(data))
    return 0


def _escalation_set(args: argparse.Namespace) -> int:
    body = {
        "escalate_after_minutes": args.after,
        "duty_after_minutes": args.duty_after,
        "repeat_every_minutes": args.repeat_every,
        "max_repeats": args.max_repeats,
        "duty_contacts": [_contact("email", s) for s in args.duty_email]
        + [_contact("webhook", s) for s in args.duty_webhook],
    }
    data = call(args, ["escalation:manage"], "PUT", "/v1/organisation/escalation", json=body)
    emit(args, data, lambda: _escalation_human(data))
    return 0


def _escalation_human(d: dict[str, Any]) -> str:
    head = (
        f"Organisation {d['org_id']}: re-notify + backups after {d['escalate_after_minutes']} min, "
        f"duty after {d['duty_after_minutes']} min, then every {d['repeat_every_minutes']} min "
        f"up to {d['max_repeats']} times"
    )
    return (
        head
        + "\n"
        + _with_secrets({"contacts": d["duty_contacts"], "new_secrets": d.get("new_secrets", {})})
    )
