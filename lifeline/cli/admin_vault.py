"""`lifeline admin policy ...` and `lifeline admin keys ...`: the vault's policies and keys."""

from __future__ import annotations

import argparse
import asyncio
import json
from collections.abc import Callable, Coroutine
from pathlib import Path
from typing import Any, TypeVar

from lifeline.cli.admin_seize import pending_note
from lifeline.cli.base import CliError, Subparsers
from lifeline.client import Api, as_profile_client, command, emit, table

T = TypeVar("T")
KEK_COLUMNS = ["version", "state", "primary", "data_keys", "created_at"]
SEALING_COLUMNS = ["kid", "state", "created_at", "last_report_at", "fingerprint"]


def register(groups: Subparsers) -> None:
    """Add `admin policy` and `admin keys` to the `admin` command."""
    policy = _group(groups, "policy", "sharing policies: who reads which fields")
    p = command(policy, "show", "print a partner's policies", _policy_show)
    p.add_argument("partner_id")
    p.add_argument("--role", help="only this role's policy (`*` = the partner-wide one)")
    p = command(policy, "set", "replace a policy with a JSON or YAML document", _policy_set)
    p.add_argument("file", type=Path, help="the policy document (its `partner` and `role`)")
    p = command(policy, "diff", "show what setting a document would change", _policy_diff)
    p.add_argument("file", type=Path)
    p = command(policy, "explain", "why a partner can or cannot see a field", _policy_explain)
    p.add_argument("--partner", required=True, help="the reading partner")
    p.add_argument("--report", required=True, help="the report id")
    p.add_argument("--field", required=True, help="e.g. narrative or place.country")
    p.add_argument("--role", help="the reader's role (e.g. lawyer, analyst)")

    keys = _group(groups, "keys", "the vault's keys: KEK versions and intake-sealing keys")
    command(keys, "list", "KEK versions (with data-key counts) and sealing keys", _keys_list)
    p = command(
        keys, "rotate", "stage and promote a new KEK version (or sealing key)", _keys_rotate
    )
    p.add_argument("--stage-only", action="store_true", help="stage the KEK, do not promote")
    p.add_argument("--sealing", action="store_true", help="rotate the intake-sealing key instead")
    p.add_argument(
        "--suite",
        choices=["mlkem768x25519", "x25519"],
        default="mlkem768x25519",
        help="suite of a new sealing key (default: the post-quantum hybrid)",
    )
    p = command(keys, "promote", "make a staged KEK version the primary", _keys_promote)
    p.add_argument("version", type=int, help="the staged KEK version")
    p = command(keys, "rewrap", "rewrap every data key under the primary KEK", _keys_rewrap)
    p.add_argument("--batch", type=int, default=500, help="data keys per transaction")
    p = command(keys, "retire", "destroy an old KEK version (refused while in use)", _keys_retire)
    p.add_argument("target", help="the KEK version (or, with --sealing, the sealing key id)")
    p.add_argument("--sealing", action="store_true", help="retire an old sealing key")


def _group(groups: Subparsers, name: str, what: str) -> Subparsers:
    parser = groups.add_parser(name, help=f"manage {what}", description=f"Manage {what}.")
    return parser.add_subparsers(dest="action", required=True, metavar="ACTION")


def _admin(args: argparse.Namespace, work: Callable[[Api], Coroutine[Any, Any, T]]) -> T:
    """Run `work` against sharing's admin API as the profile's admin client."""
    return as_profile_client(args, work, scopes=["admin"])


def _call(args: argparse.Namespace, method: str, path: str, **kwargs: Any) -> Any:
    return _admin(args, lambda api: api.call(method, path, **kwargs))


def read_document(path: Path) -> Any:
    """A policy document from a JSON file, or YAML (`.yaml`/`.yml`, needs PyYAML)."""
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise CliError(f"cannot read {path}: {exc.strerror}") from None
    if path.suffix.lower() in (".yaml", ".yml"):
        try:
            import yaml
        except ImportError:
            raise CliError("YAML needs PyYAML (pip install pyyaml); or use JSON") from None
        try:
            # safe_load: a policy file must never construct Python objects.
            return yaml.safe_load(text)
        except yaml.YAMLError as exc:
            raise CliError(f"{path} is not valid YAML: {exc}") from None
    try:
        return json.loads(text)
    except ValueError as exc:
        raise CliError(f"{path} is not valid JSON: {exc}") from None


def _partner_of(doc: Any, path: Path) -> str:
    partner = doc.get("partner") if isinstance(doc, dict) else None
    if not isinstance(partner, str) or not partner:
        raise CliError(f"{path} names no partner (the document needs a `partner` key)")
    return partner


