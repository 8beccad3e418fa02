"""`lifeline admin`: manage partners, clients and keys (and `init`, the vault, the audit log)."""

from __future__ import annotations

import argparse
import functools
from collections.abc import Callable, Coroutine
from pathlib import Path
from typing import Any, TypeVar

from libs.common.auth.jwk import ed25519_fingerprint, parse_public_key_text
from libs.common.auth.roles import Role
from libs.common.auth.scopes import ALL_SCOPES
from libs.sdk import public_key_text
from lifeline.cli import (
    admin_approvals,
    admin_audit,
    admin_enrol,
    admin_identity,
    admin_init,
    admin_retention,
    admin_seize,
    admin_vault,
)
from lifeline.cli.admin_seize import pending_note
from lifeline.cli.base import CliError, Subparsers
from lifeline.client import Api, as_profile_client, command, emit, table
from lifeline.pages import every_item

T = TypeVar("T")
PARTNER_COLUMNS = ["id", "status", "name", "created_at"]
CLIENT_COLUMNS = ["id", "partner_id", "status", "role", "scopes", "name"]
KEY_COLUMNS = ["kid", "client_id", "status", "usable", "device_name", "not_after", "fingerprint"]


# Commands that are one call and a table: (group, action, help, method, path, argument).
_SIMPLE: list[tuple[str, str, str, str, str, str | None]] = [
    ("partner", "list", "list partners", "GET", "/v1/admin/partners", None),
    ("partner", "disable", "disable a partner (its tokens stop at once)", "POST",
     "/v1/admin/partners/{partner_id}/disable", "partner_id"),
    ("client", "show", "show one client", "GET", "/v1/admin/clients/{client_id}", "client_id"),
    ("client", "revoke", "revoke a client (its tokens stop at once)", "POST",
     "/v1/admin/clients/{client_id}/revoke", "client_id"),
    ("key", "list", "list a client's keys", "GET",
     "/v1/admin/clients/{client_id}/keys", "client_id"),
    ("key", "show", "show one key", "GET", "/v1/admin/keys/{kid}", "kid"),
    ("key", "revoke", "revoke a key (tokens obtained with it stop at once)", "POST",
     "/v1/admin/keys/{kid}/revoke", "kid"),
]  # fmt: skip
_COLUMNS = {"partner": PARTNER_COLUMNS, "client": CLIENT_COLUMNS, "key": KEY_COLUMNS}


def register(sub: Subparsers) -> None:
    """Add `lifeline admin ...`."""
    admin = sub.add_parser("admin", help="administer the network (partners, clients, keys, audit)")
    groups = admin.add_subparsers(dest="group", required=True, metavar="GROUP")
    admin_init.register(groups)
    admin_vault.register(groups)
    admin_audit.register(groups)
    admin_seize.register(groups)
    admin_approvals.register(groups)
    admin_identity.register(groups)
    actions = {
        "partner": _group(groups, "partner", "partner organisations"),
        "client": _group(groups, "client", "API clients of partners"),
        "key": _group(groups, "key", "client public keys"),
    }
    admin_enrol.register(groups, actions)
    admin_retention.register(groups, actions)
    command(actions["partner"], "create", "register a partner", _partner_create).add_argument(
        "name"
    )
    p = command(actions["client"], "create", "register a client of a partner", _client_create)
    p.add_argument("--partner", required=True, help="partner id")
    p.add_argument("--name", required=True, help="what the client is (e.g. 'case tool')")
    p.add_argument(
        "--role",
        required=True,
        choices=[r.value for r in Role],
        help="what kind of client it is; the role bounds the scopes it may be given",
    )
    p.add_argument(
        "--scope",
        action="append",
        required=True,
        choices=sorted(ALL_SCOPES),
        help="a scope it may request, within its role (repeat for several)",
    )
    p = command(actions["client"], "list", "list clients", _client_list)
    p.add_argument("--partner", help="only this partner's clients")
    p = command(actions["key"], "create", "register a client's public key", _key_create, ["add"])
    p.add_argument("client_id")
    _public_key_options(p)
    p = command(actions["key"], "rotate", "register a replacement and retire this key", _key_rotate)
    p.add_argument("kid")
    _public_key_options(p)
    p.add_argument("--grace-seconds", type=int, default=0, help="keep the old key this long")
    for group, action, text, method, path, argument in _SIMPLE:
        handler = functools.partial(_simple, method, path, _COLUMNS[group])
        p = command(actions[group], action, text, handler)
        if argument:
            p.add_argument(argument)


