"""`lifeline report export`: the reports you may read, as CSV, a STIX 2.1 bundle or MISP events."""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path
from typing import Any

from lifeline.cli.base import CliError, Subparsers
from lifeline.cli.profile import add_profile_option, load_profile, profile_path
from lifeline.client import add_passphrase_options, api_error, emit, load_key, run, signed_in

EXPORT_PATH = "/v1/exports/reports"
FORMATS = ("csv", "stix", "misp")
# Every report in an export is decrypted and audited on the way: a large one takes a while.
TIMEOUT_S = 300.0


def register(group: Subparsers) -> None:
    """Add `export` to the `report` command group."""
    e = group.add_parser(
        "export",
        help="export the reports you may read: CSV, STIX 2.1 or MISP",
        description=(
            "Export the reports your policy lets you read, with only the fields it releases and "
            "never identity tokens: CSV, a STIX 2.1 bundle (TLP 2.0 markings) or MISP events "
            "(tlp: tags). Every report exported is recorded in its read log."
        ),
    )
    e.add_argument("--format", choices=FORMATS, required=True)
    e.add_argument("--out", type=Path, help="write here (created 0600); default: stdout")
    e.add_argument("--country", help="only reports from this country (ISO alpha-2)")
    e.add_argument("--incident-type", help="only this incident type")
    e.add_argument("--legal-basis", help="only this legal basis")
    e.add_argument("--occurred-from", metavar="YYYY-MM-DD")
    e.add_argument("--occurred-to", metavar="YYYY-MM-DD")
    e.add_argument("--limit", type=int, help="at most this many reports (default: the server's)")
    add_profile_option(e)
    add_passphrase_options(e)
    # The export itself is the result on stdout; --json shapes the summary (with --out) and errors.
    e.add_argument("--json", action="store_true", help="print the summary and errors as JSON")
    e.set_defaults(func=run_export)


def _params(args: argparse.Namespace) -> dict[str, Any]:
    wanted = {
        "format": args.format,
        "country": args.country,
        "incident_type": args.incident_type,
        "legal_basis": args.legal_basis,
        "occurred_from": args.occurred_from,
        "occurred_to": args.occurred_to,
        "limit": args.limit,
    }
    return {k: v for k, v in wanted.items() if v is not None}


def run_export(args: argparse.Namespace) -> int:
    """Fetch the export and write it to --out (or stdout)."""
    profile = load_profile(profile_path(args))
    client_id, key_path = profile.require_client()
    key = load_key(key_path, args)
    sharing = profile.sharing_url.rstrip("/")

    async def fetch() -> bytes:
        async with signed_in(sharing, client_id, key, scopes=["reports:read"]) as (http, _):
            resp = await http.get(sharing + EXPORT_PATH, params=_params(args), timeout=TIMEOUT_S)
            if resp.status_code != 200:
                raise api_error(resp)
            return resp.content

    body = run(fetch(), sharing)
    if args.out is None:
        sys.stdout.buffer.write(body)
        sys.stdout.buffer.flush()
        return 0
    _write_private(args.out, body)
    summary = {"format": args.format, "bytes": len(body), "out": str(args.out)}
    emit(args, summary, lambda: f"wrote {len(body)} bytes of {args.format} to {args.out}")
    return 0


def _write_private(path: Path, data: bytes) -> None:
    """Report content is sensitive: the file is readable by its owner only."""
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "wb") as out:
            out.write(data)
    except OSError as exc:
        raise CliError(f"cannot write {path}: {exc.strerror}") from None
