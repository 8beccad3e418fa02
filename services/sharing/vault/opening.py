"""Opening a received report's sealed copy: it must be this report's, and agree with the clear."""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any

from libs.common.contracts import ReportReceived
from libs.common.crypto import hpke
from libs.common.crypto.encoding import b64u_decode
from libs.common.crypto.errors import DecryptionFailed, InvalidKey
from libs.common.events import PermanentError
from libs.common.reports import ReportCore
from services.sharing.vault.keys.keystore import HpkeKeyStore


def _routing(report: ReportCore) -> tuple[Any, ...]:
    return (
        report.client_report_id,
        report.incident_type,
        report.legal_basis,
        report.place.country,
        report.place.facility_kind,
        report.occurred_at,
        report.tlp,
        report.follows,
    )


def _event_routing(data: ReportReceived) -> tuple[Any, ...]:
    return (
        data.client_report_id,
        data.incident_type,
        data.legal_basis,
        data.country,
        data.facility_kind,
        data.occurred_at,
        data.tlp,
        data.follows,
    )


def open_sealed(
    sealing: HpkeKeyStore, report_model: type[ReportCore], data: ReportReceived
) -> tuple[ReportCore, str, datetime]:
    """The sealed report, its sealing key id and receipt time; PermanentError if it is not
    this event's report (does not open, other ids, relabelled, breaks the contract)."""
    try:
        blob = b64u_decode(data.sealed)
    except InvalidKey:
        raise PermanentError("sealed report is not base64url") from None
    info = hpke.report_seal_info(report_id=data.report_id, partner_id=data.partner_id)
    try:
        plaintext, sealed_kid = sealing.unseal(blob, info)
    except DecryptionFailed:
        # Another report's or partner's blob, a flipped bit, a retired key: never stored.
        raise PermanentError("sealed report does not open") from None
    try:
        inner = json.loads(plaintext)
        report = report_model.model_validate(inner["report"])
        ids = (inner["report_id"], inner["partner_id"])
        received_at = datetime.fromisoformat(inner["received_at"])
    except (ValueError, KeyError, TypeError):
        raise PermanentError("sealed report breaks the report contract") from None
    if ids != (data.report_id, data.partner_id) or received_at != data.received_at:
        raise PermanentError("sealed report belongs to another report or partner")
    # The clear copy decides who may read the report: it must say what the sealed one says.
    if _routing(report) != _event_routing(data):
        raise PermanentError("routing metadata disagrees with the sealed report")
    return report, sealed_kid, received_at
