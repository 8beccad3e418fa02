"""`lifeline alerts contacts|escalation`: how you and your colleagues are told, and a test."""

from __future__ import annotations

import argparse
from email.utils import parseaddr
from pathlib import Path
from typing import Any

from lifeline.cli.base import CliError, Subparsers
from lifeline.cli.lawyer import call, lawyer_api, leaf, preload_key
from lifeline.cli.profile import load_profile, profile_path
from lifeline.client import emit, run, table

CONTACT_COLUMNS = ["id", "role", "channel", "address", "name", "encrypted", "disabled", "health"]
UNREACHABLE = "WARNING: none of your contacts works; alerts about your entries may reach nobody."


def register(actions: Subparsers) -> None:
    """Add `lifeline alerts contacts show|set|test` and `lifeline alerts escalation show|set`."""
    contacts = actions.add_parser(
        "contacts", help="your webhook, email, Signal, Telegram, push and SMS contacts"
    )
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
    cs.add_argument(
        "--contact",
        action="append",
        default=[],
        metavar="ROLE:CHANNEL:ADDRESS",
        help="a contact on any channel, e.g. primary:signal:+4915112345678, "
        "backup:telegram:581234977, backup:ntfy:https://ntfy.example.org/topic, "
        "secondary:sms:+4915112345678 (repeat; roles primary, secondary, backup)",
    )
    cs.add_argument(
        "--ntfy-token-file",
        type=Path,
        help="the access token of your ntfy topic(s), from this file (enables the ack button)",
    )
    cs.add_argument(
        "--language",
        choices=["en", "ru"],
        help="what your alert emails and ack pages are written in (default: keep the current one)",
    )
    test = leaf(
        c_actions,
        "test",
        "send a test alert to one of your contacts now and show how it went",
        _contacts_test,
    )
    test.add_argument("contact", help="the contact's id (as `lifeline alerts contacts show` lists)")

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
    es.add_argument(
        "--duty-contact",
        action="append",
        default=[],
        metavar="CHANNEL:ADDRESS",
        help="a duty contact on any channel, e.g. signal:+4915112345678 (repeat)",
    )


def _contact(channel: str, spec: str) -> dict[str, Any]:
    if channel == "webhook":
        return {"channel": "webhook", "address": spec}
    name, address = parseaddr(spec)
    if not address:
        raise CliError(f"not an email address: {spec!r}")
    return {"channel": "email", "address": address, **({"name": name} if name else {})}


def _any_contact(spec: str, *, roles: bool, ntfy_token: str | None = None) -> dict[str, Any]:
    """`ROLE:CHANNEL:ADDRESS` (or `CHANNEL:ADDRESS`): the server checks the channel and address."""
    parts = spec.split(":", 2 if roles else 1)
    if len(parts) != (3 if roles else 2) or not all(parts):
        shape = "ROLE:CHANNEL:ADDRESS" if roles else "CHANNEL:ADDRESS"
        raise CliError(f"a contact is {shape}, not {spec!r}")
    contact = dict(zip(["role", "channel", "address"][3 - len(parts) :], parts, strict=True))
    if contact["channel"] == "ntfy" and ntfy_token:
        contact["secret"] = ntfy_token
    return contact


def _read(path: Path, what: str) -> str:
    try:
        return path.read_text().strip()
    except OSError as exc:
        raise CliError(f"cannot read the {what} {path}: {exc.strerror}") from None


def _contacts_show(args: argparse.Namespace) -> int:
    data = call(args, ["watchlist:manage"], "GET", "/v1/lawyer/profile")
    language = f"\nlanguage: {data.get('language', 'en')}"
    rows = [{**c, "health": _health(c.get("health"))} for c in data["contacts"]]
    warning = "" if data.get("reachable", True) else f"\n{UNREACHABLE}"
    emit(args, data, lambda: table(rows, CONTACT_COLUMNS) + language + warning)
    return 0


def _health(health: dict[str, Any] | None) -> str | None:
    """A contact's state, with what it rests on: failures in a row, a failure's code, key expiry."""
    if not health:
        return None
    out = str(health["state"])
    if health.get("consecutive_failures"):
        out += f" ({health['consecutive_failures']}x {health.get('last_failure') or '?'})"
    if health.get("key_expires_at"):
        out += f" key until {str(health['key_expires_at'])[:10]}"
    return out


def _contacts_set(args: argparse.Namespace) -> int:
    body: dict[str, Any] = {
        "backup_contacts": [_contact("email", s) for s in args.backup_email]
        + [_contact("webhook", s) for s in args.backup_webhook]
    }
    if args.webhook_url:
        body["webhook"] = {"url": args.webhook_url, "rotate_secret": args.rotate_secret}
        if args.webhook_secret_file:
            body["webhook"]["secret"] = _read(args.webhook_secret_file, "secret file")
    token = _read(args.ntfy_token_file, "token file") if args.ntfy_token_file else None
    if args.contact:
        body["contacts"] = [_any_contact(s, roles=True, ntfy_token=token) for s in args.contact]
    if args.email:
        body["email"] = {"address": args.email}
        if args.pgp_key:
            body["email"]["pgp_public_key"] = _read(args.pgp_key, "key file")
    preload_key(args)

    async def go() -> Any:
        async with lawyer_api(args, ["watchlist:manage"]) as (api, _):
            if args.language is None:
                # A PUT replaces the whole profile: the language stays unless asked to change.
                body["language"] = (await api.call("GET", "/v1/lawyer/profile"))["language"]
            else:
                body["language"] = args.language
            return await api.call("PUT", "/v1/lawyer/profile", json=body)

    data = run(go(), load_profile(profile_path(args)).sharing_url)
    emit(args, data, lambda: _with_secrets(data))
    return 0


def _contacts_test(args: argparse.Namespace) -> int:
    body = {"contact": args.contact}
    data = call(args, ["watchlist:manage"], "POST", "/v1/lawyer/profile/test", json=body)
    status = f" (HTTP {data['http_status']})" if data.get("http_status") else ""
    if data["delivered"]:
        text = f"test alert delivered through {data['channel']}{status}"
    else:
        text = f"test alert NOT delivered through {data['channel']}: {data['error']}{status}"
    emit(args, data, lambda: text)
    return 0 if data["delivered"] else 1


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
        + [_contact("webhook", s) for s in args.duty_webhook]
        + [_any_contact(s, roles=False) for s in args.duty_contact],
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
