"""MISP: one event per report, its released fields as attributes, its marking as a `tlp:` tag.

The shape of MISP's own `restSearch` answer (`{"response": [{"Event": …}]}`), so MISP and the
tools that read its JSON (PyMISP's `MISPEvent.from_dict`) import it as they would a feed.
"""

from __future__ import annotations

import json
import uuid
from typing import Any

from services.sharing.vault.exports.formats.base import Export, ExportedReport, Exporter

_NAMESPACE = uuid.UUID("0d6a0a64-2f0c-4f4c-9a57-6c1f0b8e3d27")  # Lifeline's own MISP uuids
# MISP's distribution levels: "0" is "your organisation only"; a reader re-shares deliberately.
ORGANISATION_ONLY = "0"
# MISP's threat levels: 4 = undefined, analysis 2 = completed (the partner's report as given).
THREAT_UNDEFINED, ANALYSIS_COMPLETE = "4", "2"


def _uuid(*parts: str) -> str:
    return str(uuid.uuid5(_NAMESPACE, "/".join(parts)))


def _value(value: Any) -> str:
    if isinstance(value, list | dict):
        return json.dumps(value, ensure_ascii=False, sort_keys=True)
    return str(value)


def _event(report: ExportedReport, stamp: str) -> dict[str, Any]:
    v = report.values
    day = str(v.get("occurred_at") or report.received_at)[:10]
    kind = str(v.get("incident_type") or "incident").replace("_", " ")
    attributes = [
        {
            "uuid": _uuid(report.report_id, name),
            "type": "text",
            "category": "Other",
            "comment": f"lifeline field {name}",
            "value": _value(value),
            "to_ids": False,
            "distribution": "5",  # inherit the event's
        }
        for name, value in v.items()
        if value is not None and name != "tlp"
    ]
    return {
        "Event": {
            "uuid": _uuid(report.report_id),
            "info": f"Lifeline report {report.report_id}: {kind}",
            "date": day,
            "timestamp": stamp,
            "published": False,
            "distribution": ORGANISATION_ONLY,
            "threat_level_id": THREAT_UNDEFINED,
            "analysis": ANALYSIS_COMPLETE,
            "Orgc": {"name": report.partner_id, "uuid": _uuid("org", report.partner_id)},
            "Tag": [{"name": f"tlp:{report.tlp.lower()}"}],
            "Attribute": attributes,
        }
    }


def render(export: Export) -> bytes:
    """Every report as a MISP event."""
    stamp = str(int(export.now.timestamp()))
    events = [_event(r, stamp) for r in export.reports]
    return json.dumps({"response": events}, ensure_ascii=False, indent=1).encode()


EXPORTER = Exporter(media_type="application/json", suffix="json", render=render)
