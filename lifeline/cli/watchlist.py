"""`lifeline watchlist`: a lawyer's clients; names are tokenised here and never leave the laptop."""

from __future__ import annotations

import argparse
import asyncio
import csv
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from libs.common.errors import InvalidInput
from libs.common.identity.canonical import canonical_keys
from libs.common.reports import IncidentType, LegalBasis
from libs.sdk.identity import tokenise_identities
from lifeline.cli import watchlist_suppressions
from lifeline.cli.base import CliError, ProgressBar, Subparsers
from lifeline.cli.exits import Exit, for_batch
from lifeline.cli.lawyer import all_entries, lawyer_api, leaf, preload_key
from lifeline.cli.profile import load_profile, profile_path
from lifeline.client import (
    Api,
    api_error,
    emit,
    run,
    table,
)

ENTRY_COLUMNS = ["id", "label", "token_count", "incident_types", "countries", "created_at"]
CHUNK = 100  # identities per tokenisation round trip


def register(sub: Subparsers) -> None:
    """Add `lifeline watchlist add|import|list|remove|suppressions|lift`."""
    p = sub.add_parser(
        "watchlist", help="your clients: add (tokenised locally), import, list, remove"
    )
    actions = p.add_subparsers(dest="action", required=True, metavar="ACTION")
    add = leaf(actions, "add", "add a client (name and date of birth are tokenised locally)", _add)
    add.add_argument("--name", required=True, help="the client's name in any script or order")
    add.add_argument("--dob", help="date of birth: YYYY-MM-DD, DD.MM.YYYY or YYYY")
    add.add_argument("--label", required=True, help="your own label, e.g. 'client 12' (not a name)")
    _rule_options(add)
    add.add_argument("--replace", action="store_true", help="overwrite an entry with this label")
    imp = leaf(
        actions, "import", "add clients from a CSV file (label,name,dob); re-runs are safe", _import
    )
    imp.add_argument(
        "file",
        type=Path,
        help="CSV with a header: label,name,dob[,incident_types,legal_bases,countries]",
    )
    imp.add_argument(
        "--update", action="store_true", help="overwrite entries whose label exists with other data"
    )
    imp.add_argument("--concurrency", type=int, default=8, help="parallel requests (default 8)")
    leaf(actions, "list", "list your entries (labels only: the server has no names)", _list)
    rm = leaf(actions, "remove", "remove an entry: it never matches again", _remove)
    rm.add_argument("entry", help="the entry's id or label")
    watchlist_suppressions.register(actions)


def _rule_options(p: argparse.ArgumentParser) -> None:
    p.add_argument("--incident-type", action="append", choices=[t.value for t in IncidentType],
                   help="alert on this incident type (repeat; default: detention, extradition "
                        "request/decision, deportation, abduction)")  # fmt: skip
    p.add_argument("--legal-basis", action="append", choices=[b.value for b in LegalBasis],
                   help="only on this legal basis (repeat; default: any)")  # fmt: skip
    p.add_argument(
        "--country", action="append", help="only in this country, ISO code (repeat; default: any)"
    )


def rule_of(
    incident_types: list[str] | None, legal_bases: list[str] | None, countries: list[str] | None
) -> dict[str, Any] | None:
    """The API rule body, or None for the default rule."""
    if not (incident_types or legal_bases or countries):
        return None
    rule: dict[str, Any] = {
        "legal_bases": legal_bases or [],
        "countries": [c.upper() for c in countries or []],
    }
    if incident_types:
        rule["incident_types"] = incident_types
    return rule


def _check_identity(name: str, dob: str | None) -> str | None:
    """Why (name, dob) cannot be tokenised, checked locally; None if it can."""
    if not name.strip():
        return "name is empty"
    try:
        canonical_keys(name, dob or None)
    except InvalidInput as exc:
        return exc.detail
    return None


def _add(args: argparse.Namespace) -> int:
    problem = _check_identity(args.name, args.dob)
    if problem:
        raise CliError(problem)
    preload_key(args)
    body_rule = rule_of(args.incident_type, args.legal_basis, args.country)

    async def go() -> Any:
        async with lawyer_api(args, ["watchlist:manage"]) as (api, http):
            (tokens,) = await tokenise_identities(http, [(args.name, args.dob or None)])
            body: dict[str, Any] = {
                "label": args.label,
                "tokens": [t.model_dump() for t in tokens],
                "replace": args.replace,
            }
            if body_rule:
                body["rule"] = body_rule
            return await api.call("POST", "/v1/watchlist/entries", json=body)

    data = run(go(), load_profile(profile_path(args)).sharing_url)
    emit(
        args,
        data,
        lambda: f"{data['status']}: {data['label']} ({data['id']}, {data['token_count']} tokens)",
    )
    return 0


@dataclass
class Row:
    """One CSV row, validated locally."""

    line: int
    label: str
    name: str
    dob: str | None
    rule: dict[str, Any] | None


@dataclass
class ImportOutcome:
    """What an import did, by label."""

    created: list[str] = field(default_factory=list)
    unchanged: list[str] = field(default_factory=list)
    replaced: list[str] = field(default_factory=list)
    conflicts: list[str] = field(default_factory=list)
    rejected: list[dict[str, Any]] = field(default_factory=list)

    def done(self) -> int:
        """Rows finished so far."""
        return sum(
            len(x)
            for x in (self.created, self.unchanged, self.replaced, self.conflicts, self.rejected)
        )


