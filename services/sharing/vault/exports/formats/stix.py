"""STIX 2.1: a bundle with one `incident` per report, marked with the TLP 2.0 definitions.

Written as plain JSON: the output is a small fixed shape, and the `stix2` library (with its
parser and network dependencies) stays out of the service; the tests hold every bundle to it.
Each report's ids are derived from its report id (UUIDv5), so exporting a report again gives
the same objects and a receiving tool updates them instead of duplicating them.
"""

from __future__ import annotations

import json
import uuid
from typing import Any

from services.sharing.vault.exports.formats.base import Export, ExportedReport, Exporter

MEDIA_TYPE = "application/stix+json;version=2.1"
# OASIS's TLP 2.0 marking definitions (cti-stix-common-objects, extension-definition
# "tlp-2.0"): fixed ids every STIX tool recognises.
TLP_EXTENSION = "extension-definition--60a3c5c5-0d10-413e-aab3-9e08dde9e88d"
TLP_MARKINGS = {
    "CLEAR": "marking-definition--94868c89-83c2-464b-929b-a1a8aa3c8487",
    "GREEN": "marking-definition--bab4a63c-aed9-4cf5-a766-dfca5abac2bb",
    "AMBER": "marking-definition--55d920b0-5e8b-4f79-9ee9-91f868d9b421",
    "AMBER+STRICT": "marking-definition--939a9414-2ddd-4d32-a0cd-375ea402b003",
    "RED": "marking-definition--e828b379-4e03-4974-9ac4-e53a884c97c1",
}
_NAMESPACE = uuid.UUID("5d0f7b2e-8a1c-4e55-9a57-0c1c8f4f2a61")  # Lifeline's own STIX ids
# Fields that have a STIX property of their own; the rest travel as `x_lifeline_*`.
_NATIVE = {"narrative"}


def _id(kind: str, *parts: str) -> str:
    return f"{kind}--{uuid.uuid5(_NAMESPACE, '/'.join((kind, *parts)))}"


def _stamp(iso: str) -> str:
    """An RFC 3339 UTC time as STIX writes it (`Z`, milliseconds)."""
    return iso.replace("+00:00", "Z") if iso.endswith("+00:00") else iso


def marking(tlp: str) -> dict[str, Any]:
    """The TLP 2.0 marking-definition object of one level."""
    return {
        "type": "marking-definition",
        "spec_version": "2.1",
        "id": TLP_MARKINGS[tlp],
        "created": "2022-10-01T00:00:00.000Z",
        "name": f"TLP:{tlp}",
        "extensions": {
            TLP_EXTENSION: {"extension_type": "property-extension", "tlp_2_0": tlp.lower()}
        },
    }


def _identity(partner_id: str, created: str) -> dict[str, Any]:
    # The partner by its id only: a name could identify an organisation at risk itself.
    return {
        "type": "identity",
        "spec_version": "2.1",
        "id": _id("identity", partner_id),
        "created": created,
        "modified": created,
        "name": partner_id,
        "identity_class": "organization",
    }


def _incident(report: ExportedReport) -> dict[str, Any]:
    v = report.values
    kind = str(v.get("incident_type") or "incident").replace("_", " ")
    where = v.get("place.country")
    obj: dict[str, Any] = {
        "type": "incident",
        "spec_version": "2.1",
        "id": _id("incident", report.report_id),
        "created": _stamp(report.received_at),
        "modified": _stamp(report.updated_at),
        "created_by_ref": _id("identity", report.partner_id),
        "name": f"{kind} in {where}" if where else kind,
        "object_marking_refs": [TLP_MARKINGS[report.tlp]],
        "external_references": [{"source_name": "lifeline", "external_id": report.report_id}],
    }
    if v.get("narrative"):
        obj["description"] = v["narrative"]
    for name, value in v.items():
        if name not in _NATIVE and value is not None:
            obj["x_lifeline_" + name.replace(".", "_")] = value
    if report.follows:
        obj["x_lifeline_follows"] = report.follows
    return obj


def render(export: Export) -> bytes:
    """The bundle: the TLP markings used, each submitting partner's identity, the incidents."""
    reports = export.reports
    created = _stamp(export.now.isoformat(timespec="milliseconds"))
    levels = sorted({r.tlp for r in reports}, key=list(TLP_MARKINGS).index)
    partners = sorted({r.partner_id for r in reports})
    objects = [
        *(marking(level) for level in levels),
        *(_identity(p, created) for p in partners),
        *(_incident(r) for r in reports),
    ]
    bundle = {"type": "bundle", "id": f"bundle--{uuid.uuid4()}", "objects": objects}
    return json.dumps(bundle, ensure_ascii=False, indent=1).encode()


EXPORTER = Exporter(media_type=MEDIA_TYPE, suffix="json", render=render)
