"""`lifeline report keygen|fetch|reads`: sealed reads opened on this machine, and the read log.

A partner registers an HPKE public key (`keygen`); `fetch` asks sharing to seal a report to it,
checks sharing's Ed25519 signature against a pinned key, and opens it here with the private key,
which never leaves its 0600 file.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

import httpx

from libs.common.auth.scopes import WHOAMI_PATH
from libs.common.crypto import hpke
from libs.common.crypto.encoding import b64u_decode, b64u_encode
from libs.common.crypto.errors import CryptoError, DecryptionFailed
from libs.common.crypto.hpke_keys import (
    HpkePrivateKey,
    HpkeSuite,
    dump_private_key,
    generate_private_key,
    load_private_key,
)
from libs.common.crypto.signing import (
    DELIVERY_PURPOSE,
    VerifyKey,
    load_verify_key,
    sealed_delivery_payload,
    verify,
)
from libs.common.secretfile import SecretFileError, create_private, read_private, write_private
from lifeline.cli.base import CliError, Subparsers
from lifeline.cli.profile import add_profile_option, config_dir, load_profile, profile_path
from lifeline.client import add_passphrase_options, api_error, emit, load_key, run, signed_in, table
from lifeline.pages import walk

DELIVERY_FORMAT = "lifeline-delivery/v1"
SIGNERS_PATH = "/.well-known/lifeline/delivery-signing-keys"
READ_COLUMNS = ["read_at", "reader_partner", "reader_client", "role", "via", "fields"]
_SUITES = {suite.label: suite for suite in HpkeSuite}


def register(group: Subparsers) -> None:
    """Add `keygen`, `fetch` and `reads` to the `report` command group."""
    k = group.add_parser(
        "keygen",
        help="create the HPKE key pair sealed reads are delivered to, and register it",
        description="Create an HPKE key pair (0600 file) and register its public half.",
    )
    k.add_argument("--out", type=Path, help="private key file (default: in the config dir)")
    k.add_argument(
        "--suite",
        choices=sorted(_SUITES),
        default="mlkem768x25519",
        help="mlkem768x25519 (post-quantum hybrid, default) or x25519",
    )
    k.add_argument("--force", action="store_true", help="replace an existing key file")
    k.add_argument("--no-register", action="store_true", help="only create the key file")
    _common(k, run_keygen)

    f = group.add_parser(
        "fetch",
        help="read a report sealed to your key; verify and open it here",
        description="Fetch a report sealed to your HPKE key, verify sharing's signature, open it.",
    )
    f.add_argument("report_id")
    f.add_argument("--hpke-key", type=Path, help="private key file (default: from keygen)")
    f.add_argument(
        "--signer-fingerprint",
        action="append",
        default=[],
        help="trust sharing's signing key with this fingerprint (else the pinned one)",
    )
    _common(f, run_fetch)

    r = group.add_parser("reads", help="who read one of your partner's reports, and what")
    r.add_argument("report_id")
    _common(r, run_reads)


def _common(p: argparse.ArgumentParser, func: Any) -> None:
    add_profile_option(p)
    add_passphrase_options(p)
    p.add_argument("--json", action="store_true", help="print JSON")
    p.set_defaults(func=func)


def default_key_path() -> Path:
    """Where `keygen` puts the delivery key unless told otherwise."""
    return config_dir() / "delivery-hpke-key"


def open_delivery(
    delivery: dict[str, Any],
    key: HpkePrivateKey,
    *,
    recipient_id: str,
    report_id: str,
    trusted: list[VerifyKey],
) -> dict[str, Any]:
    """Verify sharing's signature, then open; the ids are ours, never taken from the answer."""
    try:
        sealed = b64u_decode(str(delivery["sealed"]))
        signature = b64u_decode(str(delivery["signature"]))
        delivery_id = str(delivery["delivery_id"])
    except (KeyError, CryptoError):
        raise DecryptionFailed from None
    payload = sealed_delivery_payload(
        recipient_id=recipient_id, report_id=report_id, delivery_id=delivery_id, sealed=sealed
    )
    verify(trusted, payload, signature, purpose=DELIVERY_PURPOSE)
    info = hpke.delivery_info(
        recipient_id=recipient_id, report_id=report_id, delivery_id=delivery_id
    )
    try:
        inner = json.loads(hpke.open(key, sealed, info))
        got = (inner["format"], inner["recipient"], inner["report_id"], inner["delivery_id"])
        view: dict[str, Any] = inner["view"]
    except (ValueError, KeyError, TypeError):
        raise DecryptionFailed from None
    if got != (DELIVERY_FORMAT, recipient_id, report_id, delivery_id):
        raise DecryptionFailed
    return view


def _client(args: argparse.Namespace) -> tuple[str, str, Any]:
    profile = load_profile(profile_path(args))
    client_id, key_path = profile.require_client()
    return profile.sharing_url.rstrip("/"), client_id, load_key(key_path, args)