def _policy_show(args: argparse.Namespace) -> int:
    params = {"role": args.role} if args.role else {}
    data = _call(args, "GET", f"/v1/admin/policies/{args.partner_id}", params=params)

    def human() -> str:
        if not data["policies"]:
            return f"partner {data['partner']} has no policy: default deny"
        parts = [
            f"# version {p['version']}, set by {p['updated_by']} at {p['updated_at']}\n"
            + json.dumps(p["document"], indent=2)
            for p in data["policies"]
        ]
        return "\n".join(parts)

    emit(args, data, human)
    return 0


def _changes(lines: list[str]) -> str:
    return "\n".join(f"  {line}" for line in lines) if lines else "  (no change)"


def _policy_set(args: argparse.Namespace) -> int:
    doc = read_document(args.file)
    path = f"/v1/admin/policies/{_partner_of(doc, args.file)}"
    data = _call(args, "PUT", path, json=doc)
    if "approval" in data:
        emit(args, data, lambda: pending_note(data["approval"]))
        return 0
    emit(
        args,
        data,
        lambda: f"policy stored (version {data['version']}):\n{_changes(data['changes'])}",
    )
    return 0


def _policy_diff(args: argparse.Namespace) -> int:
    doc = read_document(args.file)
    path = f"/v1/admin/policies/{_partner_of(doc, args.file)}/diff"
    data = _call(args, "POST", path, json=doc)
    emit(args, data, lambda: f"setting {args.file} would change:\n{_changes(data['changes'])}")
    return 0


def _policy_explain(args: argparse.Namespace) -> int:
    params = {"partner": args.partner, "report_id": args.report, "field": args.field}
    if args.role:
        params["role"] = args.role
    data = _call(args, "GET", "/v1/admin/explain", params=params)
    emit(args, data, lambda: "\n".join(data["lines"]))
    return 0


def _keys_list(args: argparse.Namespace) -> int:
    data = _call(args, "GET", "/v1/admin/vault/keys")
    emit(
        args,
        data,
        lambda: (
            "KEK versions\n"
            + table(data["kek"], KEK_COLUMNS)
            + "\n\nIntake-sealing keys\n"
            + table(data["sealing"], SEALING_COLUMNS)
        ),
    )
    return 0


def _keys_rotate(args: argparse.Namespace) -> int:
    if args.sealing:
        data = _call(
            args, "POST", "/v1/admin/vault/sealing-keys/rotate", json={"suite": args.suite}
        )
        emit(
            args,
            data,
            lambda: (
                f"new sealing key {data['kid']} ({args.suite})\n"
                f"  fingerprint {data['fingerprint']}\n"
                "Pin it in intake (LIFELINE_INTAKE_SHARING_HPKE_FINGERPRINTS) before the old one "
                "is retired."
            ),
        )
        return 0
    data = _call(args, "POST", "/v1/admin/vault/kek/rotate", json={"promote": not args.stage_only})
    state = "primary" if data["promoted"] else "staged"
    emit(args, data, lambda: f"KEK version {data['version']} is {state}; now run `keys rewrap`")
    return 0


def _keys_promote(args: argparse.Namespace) -> int:
    data = _call(args, "POST", f"/v1/admin/vault/kek/{args.version}/promote")
    emit(args, data, lambda: f"KEK version {args.version} is primary; now run `keys rewrap`")
    return 0


def _keys_rewrap(args: argparse.Namespace) -> int:
    """Call the rewrap endpoint until nothing is left: resumable, so Ctrl-C is harmless."""

    async def loop(api: Api) -> dict[str, Any]:
        total, idle = 0, 0
        while True:
            step = await api.call(
                "POST", "/v1/admin/vault/kek/rewrap", params={"batch": args.batch, "budget_s": 10}
            )
            total += step["rewrapped"]
            idle = 0 if step["rewrapped"] else idle + 1
            # Done, or only rows that cannot move are left (tampered ones, or rows another
            # replica is working on right now: give it a moment before giving up).
            if step["remaining"] == 0 or step["failed"] or idle >= 3:
                return dict(step, rewrapped=total)
            if idle:
                await asyncio.sleep(0.5)

    data = _admin(args, loop)
    emit(
        args,
        data,
        lambda: (
            f"rewrapped {data['rewrapped']} data keys under KEK version {data['primary']}; "
            f"{data['remaining']} left, {data['failed']} failed"
        ),
    )
    return 1 if data["failed"] else 0


def _keys_retire(args: argparse.Namespace) -> int:
    if args.sealing:
        data = _call(args, "POST", f"/v1/admin/vault/sealing-keys/{args.target}/retire")
        emit(args, data, lambda: f"sealing key {data['kid']} retired")
        return 0
    if not args.target.isdigit():
        raise CliError("a KEK version is a number (see `lifeline admin keys list`)")
    data = _call(args, "POST", f"/v1/admin/vault/kek/{int(args.target)}/retire")
    emit(args, data, lambda: f"KEK version {data['version']} retired (its material is destroyed)")
    return 0
