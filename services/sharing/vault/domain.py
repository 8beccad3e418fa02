"""Pure rules of the read side: who reads, searches, what a response shows, the cursor."""

from __future__ import annotations

import re
import uuid
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any

from libs.common.auth.principal import Principal
from libs.common.clock import as_utc
from libs.common.contracts import ReportErased, new_event
from libs.common.crypto.encoding import JSONValue, b64u_decode
from libs.common.crypto.errors import InvalidKey
from libs.common.errors import InvalidCursor, InvalidInput
from libs.common.events import Envelope
from libs.common.reports import IncidentType, LegalBasis
from libs.common.reports.fields import CATALOGUE, Catalogue
from services.sharing.vault.policy.domain import (
    Decision,
    Policy,
    Reader,
    ReportGrant,
    ReportMeta,
    decide,
)

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
NO_SUCH_REPORT = "no such report"  # one text for "does not exist" and "not yours to know"


_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_US = timedelta(microseconds=1)


def to_us(moment: datetime) -> int:
    """Microseconds since the epoch (the sync cursor's unit), exact (no float rounding)."""
    return (moment - _EPOCH) // _US


def from_us(value: int) -> datetime:
    """The inverse of `to_us`, as an aware UTC time."""
    return _EPOCH + value * _US


@dataclass(frozen=True, slots=True)
class Search:
    """Filters a reader asked for (each on a clear column; the service re-checks visibility)."""

    country: str | None = None
    incident_type: str | None = None
    legal_basis: str | None = None
    occurred_from: date | None = None
    occurred_to: date | None = None


@dataclass(frozen=True, slots=True)
class Release:
    """One report's content about to be released to a reader (what the audit entry records)."""

    report_id: str
    decision: Decision


def reader_of(principal: Principal) -> Reader:
    """The policy engine's reader for a verified token: its partner and its registered role."""
    return Reader(partner=principal.partner_id, role=principal.role)


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


def search_hits(
    reader: Reader,
    rows: Iterable[Any],
    policies: Sequence[Policy],
    grants: Iterable[ReportGrant],
    search: Search,
    *,
    catalogue: Catalogue = CATALOGUE,
) -> list[tuple[Any, Decision]]:
    """The candidate rows `reader` may see, with their decisions, that the search may match."""
    by_report = defaultdict(list)
    for grant in grants:
        by_report[grant.report_id].append(grant)
    shown = []
    for row in rows:
        grants_of_row = by_report[row.report_id]
        decision = decide(reader, meta_of(row), policies, grants_of_row, catalogue=catalogue)
        if decision.visible and search_allowed(search, decision):
            shown.append((row, decision))
    return shown


def wrapped_key(row: Any) -> bytes | None:
    """A report row's wrapped data key (None once erased)."""
    return None if row.wrapped is None else bytes(row.wrapped)


def read_log_rows(
    principal: Principal,
    releases: Iterable[Release],
    *,
    via: str,
    delivery_id: str | None,
    now: datetime,
    catalogue: Catalogue = CATALOGUE,
) -> list[dict[str, Any]]:
    """One read-log row per released report: who, with which role, which fields, when, how."""
    role = principal.role
    rows: list[dict[str, Any]] = []
    for release in releases:
        fields = [f for f in catalogue.grantable if f in release.decision.fields]
        rows.append(
            {
                "report_id": release.report_id,
                "reader_partner": principal.partner_id,
                "reader_client": principal.client_id,
                "role": role,
                "fields": " ".join(fields),
                "via": via,
                "delivery_id": delivery_id,
                "read_at": now,
            }
        )
    return rows


def read_audit_details(
    principal: Principal, release: Release, row: dict[str, Any], *, sealed_to: str | None
) -> dict[str, Any]:
    """What the audit entry of one release records, from its read-log row (ids only)."""
    details: dict[str, Any] = {
        "partner": principal.partner_id,
        "role": row["role"],
        "fields": str(row["fields"]).split(),
        "matched": list(release.decision.matched),
        "via": row["via"],
    }
    if row["delivery_id"] is not None:
        details |= {"delivery_id": row["delivery_id"], "sealed_to": sealed_to}
    return details


def new_grant(
    report_id: str,
    partner_id: str,
    fields: list[str],
    role: str | None,
    *,
    catalogue: Catalogue = CATALOGUE,
) -> ReportGrant:
    """A grant of one report to one partner (optionally one role) under a fresh id."""
    return ReportGrant(
        id=str(uuid.uuid4()),
        report_id=report_id,
        partner=partner_id,
        fields=frozenset(fields),
        role=role,
        catalogue=catalogue,
    )


def grant_row(grant: ReportGrant, ordered: list[str], actor: str, now: datetime) -> dict[str, Any]:
    """The stored row of a new per-report grant (`ordered`: its fields in catalogue order)."""
    return {
        "id": grant.id,
        "report_id": grant.report_id,
        "partner_id": grant.partner,
        "role": grant.role,
        "fields": " ".join(ordered),
        "created_at": now,
        "created_by": actor,
    }


def erased_event(report_id: str, partner_id: str, now: datetime) -> Envelope:
    """`lifeline.report.erased.v1`: alerts drops what it derived from the report."""
    return new_event(
        ReportErased(report_id=report_id, partner_id=partner_id),
        "sharing",
        correlation_id=report_id,
        at=now,
    )


def _header(row: Any) -> dict[str, Any]:
    return {
        "report_id": row.report_id,
        "partner_id": row.partner_id,
        "received_at": as_utc(row.received_at).isoformat(),
        "stored_at": as_utc(row.stored_at).isoformat(),
        "updated_at": from_us(int(row.updated_us)).isoformat(),
        # A follow-up names the earlier report of its case (an id, like the partner's).
        "follows": row.follows,
    }


def report_view(
    row: Any,
    decision: Decision,
    values: dict[str, JSONValue],
    *,
    catalogue: Catalogue = CATALOGUE,
) -> dict[str, Any]:
    """What a reader receives: permitted fields only (withheld ones absent) and their names.

    A permitted field the report was stored without (added to the catalogue later) is null.
    """
    view = _header(row)
    view["submitter"] = decision.submitter
    if decision.submitter:
        view["client_report_id"] = row.client_report_id
    view["report"] = catalogue.nest(values)
    view["withheld"] = [f for f in catalogue.grantable if f not in decision.fields]
    return view


def tombstone_view(row: Any) -> dict[str, Any]:
    """An erased report as a reader who could see it learns of it (ids and times only)."""
    view = _header(row)
    view["erased_at"] = as_utc(row.erased_at).isoformat()
    return view


def legacy_cursor(text: str) -> tuple[int, str]:
    """The position of a sync cursor of the format before `libs.common.paging` (deprecated)."""
    if len(text) > 128:
        raise InvalidCursor()
    try:
        raw = b64u_decode(text).decode("ascii")
    except (InvalidKey, UnicodeDecodeError):
        raise InvalidCursor() from None
    match = _CURSOR.fullmatch(raw)
    if match is None:
        raise InvalidCursor()
    return int(match.group(1)), match.group(2)


def validate_dates(occurred_from: date | None, occurred_to: date | None) -> None:
    """A date range must not be upside down."""
    if occurred_from and occurred_to and occurred_from > occurred_to:
        raise InvalidInput(
            "occurred_from is after occurred_to",
            fields=[{"path": "occurred_from", "reason": "after occurred_to"}],
        )
