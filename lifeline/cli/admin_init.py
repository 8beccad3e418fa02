"""`lifeline admin init`: create the first administrator of an empty network."""

from __future__ import annotations

import argparse
import contextlib
from dataclasses import replace
from pathlib import Path
from typing import Any

import httpx

from libs.sdk import generate_private_key, public_key_text
from lifeline.cli.base import CliError, Subparsers
from lifeline.cli.exits import Exit
from lifeline.cli.profile import (
    Profile,
    add_profile_option,
    add_url_options,
    load_profile,
    profile_path,
    save_profile,
    updated,
)
from lifeline.client import add_passphrase_options, api_error, emit, run, write_new_key


def register(groups: Subparsers) -> None:
    """Add `lifeline admin init`."""
    p = groups.add_parser(
        "init",
        help="create the first administrator of an empty network",
        description=(
            "Create the operator organisation and the first admin client with a new key pair, "
            "using the one-time secret sharing wrote into its data directory. Refused once an "
            "administrator exists. Saves the admin's client id and key path in the profile."
        ),
    )
    add_profile_option(p)
    add_url_options(p)
    secret = p.add_mutually_exclusive_group(required=True)
    secret.add_argument("--data-dir", type=Path, help="sharing's data directory (holds the secret)")
    secret.add_argument("--bootstrap-secret-file", type=Path, help="the secret file itself")
    p.add_argument(
        "--key",
        type=Path,
        help="where to write the admin's private key (default: next to the profile)",
    )
    p.add_argument("--organisation", default="Network operator", help="the operator's name")
    p.add_argument("--client-name", default="Administrator", help="the admin client's name")
    p.add_argument("--valid-days", type=int, default=365, help="key expiry (default: 365)")
    add_passphrase_options(p, new_key=True)
    p.add_argument("--json", action="store_true", help="print JSON")
    p.set_defaults(func=_init)


def _init(args: argparse.Namespace) -> int:
    path = profile_path(args)
    profile = updated(load_profile(path), args)
    # Here, not at the top: sharing's settings load SQLAlchemy, a second of CPU that every
    # other `lifeline admin` command would pay.
    from services.sharing.settings import BOOTSTRAP_SECRET_FILE

    secret_file = args.bootstrap_secret_file or args.data_dir / BOOTSTRAP_SECRET_FILE
    try:
        secret = secret_file.read_text().strip()
    except FileNotFoundError:
        raise CliError(
            f"no bootstrap secret at {secret_file}: is an administrator already set "
            "up, or is this not sharing's data directory?",
            Exit.NOT_FOUND,
            code="not_found",
        ) from None
    except OSError as exc:
        raise CliError(f"cannot read {secret_file}: {exc.strerror}") from None
    key_path = (args.key or path.parent / "admin-key.pem").expanduser().resolve()
    key_path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    key = generate_private_key()
    write_new_key(key, key_path, args)
    body = {
        "secret": secret,
        "public_key": public_key_text(key),
        "organisation": args.organisation,
        "client_name": args.client_name,
        "valid_days": args.valid_days,
    }
    try:
        data = run(_bootstrap(profile, body))
    except BaseException:
        # Nothing was registered: do not leave a key behind that would block a retry.
        with contextlib.suppress(OSError):
            key_path.unlink()
        raise
    profile = replace(profile, client_id=data["client"]["id"], key_path=str(key_path))
    save_profile(path, profile)
    emit(args, data, lambda: _init_human(data, key_path, path))
    return 0


async def _bootstrap(profile: Profile, body: dict[str, Any]) -> Any:
    async with httpx.AsyncClient(timeout=10.0) as http:
        response = await http.post(f"{profile.sharing_url}/v1/admin/bootstrap", json=body)
    if response.status_code != 201:
        raise api_error(response)
    return response.json()


def _init_human(data: dict[str, Any], key_path: Path, profile: Path) -> str:
    return "\n".join(
        [
            f"Administrator created: {data['client']['id']} "
            f"(organisation {data['partner']['id']}, {data['partner']['name']})",
            f"  key          {key_path} (fingerprint {data['key']['fingerprint']})",
            f"  profile      {profile}",
            "Next: `lifeline admin partner create NAME`.",
        ]
    )
