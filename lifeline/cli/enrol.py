"""`lifeline enrol`: a device makes its own key and registers it with a one-time code."""

from __future__ import annotations

import argparse
import asyncio
import platform
import time
from pathlib import Path
from typing import Any

import httpx
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from libs.sdk import TokenRequestError, fingerprint, generate_private_key, public_key_text
from lifeline.cli.base import CliError, Subparsers
from lifeline.cli.profile import (
    add_profile_option,
    add_url_options,
    config_dir,
    load_profile,
    profile_path,
    save_profile,
    updated,
)
from lifeline.client import (
    add_passphrase_options,
    api_error,
    emit,
    load_key,
    run,
    signed_in,
    write_new_key,
)


def register(sub: Subparsers) -> None:
    """Add the `enrol` command."""
    p = sub.add_parser(
        "enrol",
        help="register this device's key with a one-time enrolment code from your administrator",
        description=(
            "Make a key pair (or use --key), register its public half with the enrolment code, "
            "and print the fingerprint to read to your administrator, who confirms it. With "
            "--wait, stay until they have, then save the profile; else run `lifeline login` then."
        ),
    )
    add_profile_option(p)
    add_url_options(p)
    p.add_argument("--code", required=True, help="the code, or the whole enrolment link")
    p.add_argument("--key", type=Path, help="private key file (made if missing)")
    p.add_argument("--device-name", default=None, help="how this device is listed (hostname)")
    p.add_argument("--wait", type=float, default=0, metavar="SECONDS", help="wait for confirmation")
    add_passphrase_options(p, new_key=True)
    p.add_argument("--json", action="store_true", help="print JSON")
    p.set_defaults(func=run_enrol)


def run_enrol(args: argparse.Namespace) -> int:
    """Make or load the key, enrol it, maybe wait for the confirmation."""
    path = profile_path(args)
    profile = updated(load_profile(path), args)
    code = args.code.split("#code=", 1)[-1].strip()
    key_path = (args.key or config_dir() / "client-key.pem").expanduser().resolve()
    key = _device_key(key_path, args)
    device = args.device_name or platform.node() or "device"
    body = {"code": code, "public_key": public_key_text(key), "device_name": device[:200]}
    enrolled = run(_enrol(profile.sharing_url, body, key), profile.sharing_url)
    data: dict[str, Any] = {**enrolled, "private_key_path": str(key_path), "confirmed": False}
    if args.wait > 0:
        client_id = enrolled["client_id"]
        data["confirmed"] = run(_confirmed(profile.sharing_url, client_id, key, args.wait))
        if data["confirmed"]:
            profile = updated(profile, argparse.Namespace(client_id=client_id, key=str(key_path)))
            save_profile(path, profile)
    emit(args, data, lambda: _human(data))
    return 0 if data["confirmed"] or args.wait <= 0 else 1


def _device_key(path: Path, args: argparse.Namespace) -> Ed25519PrivateKey:
    if path.exists():
        return load_key(path, args)
    path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    key = generate_private_key()
    write_new_key(key, path, args)
    return key


async def _enrol(sharing_url: str, body: dict[str, Any], key: Ed25519PrivateKey) -> dict[str, Any]:
    async with httpx.AsyncClient(timeout=10.0, follow_redirects=False) as http:
        response = await http.post(sharing_url.rstrip("/") + "/v1/enrol", json=body)
    if response.status_code != 201:
        raise api_error(response)
    result: dict[str, Any] = response.json()
    # What the admin will compare must be this device's key, whatever the server says.
    if result.get("fingerprint") != fingerprint(key):
        raise CliError("sharing answered with another key's fingerprint: do not confirm it")
    return result


async def _confirmed(sharing_url: str, client_id: str, key: Ed25519PrivateKey, wait: float) -> bool:
    deadline = time.monotonic() + wait
    async with signed_in(sharing_url, client_id, key) as (_, source):
        while True:
            try:
                await source.token()
                return True
            except TokenRequestError as exc:
                if exc.oauth_error != "invalid_client" or time.monotonic() >= deadline:
                    return False
            await asyncio.sleep(min(2.0, max(0.1, deadline - time.monotonic())))


def _human(data: dict[str, Any]) -> str:
    lines = [
        f"Key registered for {data['client_id']}, pending confirmation (kid {data['kid']}).",
        f"Private key: {data['private_key_path']} (keep it; never send it).",
        "",
        "Read this fingerprint to your administrator; they confirm it on their side:",
        f"  {data['fingerprint']}",
    ]
    if data["confirmed"]:
        lines += ["", "Confirmed: the profile is saved; you are signed in."]
    else:
        lines += [
            "",
            "Once they have confirmed it, sign in with:",
            f"  lifeline login --client-id {data['client_id']} --key {data['private_key_path']}",
        ]
    return "\n".join(lines)
