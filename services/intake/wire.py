"""A report's bytes, made once: the canonical form (MAC'd, sealed) and the event's body.

The canonical bytes of the validated report are spliced into the sealed plaintext rather than
encoded again, and the `lifeline.report.received.v1` envelope is encoded straight from the
report's JSON form: the same JSON `ReportReceived.of` and `new_event` give (a unit test holds
the two together), without building and dumping those models once more per report.
"""

from __future__ import annotations

import json
import uuid
from datetime import datetime
from typing import Any

from pydantic import TypeAdapter

from libs.common.crypto.encoding import canonical_json
from libs.common.reports import ReportIn
from libs.common.subjects import REPORT_RECEIVED

_INSTANT = TypeAdapter(datetime)
_COMPACT = json.JSONEncoder(separators=(",", ":"), ensure_ascii=False, allow_nan=False)


def instant(at: datetime) -> str:
    """`at` as pydantic writes a datetime in JSON (what the contracts' models would write)."""
    return str(_INSTANT.dump_python(at, mode="json"))


def canonical(report: ReportIn) -> tuple[dict[str, Any], bytes]:
    """The report's JSON form and its canonical bytes (sorted keys, no whitespace)."""
    doc = report.model_dump(mode="json")
    return doc, canonical_json(doc)


def sealed_plaintext(
    content: bytes, *, report_id: str, partner_id: str, client_id: str, received_at: datetime
) -> bytes:
    """canonical_json({client_id, partner_id, received_at, report, report_id}), the report's
    canonical bytes spliced in as they are (keys in sorted order: "report" < "report_id")."""
    head = canonical_json(
        {"client_id": client_id, "partner_id": partner_id, "received_at": received_at.isoformat()}
    )
    tail = canonical_json({"report_id": report_id})
    return head[:-1] + b',"report":' + content + b"," + tail[1:]


def received_event(
    doc: dict[str, Any], *, report_id: str, partner_id: str, received_at: datetime, sealed: str
) -> tuple[str, bytes]:
    """(event id, envelope bytes) of the report's `lifeline.report.received.v1` event."""
    at = instant(received_at)
    subject = doc.get("subject")
    follows = doc.get("follows")
    data = {
        "report_id": report_id,
        "partner_id": partner_id,
        "client_report_id": doc["client_report_id"],
        "incident_type": doc["incident_type"],
        "legal_basis": doc["legal_basis"],
        "country": doc["place"]["country"],
        "facility_kind": doc["place"]["facility_kind"],
        "occurred_at": doc["occurred_at"],
        "received_at": at,
        "tlp": doc["tlp"],
        "tokens": subject["tokens"] if subject else [],
        "sealed": sealed,
        "follows": follows,
        "status": doc.get("status") if follows else None,
    }
    event_id = str(uuid.uuid4())
    envelope = {
        "id": event_id,
        "type": REPORT_RECEIVED,
        "version": 1,
        "occurred_at": at,
        "producer": "intake",
        "correlation_id": report_id,
        "data": data,
    }
    return event_id, _COMPACT.encode(envelope).encode()
