"""`lifeline login`: check that this client's credentials work and show what they allow."""

from __future__ import annotations

import argparse
import time
from typing import Any

from libs.common.auth.scopes import WHOAMI_PATH
from lifeline.cli.base import CliError, Subparsers
from lifeline.cli.profile import (
    Profile,
    add_profile_option,
    add_url_options,
    load_profile,
    profile_path,
    save_profile,
    updated,
)
from lifeline.client import add_passphrase_options, emit, load_key, run, signed_in

# The audience each service answers to, so login asks only services the token is for.
_AUDIENCE = {
    "intake": "lifeline-intake",
    "sharing": "lifeline-sharing",
    "alerts": "lifeline-alerts",
}


def register(sub: Subparsers) -> None:
    """Add the `login` command."""
    p = sub.add_parser(
        "login",
        help="check your credentials and show your scopes (saves them in the profile)",
        description=(
            "Get an access token with your key, ask each service it is for whether it accepts "
            "it, and show your client id, partner, scopes and audiences. The URLs, client id "
            "and key path given here are saved in the profile (never the passphrase)."
        ),
    )
    add_profile_option(p)
    add_url_options(p)
    p.add_argument("--client-id", help="the client id the administrator gave you")
    p.add_argument("--key", metavar="PATH", help="your private key file (from `lifeline keygen`)")
    add_passphrase_options(p)
    p.add_argument("--no-save", action="store_true", help="do not update the profile")
    p.add_argument("--json", action="store_true", help="print JSON")
    p.set_defaults(func=run_login)


def run_login(args: argparse.Namespace) -> int:
    """Sign in, check every service the token is for, report."""
    path = profile_path(args)
    profile = updated(load_profile(path), args)
    client_id, key_path = profile.require_client()
    key = load_key(key_path, args)
    data = run(_login(profile, client_id, key), profile.sharing_url)
    if not args.no_save:
        save_profile(path, profile)
    emit(args, data, lambda: _human(data))
    failed = [name for name, status in data["services"].items() if status != "ok"]
    if failed:
        raise CliError(f"signed in, but refused by: {', '.join(failed)}")
    return 0


async def _login(profile: Profile, client_id: str, key: Any) -> dict[str, Any]:
    async with signed_in(profile.sharing_url, client_id, key) as (http, source):
        token_started = time.monotonic()
        await source.token()
        token_ms = round((time.monotonic() - token_started) * 1000, 1)
        identity: dict[str, Any] = {}
        services: dict[str, str] = {}
        urls = profile.service_urls()
        me = await http.get(urls["sharing"] + WHOAMI_PATH)
        if me.status_code == 200:
            identity = me.json()
        for name, url in urls.items():
            if identity and _AUDIENCE[name] not in identity["audiences"]:
                continue  # the token is not for this service: nothing to check
            response = me if name == "sharing" else await http.get(url + WHOAMI_PATH)
            services[name] = "ok" if response.status_code == 200 else f"HTTP {response.status_code}"
    return {
        "client_id": identity.get("client_id", client_id),
        "partner_id": identity.get("org"),
        "scopes": identity.get("scopes", []),
        "audiences": identity.get("audiences", []),
        "expires_in": max(0, int(identity.get("expires_at", 0) - time.time())),
        "token_ms": token_ms,
        "services": services,
    }


def _human(data: dict[str, Any]) -> str:
    lines = [
        f"Signed in as {data['client_id']} (partner {data['partner_id']})",
        f"  scopes     {' '.join(data['scopes']) or '-'}",
        f"  audiences  {' '.join(data['audiences']) or '-'}",
        f"  token      valid for {data['expires_in']} s (issued in {data['token_ms']} ms)",
    ]
    lines += [f"  {name:<10} {status}" for name, status in data["services"].items()]
    return "\n".join(lines)
