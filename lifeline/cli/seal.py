"""`lifeline seal init` makes a data directory's root key; `lifeline unseal` gives a running
sealed network its passphrase or its trustees' shares."""

from __future__ import annotations

import argparse
import getpass
import io
import json
import re
import sys
from pathlib import Path
from typing import Any

from libs.common.seal import sealfile
from lifeline.cli.base import CliError, Subparsers
from lifeline.client import emit
from lifeline.sealing import KmsOptions, load_urls, open_or_create, read_passphrase, unseal_all

# How open_or_create prints each trustee's share (once, and never stored).
_SHARE = re.compile(r"^share \d+: (.+)$", re.MULTILINE)


def register(sub: Subparsers) -> None:
    """Add the `seal init` and `unseal` commands."""
    seal = sub.add_parser("seal", help="the root key that seals every key at rest")
    seal_sub = seal.add_subparsers(dest="seal_command", required=True, metavar="COMMAND")
    init = seal_sub.add_parser(
        "init",
        help="make the root key of a data directory (deployments; `lifeline up --sealed` does "
        "it on first start)",
        description="Ask for a passphrase (or read it from stdin), make the root key, write "
        "seal.json, and print the trustees' shares once.",
    )
    init.add_argument("--data-dir", type=Path, required=True, help="the service's data directory")
    init.add_argument("--shares", type=int, default=5, help="trustee shares (default: 5)")
    init.add_argument("--threshold", type=int, default=3, help="shares to unseal (default: 3)")
    add_kms_arguments(init)
    init.add_argument("--json", action="store_true", help='print {"data_dir", "shares"}')
    init.set_defaults(func=run_init)
    p = sub.add_parser(
        "unseal",
        help="unseal every service of a running sealed network",
        description=(
            "Send the passphrase, or shares one at a time, to each sealed service. From a "
            "terminal it asks for them; otherwise it reads them from stdin (the passphrase on "
            "the first line, or one share per line with --shares)."
        ),
    )
    p.add_argument(
        "--data-dir", type=Path, default=Path("data"), help="the network's data directory"
    )
    p.add_argument("--shares", action="store_true", help="unseal with trustees' shares")
    p.add_argument(
        "--url", action="append", default=[], help="a service's base URL (default: all of them)"
    )
    p.add_argument("--json", action="store_true", help="print each service's progress as JSON")
    p.set_defaults(func=run)


def add_kms_arguments(parser: argparse.ArgumentParser) -> None:
    """`--kms-url`, `--kms-key`, `--kms-token-file` (docs/sealing.md, the KMS method)."""
    parser.add_argument(
        "--kms-url",
        default="",
        help="a Vault (or OpenBao) address: its transit key also wraps "
        "the root key, and the services unseal themselves with it",
    )
    parser.add_argument("--kms-key", default="", help="the transit key's name")
    parser.add_argument(
        "--kms-token-file", type=Path, help="a file holding a Vault token for that key"
    )


def kms_options(args: argparse.Namespace) -> KmsOptions:
    """The KMS options given."""
    return KmsOptions(args.kms_url, args.kms_key, args.kms_token_file)


def run_init(args: argparse.Namespace) -> int:
    """Create the seal of a data directory."""
    data_dir = args.data_dir.resolve()
    if (data_dir / sealfile.SEAL_FILE).exists():
        raise CliError(f"{data_dir} has a root key already")
    kms = kms_options(args)
    data_dir.mkdir(parents=True, exist_ok=True, mode=0o700)
    text = io.StringIO()
    open_or_create(
        data_dir, sealed=True, threshold=args.threshold, count=args.shares, out=text, kms=kms
    )
    shares = [m.group(1) for m in _SHARE.finditer(text.getvalue())]
    data = {"data_dir": str(data_dir), "threshold": args.threshold, "shares": shares}
    emit(args, data, lambda: text.getvalue().rstrip("\n"))
    return 0


def run(args: argparse.Namespace) -> int:
    """Unseal each service; print its progress."""
    urls = {url: url for url in args.url} if args.url else load_urls(args.data_dir.resolve())
    requests: list[dict[str, Any]]
    if args.shares:
        requests = [{"share": share} for share in _read_shares()]
    else:
        requests = [{"passphrase": read_passphrase(confirm=False)}]
    progress: list[str] = []

    def say(line: str) -> None:
        progress.append(line)
        if not getattr(args, "json", False):
            print(line, flush=True)

    unseal_all(urls, requests, say)
    if getattr(args, "json", False):
        print(json.dumps({"services": list(urls), "progress": progress}, indent=2))
    return 0


def _read_shares() -> list[str]:
    if not sys.stdin.isatty():
        return [line.strip() for line in sys.stdin if line.strip()]
    shares: list[str] = []
    print("Enter one share per prompt; an empty line ends.", file=sys.stderr)
    while share := getpass.getpass(f"Share {len(shares) + 1}: ").strip():
        shares.append(share)
    return shares
