"""Export formats: released fields only, no identity tokens, markings that tools recognise."""

from __future__ import annotations

import csv
import io
import json
import typing
from datetime import UTC, datetime
from typing import Any

import pytest
import stix2

from libs.common.reports.fields import CATALOGUE
from services.sharing.vault.exports import api
from services.sharing.vault.exports.formats import EXPORTERS
from services.sharing.vault.exports.formats.base import Export, exported
from services.sharing.vault.exports.formats.stix import TLP_MARKINGS

NOW = datetime(2026, 11, 21, 9, 0, tzinfo=UTC)


def _view(report_id: str, report: dict[str, Any], **header: Any) -> dict[str, Any]:
    return {
        "report_id": report_id,
        "partner_id": "ptn_a",
        "received_at": "2026-11-20T01:00:00.123456+00:00",
        "updated_at": "2026-11-20T01:00:05+00:00",
        "follows": None,
        "report": report,
        **header,
    }


FULL = _view(
    "r-1",
    {
        "incident_type": "detention",
        "occurred_at": "2026-11-20",
        "place": {"country": "KG", "locality": "Бишкек"},
        "charges": [{"state": "BY", "code": "CC", "article": "361-1"}],
        "tlp": "AMBER+STRICT",
        "narrative": '=HYPERLINK("http://x")',
        "subject": {"tokens": [{"kind": "name", "version": 1, "value": "SECRET" * 8}]},
    },
)
# A reader whose policy withholds the narrative, the locality and the marking.
PARTIAL = _view(
    "r-2",
    {"incident_type": "deportation", "place": {"country": "KZ"}},
    follows="r-1",
)


def _export(*views: dict[str, Any]) -> Export:
    return Export([exported(v) for v in views], CATALOGUE, NOW)


def _render(fmt: str, *views: dict[str, Any]) -> bytes:
    return EXPORTERS[fmt].render(_export(*views))


@pytest.mark.parametrize("fmt", sorted(EXPORTERS))
def test_no_format_carries_identity_tokens_or_withheld_fields(fmt: str) -> None:
    out = _render(fmt, PARTIAL).decode("utf-8-sig")
    assert "SECRET" not in _render(fmt, FULL).decode("utf-8-sig")
    assert "tokens" not in out and "subject" not in out
    for absent in ("narrative", "locality", "Бишкек"):
        assert absent not in out, (fmt, absent)


def test_csv_has_the_released_columns_and_defuses_formulas() -> None:
    out = _render("csv", FULL, PARTIAL)
    assert out.startswith(b"\xef\xbb\xbf")  # Excel opens UTF-8 with its mark as UTF-8
    rows = list(csv.DictReader(io.StringIO(out.decode("utf-8-sig"))))
    assert [r["report_id"] for r in rows] == ["r-1", "r-2"]
    assert rows[0]["charges"] == "BY:CC:361-1" and rows[0]["locality"] == "Бишкек"
    assert rows[0]["narrative"] == '\'=HYPERLINK("http://x")'
    assert rows[1]["narrative"] == "" and rows[1]["follows"] == "r-1"
    only_partial = list(csv.DictReader(io.StringIO(_render("csv", PARTIAL).decode("utf-8-sig"))))
    assert set(only_partial[0]) == {
        "report_id",
        "partner_id",
        "received_at",
        "updated_at",
        "follows",
        "incident_type",
        "country",
    }


def test_stix_bundle_parses_with_the_reference_library() -> None:
    out = json.loads(_render("stix", FULL, PARTIAL))
    # Custom `x_lifeline_*` properties and the TLP 2.0 property extension: the spec has a
    # parser accept them only when told to.
    bundle = stix2.parse(out, allow_custom=True)
    objects = {o.id: o for o in bundle.objects}
    incidents = [o for o in bundle.objects if o.type == "incident"]
    assert [i.x_lifeline_place_country for i in incidents] == ["KG", "KZ"]
    strict, withheld = (i.object_marking_refs[0] for i in incidents)
    assert strict == TLP_MARKINGS["AMBER+STRICT"]
    assert withheld == TLP_MARKINGS["RED"]  # a withheld marking leaves as the strictest
    assert objects[strict].name == "TLP:AMBER+STRICT"
    assert incidents[0].description.startswith("=HYPERLINK")
    assert incidents[0].x_lifeline_charges == [{"state": "BY", "code": "CC", "article": "361-1"}]
    assert incidents[0].created_by_ref in objects
    with pytest.raises(stix2.exceptions.STIXError):
        stix2.parse(out, allow_custom=False)
    # Exporting again gives the same object ids: a receiving tool updates, not duplicates.
    again = json.loads(_render("stix", FULL, PARTIAL))
    assert [o["id"] for o in again["objects"]] == [o["id"] for o in out["objects"]]


def test_misp_events_carry_tlp_tags_and_attributes() -> None:
    out = json.loads(_render("misp", FULL, PARTIAL))
    events = [e["Event"] for e in out["response"]]
    assert [e["Tag"] for e in events] == [[{"name": "tlp:amber+strict"}], [{"name": "tlp:red"}]]
    assert events[0]["date"] == "2026-11-20" and events[0]["distribution"] == "0"
    values = {a["comment"]: a["value"] for a in events[0]["Attribute"]}
    assert values["lifeline field place.country"] == "KG"
    assert json.loads(values["lifeline field charges"])[0]["article"] == "361-1"
    assert {a["comment"] for a in events[1]["Attribute"]} == {
        "lifeline field incident_type",
        "lifeline field place.country",
    }


def test_the_route_offers_exactly_the_registered_formats() -> None:
    assert set(typing.get_args(api.Format)) == set(EXPORTERS)
