"""`lifeline admin enrol|enrolments`, `admin key confirm`, `admin partner contact`."""

from __future__ import annotations

import argparse
import io
from collections.abc import Mapping
from typing import Any

import segno

from lifeline.cli.admin_seize import pending_note
from lifeline.cli.base import Subparsers
from lifeline.client import as_profile_client, command, emit, table
from lifeline.pages import every_item

ENROLMENT_COLUMNS = ["id", "status", "expires_at", "kid", "created_by"]
KEY_COLUMNS = ["kid", "client_id", "status", "usable", "device_name", "fingerprint"]


def register(groups: Subparsers, actions: Mapping[str, Subparsers]) -> None:
    """Add the enrolment commands to `lifeline admin` and its `key`/`partner` groups."""
    p = command(groups, "enrol", "make a one-time enrolment code for a client's device", _enrol)
    p.add_argument("client_id")
    p.add_argument("--no-qr", action="store_true", help="print the link without its QR code")
    p = command(groups, "enrolments", "list a client's enrolment codes (or cancel one)", _list)
    p.add_argument("client_id")
    p.add_argument("--cancel", metavar="ENROLMENT_ID", help="cancel this unused code")
    p = command(actions["key"], "confirm", "confirm an enrolled device's key", _confirm)
    p.add_argument("kid")
    p.add_argument(
        "--fingerprint", required=True, help="the fingerprint the device shows (read it there)"
    )
    p = command(
        actions["partner"], "contact", "set the partner's contact line for lawyers", _contact
    )
    p.add_argument("partner_id")
    p.add_argument("line", help='one line of plain text ("" clears it)')


def _call(args: argparse.Namespace, method: str, path: str, **kwargs: Any) -> Any:
    return as_profile_client(args, lambda api: api.call(method, path, **kwargs))


def _enrol(args: argparse.Namespace) -> int:
    data = _call(args, "POST", f"/v1/admin/clients/{args.client_id}/enrolments")
    emit(args, data, lambda: _issued(data, qr=not args.no_qr))
    return 0


def qr_text(link: str) -> str:
    """The link as a QR code drawn with block characters, for a phone's camera."""
    out = io.StringIO()
    # Medium error correction: still readable from a photo of a screen at an angle.
    segno.make(link, error="m").terminal(out=out, compact=True, border=2)
    return out.getvalue().rstrip("\n")


def _issued(data: dict[str, Any], *, qr: bool) -> str:
    return "\n".join(
        [
            f"Enrolment {data['id']} for {data['client_id']}, "
            f"usable once until {data['expires_at']}.",
            "",
            "Open this link on the device, or scan the code (shown only now):",
            f"  {data['link']}",
            *([qr_text(data["link"])] if qr else []),
            "or, on a device without a browser:",
            f"  lifeline enrol --code {data['code']} --sharing-url URL",
            "",
            "The device then shows a fingerprint; confirm it with",
            "  lifeline admin key confirm KID --fingerprint '…'",
        ]
    )


def _list(args: argparse.Namespace) -> int:
    path = f"/v1/admin/clients/{args.client_id}/enrolments"
    if args.cancel:
        data = _call(args, "DELETE", f"{path}/{args.cancel}")
        emit(args, data, lambda: table([data], ENROLMENT_COLUMNS))
        return 0
    rows = as_profile_client(args, lambda api: every_item(api, path))
    emit(args, rows, lambda: table(rows, ENROLMENT_COLUMNS))
    return 0


def _confirm(args: argparse.Namespace) -> int:
    body = {"fingerprint": args.fingerprint}
    data = _call(args, "POST", f"/v1/admin/keys/{args.kid}/confirm", json=body)
    if "approval" in data:
        emit(args, data, lambda: pending_note(data["approval"]))
        return 0
    emit(args, data, lambda: table([data], KEY_COLUMNS))
    return 0


def _contact(args: argparse.Namespace) -> int:
    body = {"lawyer_contact": args.line or None}
    data = _call(args, "PUT", f"/v1/admin/partners/{args.partner_id}/contact", json=body)
    emit(args, data, lambda: table([data], ["id", "name", "lawyer_contact"]))
    return 0
