"""`lifeline token`: an access token of the profile's client, for curl and other HTTP tools."""

from __future__ import annotations

import argparse
import time
from datetime import UTC, datetime
from typing import Any

import jwt

from libs.common.auth.scopes import ALL_AUDIENCES, ALL_SCOPES, parse_scope
from lifeline.cli.base import Subparsers
from lifeline.cli.profile import add_profile_option, load_profile, profile_path
from lifeline.client import add_passphrase_options, emit, load_key, run, signed_in


def register(sub: Subparsers) -> None:
    """Add the `token` command."""
    p = sub.add_parser(
        "token",
        help='print an access token of your client (for curl: -H "Authorization: Bearer …")',
        description=(
            "Sign in with the profile's client and print a short-lived access token on stdout, "
            'nothing else: curl -H "Authorization: Bearer $(lifeline token --audience intake)" '
            "…. Whoever holds it acts as your client until it expires: do not paste it into "
            "tickets or logs. --json adds its expiry, audiences and scopes."
        ),
    )
    add_profile_option(p)
    add_passphrase_options(p)
    p.add_argument(
        "--audience",
        action="append",
        default=[],
        type=audience,
        metavar="SERVICE",
        help="the service it is for: intake, sharing or alerts (repeat; default: every service "
        "your scopes reach)",
    )
    p.add_argument(
        "--scope",
        action="append",
        default=[],
        choices=sorted(ALL_SCOPES),
        help="ask for this scope only (repeat; default: every scope your client holds)",
    )
    p.add_argument("--json", action="store_true", help="print JSON with the expiry")
    p.set_defaults(func=run_token)


def audience(value: str) -> str:
    """`intake` or `lifeline-intake` (argparse type): the audience's full name."""
    name = value if value.startswith("lifeline-") else f"lifeline-{value}"
    if name not in ALL_AUDIENCES:
        raise argparse.ArgumentTypeError(f"no such service: {value} (intake, sharing, alerts)")
    return name


def run_token(args: argparse.Namespace) -> int:
    """Get one token and print it."""
    profile = load_profile(profile_path(args))
    client_id, key_path = profile.require_client()
    key = load_key(key_path, args)

    async def fetch() -> tuple[str, float]:
        async with signed_in(
            profile.sharing_url, client_id, key, scopes=args.scope, audiences=args.audience
        ) as (_, source):
            token = await source.token()
            return token, source.expires_at or time.time()

    token, expires_at = run(fetch(), profile.sharing_url)
    emit(args, describe(token, expires_at), lambda: token)
    return 0


def describe(token: str, expires_at: float) -> dict[str, Any]:
    """The token with its expiry, audiences and scopes (read from its claims for display only:
    the services verify it, this machine holds no key to)."""
    claims = jwt.decode(token, options={"verify_signature": False})
    aud = claims.get("aud", [])
    return {
        "access_token": token,
        "token_type": "Bearer",
        "expires_at": datetime.fromtimestamp(expires_at, UTC).isoformat(timespec="seconds"),
        "expires_in": max(0, int(expires_at - time.time())),
        "audiences": [aud] if isinstance(aud, str) else list(aud),
        "scopes": sorted(parse_scope(str(claims.get("scope", "")))),
    }
