"""Pure helpers of the read side: who reads (role), what a response shows, the sync cursor."""

from __future__ import annotations

import re
from datetime import date
from typing import Any

from libs.common.auth.principal import Principal
from libs.common.auth.scopes import Scope
from libs.common.crypto.encoding import JSONValue, b64u_decode, b64u_encode
from libs.common.crypto.errors import InvalidKey
from libs.common.errors import InvalidInput
from libs.common.reports import IncidentType, LegalBasis
from services.sharing.policy import FIELDS, Decision, Reader, ReportMeta
from services.sharing.repository_vault import Search, as_utc, from_us
from services.sharing.vault_crypto import nest

# Clients that act for lawyers (watchlists, alerts) read under the `lawyer` role; the registry
# has no role of its own yet, so the scopes an administrator gave the client decide.
_LAWYER_SCOPES = frozenset({Scope.WATCHLIST_MANAGE, Scope.ALERTS_READ, Scope.ALERTS_ACK})
# A filter on a field the reader may not see would reveal that field's value by which reports
# come back, so each filter only matches reports where its field is visible.
_SEARCH_FIELDS = (
    ("country", "place.country"),
    ("incident_type", "incident_type"),
    ("legal_basis", "legal_basis"),
    ("occurred_from", "occurred_at"),
    ("occurred_to", "occurred_at"),
)
_CURSOR = re.compile(r"v1:([0-9]{1,19}):([A-Za-z0-9-]{0,36})")


def role_of(principal: Principal) -> str:
    """The policy role a client reads under: `lawyer` for lawyers' apps, else `analyst`."""
    return "lawyer" if principal.scopes & _LAWYER_SCOPES else "analyst"


def reader_of(principal: Principal) -> Reader:
    """The policy engine's reader for a verified token."""
    return Reader(partner=principal.org, role=role_of(principal))


def meta_of(row: Any) -> ReportMeta:
    """The policy engine's view of a stored report (clear routing columns)."""
    return ReportMeta(
        report_id=row.report_id,
        partner=row.partner_id,
        incident_type=IncidentType(row.incident_type),
        legal_basis=LegalBasis(row.legal_basis),
        country=row.country,
        tlp=row.tlp,
    )


def search_allowed(search: Search, decision: Decision) -> bool:
    """Whether every filter the reader used is on a field it may see in this report."""
    return all(
        field in decision.fields
        for attr, field in _SEARCH_FIELDS
        if getattr(search, attr) is not None
    )


def _header(row: Any) -> dict[str, Any]:
    return {
        "report_id": row.report_id,
        "partner_id": row.partner_id,
        "received_at": as_utc(row.received_at).isoformat(),
        "stored_at": as_utc(row.stored_at).isoformat(),
        "updated_at": from_us(int(row.updated_us)).isoformat(),
    }


def report_view(row: Any, decision: Decision, values: dict[str, JSONValue]) -> dict[str, Any]:
    """What a reader receives: permitted fields only (withheld ones absent) and their names."""
    view = _header(row)
    view["submitter"] = decision.submitter
    if decision.submitter:
        view["client_report_id"] = row.client_report_id
    view["report"] = nest(values)
    view["withheld"] = [f for f in FIELDS if f not in decision.fields]
    return view


def tombstone_view(row: Any) -> dict[str, Any]:
    """An erased report as a reader who could see it learns of it (ids and times only)."""
    view = _header(row)
    view["erased_at"] = as_utc(row.erased_at).isoformat()
    return view


def encode_cursor(pos: tuple[int, str]) -> str:
    """Opaque to clients; it only names a position, so a forged one reveals nothing."""
    return b64u_encode(f"v1:{pos[0]}:{pos[1]}".encode())


def decode_cursor(text: str) -> tuple[int, str]:
    """Parse a cursor strictly; anything else is a 422."""
    bad = InvalidInput(
        "invalid cursor", fields=[{"path": "cursor", "reason": "not a cursor from this API"}]
    )
    if len(text) > 128:
        raise bad
    try:
        raw = b64u_decode(text).decode("ascii")
    except (InvalidKey, UnicodeDecodeError):
        raise bad from None
    match = _CURSOR.fullmatch(raw)
    if match is None:
        raise bad
    return int(match.group(1)), match.group(2)


def validate_dates(occurred_from: date | None, occurred_to: date | None) -> None:
    """A date range must not be upside down."""
    if occurred_from and occurred_to and occurred_from > occurred_to:
        raise InvalidInput(
            "occurred_from is after occurred_to",
            fields=[{"path": "occurred_from", "reason": "after occurred_to"}],
        )