def run_keygen(args: argparse.Namespace) -> int:
    """Generate and save the delivery key; register its public half unless --no-register."""
    out: Path = (args.out or default_key_path()).expanduser().resolve()
    key = generate_private_key(_SUITES[args.suite])
    data = dump_private_key(key).encode()
    if args.force:
        write_private(out, data)
    elif not create_private(out, data):
        raise CliError(f"{out} exists: use --force to replace it (sealed reads to it are lost)")
    public = key.public_key
    result: dict[str, Any] = {
        "private_key_path": str(out),
        "suite": key.suite.label,
        "kid": b64u_encode(public.key_id),
        "public_key": public.text,
        "fingerprint": public.fingerprint(),
        "registered": False,
    }
    if not args.no_register:
        sharing, client_id, client_key = _client(args)

        async def register_key() -> None:
            async with signed_in(sharing, client_id, client_key, scopes=["reports:read"]) as (
                http,
                _,
            ):
                resp = await http.post(
                    f"{sharing}/v1/partners/me/hpke-keys", json={"public_key": public.text}
                )
                if resp.status_code != 201:
                    raise api_error(resp)

        run(register_key(), sharing)
        result["registered"] = True
    emit(args, result, lambda: _keygen_human(result))
    return 0


def _keygen_human(data: dict[str, Any]) -> str:
    state = "registered with sharing" if data["registered"] else "not registered (--no-register)"
    return (
        f"Delivery key written to {data['private_key_path']} ({data['suite']}), {state}.\n"
        f"  key id       {data['kid']}\n  fingerprint  {data['fingerprint']}"
    )


def _trusted(
    args: argparse.Namespace, sharing: str, published: list[dict[str, Any]]
) -> list[VerifyKey]:
    """The signing keys to trust: given fingerprints, else the pinned ones, else pin (TOFU)."""
    keys = [load_verify_key(k["public_key"]) for k in published]
    wanted = {"".join(f.split()).lower() for f in args.signer_fingerprint}
    if wanted:
        chosen = [k for k in keys if k.fingerprint().replace(" ", "") in wanted]
        if not chosen:
            raise CliError("sharing publishes no signing key with the given fingerprint")
        return chosen
    pins = config_dir() / "delivery-signers.json"
    try:
        pinned: dict[str, list[str]] = json.loads(read_private(pins))
    except (SecretFileError, ValueError):
        pinned = {}
    if sharing in pinned:
        return [load_verify_key(text) for text in pinned[sharing]]
    pinned[sharing] = [k.text for k in keys]
    write_private(pins, json.dumps(pinned, indent=2).encode())
    fingerprints = ", ".join(k.fingerprint() for k in keys)
    print(f"note: pinned sharing's signing key(s) on first use: {fingerprints}", file=sys.stderr)
    return keys


def run_fetch(args: argparse.Namespace) -> int:
    """Fetch sealed, verify, open, print."""
    key_path = (args.hpke_key or default_key_path()).expanduser()
    try:
        key = load_private_key(read_private(key_path).decode())
    except (SecretFileError, CryptoError, UnicodeDecodeError) as exc:
        raise CliError(f"cannot use the delivery key {key_path}: {exc}") from None
    sharing, client_id, client_key = _client(args)
    kid = b64u_encode(key.key_id)

    async def fetch() -> tuple[dict[str, Any], str, list[VerifyKey]]:
        async with signed_in(sharing, client_id, client_key, scopes=["reports:read"]) as (http, _):
            me = await _ok(http.get(sharing + WHOAMI_PATH))
            signers = await _ok(http.get(sharing + SIGNERS_PATH))
            # Settle whom to trust before asking: a refused signer must not cost a read.
            trusted = _trusted(args, sharing, list(signers["keys"]))
            delivery = await _ok(
                http.get(f"{sharing}/v1/reports/{args.report_id}", params={"sealed_to": kid})
            )
        return delivery, str(me["org"]), trusted

    delivery, org, trusted = run(fetch(), sharing)
    try:
        view = open_delivery(
            delivery, key, recipient_id=org, report_id=args.report_id, trusted=trusted
        )
    except CryptoError as exc:
        raise CliError(f"the delivery does not verify or open: {exc}; nothing was shown") from None
    emit(args, view, lambda: view_human(view))
    return 0


async def _ok(request: Any) -> Any:
    resp: httpx.Response = await request
    if not resp.is_success:
        raise api_error(resp)
    return resp.json()


def view_human(view: dict[str, Any]) -> str:
    """A report view (plain or opened from a sealed delivery) as indented lines."""
    lines = [
        f"report {view['report_id']} from {view['partner_id']} (received {view['received_at']})"
    ]
    lines += [f"  {k}: {json.dumps(v, ensure_ascii=False)}" for k, v in view["report"].items()]
    if view["withheld"]:
        lines.append(f"  withheld by policy: {', '.join(view['withheld'])}")
    return "\n".join(lines)


def run_reads(args: argparse.Namespace) -> int:
    """The read log of one report of the caller's partner."""
    sharing, client_id, client_key = _client(args)

    async def reads() -> list[dict[str, Any]]:
        async with signed_in(sharing, client_id, client_key) as (http, _):
            found, _ = await walk(http, f"{sharing}/v1/reports/{args.report_id}/reads")
            return found

    data = run(reads(), sharing)
    rows = [r | {"fields": " ".join(r["fields"])} for r in data]
    emit(args, data, lambda: table(rows, READ_COLUMNS) if rows else "nobody has read it yet")
    return 0
