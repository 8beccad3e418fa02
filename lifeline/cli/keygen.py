"""`lifeline keygen`: a client makes its own Ed25519 key pair; only the public half leaves."""

from __future__ import annotations

import argparse
from pathlib import Path

from libs.sdk import (
    fingerprint,
    generate_private_key,
    key_id,
    public_jwk,
    public_key_text,
)
from lifeline.cli.base import Subparsers
from lifeline.cli.profile import config_dir
from lifeline.client import add_passphrase_options, emit, write_new_key


def register(sub: Subparsers) -> None:
    """Add the `keygen` command."""
    p = sub.add_parser(
        "keygen",
        help="create your client key pair and print the public key to register",
        description=(
            "Create an Ed25519 key pair. The private key stays in a 0600 file (optionally "
            "passphrase-protected); give the printed public key to your administrator and read "
            "the fingerprint to them when they register it."
        ),
    )
    p.add_argument(
        "--out",
        type=Path,
        default=None,
        help="where to write the private key (default: ~/.config/lifeline/client-key.pem)",
    )
    p.add_argument("--force", action="store_true", help="replace an existing key file")
    add_passphrase_options(p, new_key=True)
    p.add_argument("--json", action="store_true", help="print JSON")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    """Generate, save, print."""
    out: Path = (args.out or config_dir() / "client-key.pem").expanduser().resolve()
    out.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    key = generate_private_key()
    encrypted = write_new_key(key, out, args, overwrite=args.force)
    data = {
        "private_key_path": str(out),
        "encrypted": encrypted,
        "public_key": public_key_text(key),
        "public_jwk": public_jwk(key),
        "kid": key_id(key),
        "fingerprint": fingerprint(key),
    }
    emit(args, data, lambda: _human(data))
    return 0


def _human(data: dict[str, object]) -> str:
    return "\n".join(
        [
            f"Private key written to {data['private_key_path']} (keep it; never send it).",
            "",
            "Give this public key to your Lifeline administrator:",
            f"  {data['public_key']}",
            "",
            "When they register it, read them this fingerprint and check they see the same:",
            f"  {data['fingerprint']}",
        ]
    )
