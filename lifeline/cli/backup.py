"""`lifeline backup`: an encrypted, consistent backup of a running network, and its restore."""

from __future__ import annotations

import argparse
import asyncio
import os
import time
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING

from libs.common.crypto.errors import InvalidKey
from libs.common.crypto.hpke_keys import (
    HpkePrivateKey,
    HpkePublicKey,
    dump_private_key,
    dump_public_key,
    generate_private_key,
    load_private_key,
    load_public_key,
)
from libs.common.secretfile import SecretFileError, create_private, read_private
from lifeline.backup.archive import BackupFileError
from lifeline.backup.contents import configured_urls, database_url
from lifeline.backup.create import create
from lifeline.backup.restore import check_empty, extract, verify
from lifeline.cli.base import CliError, Subparsers
from lifeline.cli.exits import Exit
from lifeline.client import emit

if TYPE_CHECKING:
    from lifeline.backup.erasures import Ledger

SERVICES = ("intake", "sharing", "alerts")


def register(sub: Subparsers) -> None:
    """Add the `backup` command group."""
    group = sub.add_parser(
        "backup", help="back up a running network and restore it"
    ).add_subparsers(dest="backup_command", required=True, metavar="SUBCOMMAND")
    p = group.add_parser("keygen", help="make the backup key pair (keep the private key offline)")
    p.add_argument("--out", type=Path, required=True, help="private key file (0600); .pub beside")
    p.set_defaults(func=run_keygen)
    p = group.add_parser("create", help="back up a running network without stopping it")
    p.add_argument("--out", type=Path, required=True, help="the backup file to write")
    p.add_argument("--recipient", type=Path, required=True, help="the backup public key file")
    p.add_argument("--data-dir", type=Path, default=Path("data"), help="the network's (./data)")
    p.add_argument(
        "--catch-up-timeout",
        type=float,
        default=60.0,
        help="seconds sharing and alerts may take to handle what intake published (60)",
    )
    p.set_defaults(func=run_create)
    p = group.add_parser("verify", help="authenticate a whole backup file, write nothing")
    p.add_argument("file", type=Path)
    p.add_argument("--key", type=Path, required=True, help="the backup private key file")
    p.set_defaults(func=run_verify)
    p = group.add_parser("restore", help="restore a backup into a new, empty data directory")
    p.add_argument("file", type=Path)
    p.add_argument("--key", type=Path, required=True, help="the backup private key file")
    p.add_argument("--data-dir", type=Path, required=True, help="a new or empty directory")
    p.add_argument(
        "--database-url",
        action="append",
        default=[],
        metavar="SERVICE=URL",
        help="an empty PostgreSQL database for a service that ran on one "
        "(default: LIFELINE_<SERVICE>_DATABASE_URL)",
    )
    ledger = p.add_mutually_exclusive_group(required=True)
    ledger.add_argument(
        "--erasures", type=Path, help="the erasure ledger exported after the backup was made"
    )
    ledger.add_argument(
        "--without-erasures",
        action="store_true",
        help="no ledger: reports erased after the backup become readable again",
    )
    p.set_defaults(func=run_restore)
    p = group.add_parser("erasures", help="export the erasure ledger (report ids only)")
    p.add_argument("--out", type=Path, required=True, help="the ledger file to write")
    p.add_argument("--data-dir", type=Path, default=Path("data"), help="the network's (./data)")
    p.set_defaults(func=run_erasures)
    for each in group.choices.values():
        each.add_argument("--json", action="store_true", help="print JSON")


def _database_urls(pairs: list[str]) -> dict[str, str]:
    urls = configured_urls(os.environ)
    for pair in pairs:
        service, sep, url = pair.partition("=")
        if not sep or service not in SERVICES or not url:
            raise CliError(f"--database-url takes SERVICE=URL with SERVICE one of {SERVICES}")
        urls[service] = url
    return urls


def _public_key(path: Path) -> HpkePublicKey:
    try:
        return load_public_key(path.read_text().strip())
    except (OSError, InvalidKey, ValueError) as exc:
        raise CliError(f"{path}: not a backup public key ({exc})") from None


def _private_key(path: Path) -> HpkePrivateKey:
    try:
        return load_private_key(read_private(path, seal=False).decode().strip())
    except (OSError, SecretFileError, InvalidKey, ValueError) as exc:
        raise CliError(f"{path}: not a usable backup private key ({exc})") from None


def run_keygen(args: argparse.Namespace) -> int:
    """Make the key pair: the private half in a new 0600 file, the public half beside it."""
    key = generate_private_key()
    if not create_private(args.out, dump_private_key(key).encode(), seal=False):
        raise CliError(f"{args.out} exists: it may be the only key that opens your backups")
    public = args.out.with_name(args.out.name + ".pub")
    public.write_text(dump_public_key(key.public_key) + "\n")
    data = {
        "private_key": str(args.out),
        "public_key": str(public),
        "fingerprint": key.public_key.fingerprint(),
    }
    emit(
        args,
        data,
        lambda: (
            f"Backup key written to {args.out}: keep it offline, apart from the backups.\n"
            f"Give {public} to `lifeline backup create --recipient`.\n"
            f"Fingerprint: {data['fingerprint']}"
        ),
    )
    return 0


