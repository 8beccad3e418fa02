"""`lifeline admin audit ...`: read the audit log, recompute its chain, keep signed checkpoints."""

from __future__ import annotations

import argparse
import json
from pathlib import Path
from typing import Any

from libs.common.auth.audit import verify_chain
from libs.common.auth.checkpoint import FAILURES, SignedCheckpoint, extends, prefix_matches
from libs.common.errors import LifelineError
from libs.common.secretfile import write_private
from lifeline.cli.base import CliError, Subparsers
from lifeline.client import Api, as_profile_client, command, emit, table
from lifeline.pages import add_paging_options, every_item, note_more, walk

AUDIT_COLUMNS = ["seq", "at", "actor", "action", "target"]
CHECKPOINT_PATH = "/v1/audit/checkpoint"


def register(groups: Subparsers) -> None:
    """Add `admin audit list|verify|checkpoint` to the `admin` command."""
    parser = groups.add_parser(
        "audit", help="manage the audit log", description="The audit log and its checkpoints."
    )
    audit = parser.add_subparsers(dest="action", required=True, metavar="ACTION")
    p = command(audit, "list", "print audit entries", _list)
    add_paging_options(p, 50)
    p.add_argument("--after", type=int, help="entries after this seq (deprecated: --cursor)")
    p = command(audit, "verify", "recompute the hash chain; exit 1 if broken", _verify)
    p.add_argument(
        "--against", type=Path, metavar="FILE", help="also check the log against a kept checkpoint"
    )
    p = command(audit, "checkpoint", "fetch and check the signed checkpoint; keep it", _checkpoint)
    p.add_argument(
        "--save", type=Path, metavar="FILE", help="check it extends the one kept here; replace it"
    )
    p.add_argument("--expect-fingerprint", help="the audit key's fingerprint (first save)")


def _list(args: argparse.Namespace) -> int:
    params = {"after": args.after, "limit": args.limit, "cursor": args.cursor}
    url = "/v1/admin/audit"
    rows, more = as_profile_client(
        args,
        lambda api: walk(api.http, api.base_url + url, params, key="entries", every=args.all),
        scopes=["admin"],
    )
    emit(args, rows, lambda: table(rows, AUDIT_COLUMNS))
    note_more(more)
    return 0


def _verify(args: argparse.Namespace) -> int:
    """Fetch every entry and recompute the chain here: the server's own verdict is not trusted."""
    kept = _load(args.against) if args.against else None

    async def fetch(api: Api) -> tuple[list[dict[str, Any]], SignedCheckpoint | None, str | None]:
        entries = await every_item(api, "/v1/admin/audit", {"limit": 1000}, key="entries")
        if kept is None:
            return entries, None, None
        latest, failure = await _witness(api, kept)
        return entries, latest, failure

    entries, latest, failure = as_profile_client(args, fetch, scopes=["admin"])
    result = verify_chain(entries)
    broken = result.broken
    data: dict[str, Any] = {
        "ok": result.ok,
        "checked": result.checked,
        "head": result.head,
        "broken_seq": None if broken is None else broken.seq,
        "reason": None if broken is None else broken.reason,
    }
    if kept is not None:
        # Recomputed from the entries themselves, and the server's signed word checked too.
        failure = prefix_matches(kept.checkpoint, [e["hash"] for e in entries]) or failure
        data["against"] = {
            "size": kept.checkpoint.size,
            "ok": failure is None,
            "reason": failure,
            "latest_size": None if latest is None else latest.checkpoint.size,
        }
        data["ok"] = data["ok"] and failure is None
    if broken is not None:
        emit(args, data, broken.describe)
        return 1
    if failure is not None:
        emit(args, data, lambda: f"audit log fails the kept checkpoint: {FAILURES[failure]}")
        return 1
    against = "" if kept is None else f"; it extends the kept checkpoint of {kept.checkpoint.size}"
    emit(args, data, lambda: f"audit chain intact: {result.checked} entries{against}")
    return 0


def _checkpoint(args: argparse.Namespace) -> int:
    """Fetch the latest checkpoint, check it extends the kept one, and keep it instead."""
    kept = _load(args.save) if args.save and args.save.exists() else None

    async def fetch(api: Api) -> tuple[SignedCheckpoint, str | None]:
        if kept is None:
            return _parse(await api.call("GET", CHECKPOINT_PATH)), None
        return await _witness(api, kept)

    latest, failure = as_profile_client(args, fetch)
    fingerprint = latest.key.fingerprint()
    expected = "".join((args.expect_fingerprint or "").split()).lower()
    if expected and expected != fingerprint.replace(" ", ""):
        raise CliError("the audit key's fingerprint differs from the expected one: not kept")
    data = {**latest.to_json(), "ok": failure is None, "reason": failure}
    if failure is not None:
        # The kept file stays as it was: it is the evidence.
        emit(args, data, lambda: f"checkpoint refused: {FAILURES[failure]}")
        return 1
    if args.save:
        write_private(args.save, json.dumps(latest.to_json(), indent=2).encode())
    cp = latest.checkpoint
    emit(args, data, lambda: f"checkpoint: {cp.size} entries, root {cp.root_hash.hex()}, "
         f"{cp.time}\naudit key fingerprint: {fingerprint}")  # fmt: skip
    return 0


async def _witness(api: Api, kept: SignedCheckpoint) -> tuple[SignedCheckpoint, str | None]:
    """The latest checkpoint, and why it does not extend `kept` (None if it does)."""
    latest = _parse(await api.call("GET", CHECKPOINT_PATH))
    first, second = kept.checkpoint.size, latest.checkpoint.size
    proof: list[bytes] = []
    if first < second:
        answer = await api.call(
            "GET", "/v1/audit/consistency", params={"first": first, "second": second}
        )
        proof = [bytes.fromhex(h) for h in answer["proof"]]
    return latest, extends(kept, latest, proof)


def _parse(doc: Any) -> SignedCheckpoint:
    try:
        return SignedCheckpoint.from_json(doc)
    except LifelineError:
        raise CliError("sharing's checkpoint does not verify under the key it names") from None


def _load(path: Path) -> SignedCheckpoint:
    try:
        return SignedCheckpoint.from_json(json.loads(path.read_text()))
    except OSError as exc:
        raise CliError(f"cannot read {path}: {exc.strerror}") from None
    except (ValueError, LifelineError):
        raise CliError(f"{path} is not a kept checkpoint whose signature holds") from None