def _group(groups: Subparsers, name: str, what: str) -> Subparsers:
    parser = groups.add_parser(name, help=f"manage {what}", description=f"Manage {what}.")
    return parser.add_subparsers(dest="action", required=True, metavar="ACTION")


def _public_key_options(p: argparse.ArgumentParser) -> None:
    source = p.add_mutually_exclusive_group(required=True)
    source.add_argument("--public-key", help="the key as printed by `lifeline keygen`")
    source.add_argument("--public-key-file", type=Path, help="a file holding it (line or JWK)")
    p.add_argument("--expect-fingerprint", help="refuse unless the key has this fingerprint")
    p.add_argument("--valid-days", type=int, default=365, help="key expiry (default: 365)")


# --- the calls -----------------------------------------------------------------------------


def _admin(args: argparse.Namespace, work: Callable[[Api], Coroutine[Any, Any, T]]) -> T:
    """Run `work` against sharing's admin API as the profile's admin client."""
    # Every scope the client holds: `admin` for the operator, `clients:manage` for a partner
    # administrator (who may run the client and key commands for its own partner).
    return as_profile_client(args, work)


def _call(args: argparse.Namespace, method: str, path: str, **kwargs: Any) -> Any:
    return _admin(args, lambda api: api.call(method, path, **kwargs))


def _show(args: argparse.Namespace, data: Any, columns: list[str]) -> int:
    rows = data if isinstance(data, list) else [data]
    flat = [{k: " ".join(v) if isinstance(v, list) else v for k, v in r.items()} for r in rows]
    emit(args, data, lambda: table(flat, columns))
    return 0


def _simple(method: str, path: str, columns: list[str], args: argparse.Namespace) -> int:
    url = path.format(**vars(args))
    if method == "GET" and url.endswith(("/partners", "/keys")):  # a list: every page of it
        return _show(args, _admin(args, lambda api: every_item(api, url)), columns)
    return _show(args, _call(args, method, url), columns)


def _partner_create(args: argparse.Namespace) -> int:
    return _show(
        args, _call(args, "POST", "/v1/admin/partners", json={"name": args.name}), PARTNER_COLUMNS
    )


def _client_create(args: argparse.Namespace) -> int:
    body = {"partner_id": args.partner, "name": args.name, "role": args.role, "scopes": args.scope}
    return _show(args, _call(args, "POST", "/v1/admin/clients", json=body), CLIENT_COLUMNS)


def _client_list(args: argparse.Namespace) -> int:
    params = {"partner_id": args.partner} if args.partner else {}
    rows = _admin(args, lambda api: every_item(api, "/v1/admin/clients", params))
    return _show(args, rows, CLIENT_COLUMNS)


def _public_key(args: argparse.Namespace) -> str:
    text = args.public_key
    if text is None:
        try:
            text = args.public_key_file.read_text()
        except OSError as exc:
            raise CliError(f"cannot read {args.public_key_file}: {exc.strerror}") from None
    try:
        key = parse_public_key_text(text)
    except ValueError as exc:
        raise CliError(f"not an Ed25519 public key: {exc}") from None
    expected = "".join((args.expect_fingerprint or "").split()).lower()
    if expected and expected != ed25519_fingerprint(key).replace(" ", ""):
        raise CliError("the key's fingerprint differs from the expected one: not registered")
    return public_key_text(key)


def _key_create(args: argparse.Namespace) -> int:
    body = {"public_key": _public_key(args), "valid_days": args.valid_days}
    data = _call(args, "POST", f"/v1/admin/clients/{args.client_id}/keys", json=body)
    if "approval" in data:
        emit(args, data, lambda: pending_note(data["approval"]))
        return 0
    emit(args, data, lambda: table([data], KEY_COLUMNS) + _compare_note(data))
    return 0


def _compare_note(key: dict[str, Any]) -> str:
    return f"\nAsk the client to read their fingerprint; it must be:\n  {key['fingerprint']}"


def _key_rotate(args: argparse.Namespace) -> int:
    body = {
        "public_key": _public_key(args),
        "valid_days": args.valid_days,
        "old_key_grace_seconds": args.grace_seconds,
    }
    data = _call(args, "POST", f"/v1/admin/keys/{args.kid}/rotate", json=body)
    if "approval" in data:
        emit(args, data, lambda: pending_note(data["approval"]))
        return 0
    emit(args, data, lambda: table([data["new"], data["old"]], KEY_COLUMNS))
    return 0