def run_create(args: argparse.Namespace) -> int:
    """Back up the running network in `--data-dir` to `--out`."""
    recipient = _public_key(args.recipient)
    started = time.monotonic()
    try:
        made = create(
            args.data_dir.resolve(),
            args.out,
            recipient,
            urls=configured_urls(os.environ),
            catch_up_timeout=args.catch_up_timeout,
        )
    except TimeoutError as exc:
        raise CliError(str(exc)) from None
    data = {
        "file": str(made.path),
        "bytes": made.size,
        "files": made.files,
        "seconds": round(time.monotonic() - started, 2),
        "rows": {s: sum(t.values()) for s, t in made.rows.items()},
    }
    emit(
        args,
        data,
        lambda: (
            f"Backup written to {made.path} ({made.size} bytes, "
            f"{data['seconds']} s): {data['rows']} rows, {made.files} key and seal files."
        ),
    )
    return 0


def _verified(path: Path, key: HpkePrivateKey) -> dict[str, object]:
    try:
        found = verify(path, key)
    except (BackupFileError, OSError) as exc:
        raise CliError(f"{path}: {exc}") from None
    return {
        "file": str(path),
        "created_at": found.created_at,
        "members": len(found.members),
        "rows": found.manifest.get("rows", {}),
    }


def run_verify(args: argparse.Namespace) -> int:
    """Read the whole file and say what it holds."""
    data = _verified(args.file, _private_key(args.key))
    emit(
        args,
        data,
        lambda: (
            f"{args.file}: authentic and complete, made {data['created_at']}, "
            f"{data['members']} members."
        ),
    )
    return 0


def _ledger(path: Path, created_at: str) -> Ledger:
    # Imported here: it brings sharing's vault code, which no other backup command needs.
    from lifeline.backup import erasures

    try:
        ledger = erasures.Ledger.loads(path.read_bytes())
    except (OSError, ValueError) as exc:
        raise CliError(f"{path}: {exc}") from None
    if ledger.exported_at < datetime.fromisoformat(created_at):
        raise CliError(
            f"{path} was exported before the backup was made: it may miss erasures "
            "since; export a current one with `lifeline backup erasures`"
        )
    return ledger


def run_restore(args: argparse.Namespace) -> int:
    """Verify the file, check the ledger, then write the new data directory."""
    key, target = _private_key(args.key), args.data_dir.resolve()
    urls = _database_urls(args.database_url)
    try:
        check_empty(target, urls)
    except FileExistsError as exc:
        raise CliError(str(exc)) from None
    created_at = str(_verified(args.file, key)["created_at"])
    ledger = None if args.without_erasures else _ledger(args.erasures, created_at)
    try:
        verified = extract(args.file, key, target, urls)
    except (BackupFileError, FileExistsError, FileNotFoundError) as exc:
        raise CliError(f"{args.file}: {exc}") from None
    from lifeline.backup import erasures

    urls = {s: u for s, u in urls.items() if s in verified.on_postgres}
    applied = asyncio.run(erasures.replay(target, ledger, urls)) if ledger else None
    data = {
        "data_dir": str(target),
        "created_at": created_at,
        "erasures": None if applied is None else applied.__dict__,
    }
    emit(
        args,
        data,
        lambda: (
            f"Restored the backup of {created_at} into {target}"
            + (
                f"; erased again: {applied.shredded}, withheld from intake's outbox: "
                f"{applied.withheld}"
                if applied
                else "; NO erasure ledger applied"
            )
            + f".\nStart it with `lifeline up --data-dir {target}`."
        ),
    )
    return 0


def run_erasures(args: argparse.Namespace) -> int:
    """Write the ids of every erased report (keep the file with, but apart from, backups)."""
    from sqlalchemy.exc import SQLAlchemyError

    from lifeline.backup import erasures

    urls = configured_urls(os.environ)
    try:
        ledger = erasures.export(database_url("sharing", args.data_dir.resolve(), urls))
    except SQLAlchemyError as exc:
        # The driver's own message may quote data: its type is enough to act on.
        reason = type(getattr(exc, "orig", None) or exc).__name__
        raise CliError(
            f"cannot read sharing's database ({reason}): is --data-dir the network's?",
            Exit.UNREACHABLE,
            code="database_unavailable",
        ) from None
    args.out.write_bytes(ledger.dumps())
    data = {
        "file": str(args.out),
        "erased": len(ledger.report_ids),
        "exported_at": ledger.exported_at.isoformat(),
    }
    emit(args, data, lambda: f"{data['erased']} erased report ids written to {args.out}.")
    return 0
