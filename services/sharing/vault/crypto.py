"""How a report becomes field ciphertexts and back: pure, apart from the KEK provider it is given.

Field AAD (`FieldContext`) binds partner, report, data-key id and the KEK version *at encryption
time* (`field_kek_version`, immutable in the row). The data key's current wrap lives in
`vault_data_keys` with its own version, so KEK rotation rewraps data keys and never touches
fields. Everything a check needs is rebuilt from the row's columns, never read from a blob.

Which fields exist comes from the report field catalogue: a report is stored with one blob per
grantable field of the catalogue version it was stored under (`catalogue_version` in its row),
so a field added later reads as null for older reports, never as a missing (tampered) blob.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from libs.common.crypto.encoding import JSONValue
from libs.common.crypto.errors import DecryptionFailed, KekVersionUnavailable
from libs.common.crypto.fields import (
    FORMAT_VERSION,
    DataKey,
    FieldContext,
    decrypt_fields,
    encrypt_fields,
    new_data_key,
)
from libs.common.crypto.kek import (
    KekProvider,
    KekState,
    WrappedKey,
    unwrap_data_key,
    wrap_data_key,
)
from libs.common.errors import LifelineError
from libs.common.reports import ReportCore
from libs.common.reports.fields import CATALOGUE, Catalogue


class ReportUnreadable(LifelineError):
    """A stored report failed its integrity check (tampering, a lost KEK): nothing is released."""

    status = 500
    code = "report_unreadable"

    def __init__(self, reason: str = "integrity") -> None:
        super().__init__("the stored report failed its integrity check")
        # For logs (a short code, never a value); not part of the HTTP body.
        self.reason = reason


def field_values(report: ReportCore, catalogue: Catalogue = CATALOGUE) -> dict[str, JSONValue]:
    """The grantable fields of a report as JSON values (what gets encrypted, one blob each)."""
    values: dict[str, JSONValue] = catalogue.values_of(report.model_dump(mode="json"))
    return values


def occurred_on(value: date | datetime) -> date:
    """The day an incident happened, as the submitter wrote it (local date of a time)."""
    return value.date() if isinstance(value, datetime) else value


@dataclass(frozen=True, slots=True)
class EncryptedReport:
    """What the store writes: the wrapped data key and one ciphertext per field."""

    data_key: DataKey  # kept in memory only, to rewrap if its KEK is retired before commit
    wrapped: WrappedKey
    field_kek_version: int
    blobs: dict[str, bytes]

    @property
    def field_format(self) -> int:
        """The field blob format version written."""
        return FORMAT_VERSION


def encrypt_report(
    provider: KekProvider, *, report_id: str, partner_id: str, values: Mapping[str, JSONValue]
) -> EncryptedReport:
    """A fresh data key for this report, wrapped under the primary KEK; every field encrypted."""
    data_key = new_data_key()
    wrapped = wrap_data_key(provider, data_key, report_id=report_id)
    ctx = FieldContext(partner_id, report_id, data_key.key_id, wrapped.kek_version)
    return EncryptedReport(
        data_key, wrapped, wrapped.kek_version, encrypt_fields(data_key, ctx, values)
    )


def ensure_wrap_usable(
    provider: KekProvider, encrypted: EncryptedReport, *, report_id: str
) -> WrappedKey:
    """The wrap to store: re-wrapped under the primary if its version was retired meanwhile."""
    state = {v.version: v.state for v in provider.versions()}
    if state.get(encrypted.wrapped.kek_version) in (KekState.ACTIVE, KekState.STAGED):
        return encrypted.wrapped
    # Field AAD keeps the original version (it is only a label there); the key moves on.
    return wrap_data_key(provider, encrypted.data_key, report_id=report_id)


@dataclass(frozen=True, slots=True)
class StoredRow:
    """The columns of a report row that the crypto binds to or checks against."""

    report_id: str
    partner_id: str
    data_key_id: str
    field_kek_version: int
    incident_type: str
    legal_basis: str
    country: str
    tlp: str
    catalogue_version: int = 1  # which fields have blobs (rows stored before it existed: 1)

    @classmethod
    def of(cls, row: Any) -> StoredRow:
        """From a `vault_reports` row."""
        return cls(
            row.report_id,
            row.partner_id,
            row.data_key_id,
            int(row.field_kek_version),
            row.incident_type,
            row.legal_basis,
            row.country,
            row.tlp,
            int(row.catalogue_version),
        )

    def routing(self) -> dict[str, str]:
        """The clear routing columns, by the name of the catalogue field each one copies."""
        return {
            "incident_type": self.incident_type,
            "legal_basis": self.legal_basis,
            "place.country": self.country,
            "tlp": self.tlp,
        }


def open_fields(
    provider: KekProvider,
    row: StoredRow,
    wrapped: bytes | None,
    blobs: Mapping[str, bytes],
    wanted: frozenset[str],
    *,
    catalogue: Catalogue = CATALOGUE,
) -> dict[str, JSONValue]:
    """Decrypt `wanted` (plus the routing fields) of one row; any doubt raises ReportUnreadable.

    A wanted field the row's catalogue version did not have yet comes back as None. The routing
    fields are decrypted even when not wanted and compared with the row's clear copies, so a
    database edit that relabels a report (say RED -> CLEAR) to widen who sees it is caught.
    """
    stored = wanted & catalogue.stored_in(row.catalogue_version)
    needed = stored | catalogue.routing
    if wrapped is None or not needed <= blobs.keys():
        raise ReportUnreadable("missing")  # a deleted key or field row is tampering, too
    try:
        data_key = unwrap_data_key(
            provider,
            WrappedKey.from_bytes(wrapped),
            report_id=row.report_id,
            data_key_id=row.data_key_id,
        )
        ctx = FieldContext(row.partner_id, row.report_id, row.data_key_id, row.field_kek_version)
        values = decrypt_fields(data_key, ctx, {f: blobs[f] for f in needed})
    except KekVersionUnavailable:
        raise ReportUnreadable("kek_retired") from None
    except DecryptionFailed:
        raise ReportUnreadable("decryption") from None
    if {f: values[f] for f in catalogue.routing} != row.routing():
        raise ReportUnreadable("routing_mismatch")
    return {f: values[f] if f in stored else None for f in wanted}
