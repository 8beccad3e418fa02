"""`lifeline alerts show`: what follow-ups said became of the case, and withheld details."""

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


def test_withheld_details_read_as_withheld_and_say_a_release_is_asked() -> None:
    hidden = dict.fromkeys(("incident_type", "legal_basis", "country", "facility_kind"))
    alert = {**ALERT, **hidden, "occurred_at": None, "report_url": "", "updates": []}
    text = _alert_human({**alert, "restricted": True, "release": "requested"})
    assert "None" not in text
    assert "incident   withheld (withheld)" in text
    assert "where      withheld, withheld" in text
    assert "report     " not in text
    assert "release: requested" in text
    assert "withheld   " not in _alert_human(ALERT)
