"""`lifeline unseal`: give a running sealed network its passphrase or its trustees' shares."""

from __future__ import annotations

import argparse
import getpass
import sys
from pathlib import Path
from typing import Any

from lifeline.cli.base import Subparsers
from lifeline.sealing import load_urls, read_passphrase, unseal_all


def register(sub: Subparsers) -> None:
    """Add the `unseal` command."""
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
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    """Unseal each service; print its progress."""
    urls = {url: url for url in args.url} if args.url else load_urls(args.data_dir.resolve())
    requests: list[dict[str, Any]]
    if args.shares:
        requests = [{"share": share} for share in _read_shares()]
    else:
        requests = [{"passphrase": read_passphrase(confirm=False)}]
    unseal_all(urls, requests, lambda line: print(line, flush=True))
    return 0


def _read_shares() -> list[str]:
    if not sys.stdin.isatty():
        return [line.strip() for line in sys.stdin if line.strip()]
    shares: list[str] = []
    print("Enter one share per prompt; an empty line ends.", file=sys.stderr)
    while share := getpass.getpass(f"Share {len(shares) + 1}: ").strip():
        shares.append(share)
    return shares
