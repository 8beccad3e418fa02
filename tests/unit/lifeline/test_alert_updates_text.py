"""`lifeline alerts show` lists what follow-ups said became of the case."""

from __future__ import annotations

from lifeline.cli.alerts import _alert_human

ALERT = {
    "id": "a-1",
    "status": "open",
    "priority": "highest",
    "label": "client 12",
    "match": {"strength": "strong", "reason": "full name and date"},
    "incident_type": "detention",
    "legal_basis": "cis_interstate_search",
    "country": "KG",
    "facility_kind": "airport",
    "occurred_at": "2026-11-20",
    "report_count": 1,
    "report_url": "https://sharing.example/v1/reports/r-1",
    "updates": [
        {"report_id": "r-2", "status": "deported", "worse": True, "reopened": True,
         "at": "2026-11-21T08:00:00+00:00"},
        {"report_id": "r-3", "status": None, "worse": False, "reopened": False,
         "at": "2026-11-22T08:00:00+00:00"},
    ],
}  # fmt: skip


def test_updates_are_listed_with_whether_they_reopened_the_alert() -> None:
    text = _alert_human(ALERT)
    assert (
        "update     deported at 2026-11-21T08:00:00+00:00 (report r-2, re-opened the alert)" in text
    )
    assert "update     status not disclosed at 2026-11-22T08:00:00+00:00 (report r-3)" in text
    assert "update" not in _alert_human({**ALERT, "updates": []})
