"""`lifeline report`: write a report file, submit it (names tokenised locally), follow receipts."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

from libs.common.reports.fields import CATALOGUE
from libs.sdk.readers import READERS
from libs.sdk.report_files import CSV_COLUMNS, Draft, Rejection, detect_format, parse_file
from libs.sdk.retry import Backoff
from libs.sdk.submit import Outcome, StateFile, submit_drafts
from lifeline.cli import report_export, report_manage, report_read, report_release
from lifeline.cli.base import CliError, ProgressBar, Subparsers
from lifeline.cli.exits import Exit, for_batch, for_exception
from lifeline.cli.profile import Profile, add_profile_option, load_profile, profile_path
from lifeline.client import add_passphrase_options, emit, load_key, run, signed_in

# The catalogue's examples, with a person instead of a subject: names stay on this machine.
EXAMPLE: dict[str, Any] = {
    **{k: v for k, v in CATALOGUE.example().items() if k != "subject"},
    "person": {"name": "SKORIAKIN LEV", "dob": "14.03.1999", "sex": "male"},
}


def register(sub: Subparsers) -> None:
    """Add the `report` command group."""
    p = sub.add_parser("report", help="write, submit and follow incident reports")
    group = p.add_subparsers(dest="action", required=True, metavar="ACTION")
    report_read.register(group)
    report_manage.register(group)
    report_release.register(group)
    report_export.register(group)

    t = group.add_parser(
        "template",
        help="print an example report file (field help goes to stderr)",
        description="Print an example file on stdout and what every field means on stderr.",
    )
    t.add_argument("--format", choices=["json", "jsonl", "csv"], default="json")
    t.add_argument(
        "--json", action="store_true", help='print {"columns": {name: meaning}, "example"}'
    )
    t.set_defaults(func=run_template)

    s = group.add_parser(
        "submit",
        help="submit reports from a JSON, JSON Lines, CSV, XLSX or ODS file",
        description=(
            "Validate every row, turn each person's name and date of birth into identity tokens "
            "on this machine (the name is never sent), and submit. Re-running after an "
            "interruption submits nothing twice (a state file remembers what was delivered)."
        ),
    )
    s.add_argument("file", type=Path, help="the report file")
    s.add_argument("--format", choices=list(READERS), help="default: from the file name")
    s.add_argument(
        "--encoding",
        help="the text encoding of a CSV or JSON file (e.g. cp1251); default: detected",
    )
    s.add_argument(
        "--follows",
        metavar="REPORT_ID",
        help="follow up this earlier report of yours: rows that name no `follows` of their own "
        "update it (give their `status`; the person may be left out)",
    )
    s.add_argument("--dry-run", action="store_true", help="validate only; send nothing")
    s.add_argument("--state-file", type=Path, help="default: FILE.lifeline-state.jsonl")
    s.add_argument("--concurrency", type=int, default=8, help="parallel submissions (default 8)")
    s.add_argument(
        "--retry-for",
        type=float,
        default=Backoff.budget_s,
        metavar="SECONDS",
        help="keep retrying a report the service cannot take yet for this long (default 120); "
        "what is still not delivered is listed as failed",
    )
    s.add_argument("--json", action="store_true", help="print the summary as JSON")
    add_profile_option(s)
    add_passphrase_options(s)
    s.set_defaults(func=run_submit)

    r = group.add_parser("receipt", help="how far a report got: received, published, stored")
    r.add_argument("report_id")
    r.add_argument("--json", action="store_true", help="print JSON")
    add_profile_option(r)
    add_passphrase_options(r)
    r.set_defaults(func=run_receipt)


def run_template(args: argparse.Namespace) -> int:
    """Example on stdout, explanations on stderr: `> reports.json` gives a valid file."""
    if getattr(args, "json", False):
        print(json.dumps({"columns": dict(CSV_COLUMNS), "example": EXAMPLE}, indent=2))
        return 0
    for name, meaning in CSV_COLUMNS:
        print(f"# {name:<21} {meaning}", file=sys.stderr)
    print("# in JSON, place.* and person.* are nested objects; charges a list", file=sys.stderr)
    if args.format == "csv":
        row = _example_csv_row()
        print(",".join(name for name, _ in CSV_COLUMNS))
        print(",".join(_csv_cell(row[name]) for name, _ in CSV_COLUMNS))
    elif args.format == "jsonl":
        print(json.dumps(EXAMPLE, ensure_ascii=False))
    else:
        print(json.dumps([EXAMPLE], indent=2, ensure_ascii=False))
    return 0


def run_submit(args: argparse.Namespace) -> int:
    """Parse, validate, tokenise locally, submit; a summary of accepted and rejected rows."""
    try:
        data = args.file.read_bytes()
    except OSError as exc:
        raise CliError(f"cannot read {args.file}: {exc.strerror}", for_exception(exc)) from None
    fmt = args.format or detect_format(args.file.name)
    parsed = parse_file(data, fmt, args.follows, encoding=args.encoding)
    drafts, rejected = parsed.drafts, parsed.rejected
    read_as = {"format": fmt, **parsed.detected}
    if args.dry_run:
        summary = _summary(Outcome(rejected=rejected), drafts, dry_run=True) | {"read_as": read_as}
        emit(args, summary, lambda: _human(summary))
        return for_batch(delivered=len(drafts), rejected=len(rejected), failed=0)
    profile = load_profile(profile_path(args))
    if not profile.intake_url:
        raise CliError("the profile has no intake URL: run `lifeline profile set --intake-url ...`")
    client_id, key_path = profile.require_client()
    key = load_key(key_path, args)
    state = StateFile(
        args.state_file or args.file.with_name(args.file.name + ".lifeline-state.jsonl")
    )
    outcome = run(
        _submit(
            profile,
            client_id,
            key,
            drafts,
            state,
            concurrency=args.concurrency,
            backoff=Backoff(budget_s=args.retry_for),
        ),
        profile.sharing_url,
    )
    outcome.rejected[:0] = rejected
    summary = _summary(outcome, drafts, dry_run=False) | {"read_as": read_as}
    emit(args, summary, lambda: _human(summary))
    delivered = len(outcome.accepted) + len(outcome.duplicates) + len(outcome.skipped)
    return for_batch(
        delivered=delivered, rejected=len(outcome.rejected), failed=len(outcome.failed)
    )


async def _submit(
    profile: Profile,
    client_id: str,
    key: Any,
    drafts: list[Draft],
    state: StateFile,
    *,
    concurrency: int,
    backoff: Backoff | None = None,
) -> Outcome:
    async with signed_in(profile.sharing_url, client_id, key, scopes=["reports:submit"]) as (
        http,
        _,
    ):
        http.base_url = profile.sharing_url
        bar = ProgressBar(len(drafts))
        try:
            return await submit_drafts(
                http,
                profile.intake_url,
                drafts,
                state,
                concurrency=concurrency,
                backoff=backoff,
                progress=lambda outcome, _total: bar.update(outcome.done()),
            )
        finally:
            bar.close()


def run_receipt(args: argparse.Namespace) -> int:
    """Show one receipt."""
    profile = load_profile(profile_path(args))
    client_id, key_path = profile.require_client()
    key = load_key(key_path, args)

    async def fetch() -> dict[str, Any]:
        async with signed_in(profile.sharing_url, client_id, key, scopes=["reports:submit"]) as (
            http,
            _,
        ):
            resp = await http.get(
                f"{profile.intake_url.rstrip('/')}/v1/reports/{args.report_id}/receipt"
            )
            if resp.status_code == 404:
                raise CliError("no such report of your partner", Exit.NOT_FOUND, code="not_found")
            resp.raise_for_status()
            data: dict[str, Any] = resp.json()
            return data

    data = run(fetch(), profile.sharing_url)
    emit(
        args,
        data,
        lambda: f"{data['report_id']}  {data['status']}  (received {data['received_at']})",
    )
    return 0


def _summary(outcome: Outcome, drafts: list[Draft], *, dry_run: bool) -> dict[str, Any]:
    def rows(items: list[Rejection]) -> list[dict[str, Any]]:
        return [
            {"row": r.row, "client_report_id": r.client_report_id, "reasons": list(r.reasons)}
            for r in items
        ]

    return {
        "dry_run": dry_run,
        "valid": len(drafts),
        "accepted": len(outcome.accepted),
        "duplicates": len(outcome.duplicates),
        "skipped": len(outcome.skipped),
        "rejected": rows(outcome.rejected),
        "failed": rows(outcome.failed),
        "reports": [
            {"client_report_id": c, "report_id": r}
            for c, r in outcome.accepted + outcome.duplicates
        ],
    }


def _human(summary: dict[str, Any]) -> str:
    head = (
        f"{summary['valid']} valid rows, {len(summary['rejected'])} rejected"
        " (dry run: nothing sent)"
        if summary["dry_run"]
        else f"accepted {summary['accepted']}, already there {summary['duplicates']}, "
        f"skipped (earlier run) {summary['skipped']}, rejected {len(summary['rejected'])}, "
        f"not delivered {len(summary['failed'])}"
    )
    lines = [head]
    if "read_as" in summary:
        lines.append("  read as " + ", ".join(_shown(k, v) for k, v in summary["read_as"].items()))
    # The ids that `receipt`, grants, erasure and `--follows` take.
    lines += [f"  {r['client_report_id']} -> {r['report_id']}" for r in summary["reports"]]
    for r in summary["rejected"] + summary["failed"]:
        lines.append(
            f"  row {r['row']} ({r['client_report_id'] or 'no id'}): {'; '.join(r['reasons'])}"
        )
    return "\n".join(lines)


def _shown(key: str, value: str) -> str:
    return f"{key} {value!r}" if key == "delimiter" else f"{key} {value}"


def _example_csv_row() -> dict[str, str]:
    person = EXAMPLE["person"]
    return {
        **CATALOGUE.example_csv_row(),
        "person_name": person["name"],
        "person_dob": person["dob"],
        "person_sex": person["sex"],
    }


def _csv_cell(value: str) -> str:
    return '"' + value.replace('"', '""') + '"' if any(c in value for c in ',"\n') else value