def read_rows(path: Path) -> tuple[list[Row], list[dict[str, Any]]]:
    """Valid rows and rejections (with the line and why; never the name)."""
    try:
        text = path.read_text(encoding="utf-8-sig")
    except OSError as exc:
        raise CliError(f"cannot read {path}: {exc.strerror}") from None
    reader = csv.DictReader(text.splitlines())
    if not reader.fieldnames or not {"label", "name"} <= set(reader.fieldnames):
        raise CliError("the CSV needs a header with at least: label,name,dob")
    rows, rejected, seen = [], [], set()
    for line, raw in enumerate(reader, start=2):
        label, name = (raw.get("label") or "").strip(), raw.get("name") or ""
        dob = (raw.get("dob") or "").strip() or None
        problem = "label is empty" if not label else _check_identity(name, dob)
        problem = problem or ("label repeated in the file" if label in seen else None)
        if problem:
            rejected.append({"line": line, "label": label, "reason": problem})
            continue
        seen.add(label)
        split = [
            [v.strip() for v in (raw.get(k) or "").split(";") if v.strip()]
            for k in ("incident_types", "legal_bases", "countries")
        ]
        rows.append(Row(line, label, name, dob, rule_of(*split)))
    return rows, rejected


def _import(args: argparse.Namespace) -> int:
    rows, rejected = read_rows(args.file)
    preload_key(args)
    outcome = ImportOutcome(rejected=rejected)
    bar = ProgressBar(len(rows) + len(rejected))

    async def one(api: Api, row: Row, tokens: list[Any], gate: asyncio.Semaphore) -> None:
        body: dict[str, Any] = {
            "label": row.label,
            "tokens": [t.model_dump() for t in tokens],
            "replace": args.update,
        }
        if row.rule:
            body["rule"] = row.rule
        async with gate:
            resp = await api.http.post(api.base_url + "/v1/watchlist/entries", json=body)
        if resp.status_code == 409:
            outcome.conflicts.append(row.label)
        elif resp.is_success:
            getattr(outcome, resp.json()["status"]).append(row.label)
        else:
            outcome.rejected.append(
                {"line": row.line, "label": row.label, "reason": str(api_error(resp))}
            )
        bar.update(outcome.done())

    async def go() -> None:
        gate = asyncio.Semaphore(max(1, args.concurrency))
        async with lawyer_api(args, ["watchlist:manage"]) as (api, http):
            for start in range(0, len(rows), CHUNK):
                chunk = rows[start : start + CHUNK]
                token_lists = await tokenise_identities(http, [(r.name, r.dob) for r in chunk])
                await asyncio.gather(
                    *(one(api, r, t, gate) for r, t in zip(chunk, token_lists, strict=True))
                )

    try:
        run(go(), load_profile(profile_path(args)).sharing_url)
    finally:
        bar.close()
    summary = {k: v for k, v in vars(outcome).items()}
    emit(args, summary, lambda: _import_human(outcome))
    delivered = len(outcome.created) + len(outcome.unchanged) + len(outcome.replaced)
    return for_batch(
        delivered=delivered, rejected=len(outcome.rejected) + len(outcome.conflicts), failed=0
    )


def _import_human(o: ImportOutcome) -> str:
    lines = [
        f"created {len(o.created)}, unchanged {len(o.unchanged)}, replaced {len(o.replaced)}, "
        f"conflicts {len(o.conflicts)}, rejected {len(o.rejected)}"
    ]
    lines += [
        f"  conflict: {label} exists with other data (use --update to overwrite)"
        for label in o.conflicts
    ]
    lines += [f"  line {r['line']} ({r['label'] or 'no label'}): {r['reason']}" for r in o.rejected]
    return "\n".join(lines)


def _flat(entry: dict[str, Any]) -> dict[str, Any]:
    rule = entry["rule"]
    return {
        **entry,
        "incident_types": ",".join(rule["incident_types"]),
        "countries": ",".join(rule["countries"]) or "any",
    }


def _list(args: argparse.Namespace) -> int:
    entries = all_entries(args)
    emit(args, entries, lambda: table([_flat(e) for e in entries], ENTRY_COLUMNS))
    return 0


def _remove(args: argparse.Namespace) -> int:
    entries = all_entries(args)
    matches = [e for e in entries if args.entry in (e["id"], e["label"])]
    if not matches:
        raise CliError(
            f"no entry with id or label {args.entry!r}", Exit.NOT_FOUND, code="not_found"
        )
    entry = matches[0]
    _delete(args, entry["id"])
    emit(
        args,
        {"removed": entry["id"], "label": entry["label"]},
        lambda: f"removed: {entry['label']} ({entry['id']})",
    )
    return 0


def _delete(args: argparse.Namespace, entry_id: str) -> None:
    async def go() -> None:
        async with lawyer_api(args, ["watchlist:manage"]) as (api, _):
            resp = await api.http.delete(f"{api.base_url}/v1/watchlist/entries/{entry_id}")
            if resp.status_code != 204:
                raise api_error(resp)

    run(go(), load_profile(profile_path(args)).sharing_url)
