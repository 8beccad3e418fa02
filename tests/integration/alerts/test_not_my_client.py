""" "Not my client": resolving so keeps that person's reports from alerting the entry again
(counted on the suppression), until the lawyer lifts it; the organisation's false-match figure."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from tests.integration.alerts.conftest import ORG_ADMIN, AlertsStack
from tests.integration.alerts.support import report_event, tokens_for, until
from tests.integration.alerts.test_delivery import setup_lawyer

# The entry is Лев Скорякин, born 1999-03-14 (`setup_lawyer`). A report naming him without a
# birth date is a possible match; one with his birth date, a strong one: another identity.
NAME_ONLY = ("Лев Скорякин", None)
FULL = ("SKORIAKIN LEV", "14.03.1999")


async def _report(stack: AlertsStack, who: tuple[str, str | None]) -> str:
    event = report_event(tokens_for(*who))
    await stack.publish(event)
    return str(event.data["report_id"])


async def _alerts(stack: AlertsStack, client_id: str = "lawyer-1") -> list[dict[str, Any]]:
    resp = await stack.call("GET", "/v1/alerts", client_id=client_id)
    assert resp.status_code == 200, resp.text
    return list(resp.json()["alerts"])


async def _entry(stack: AlertsStack, client_id: str = "lawyer-1") -> dict[str, Any]:
    (listed,) = (await stack.call("GET", "/v1/watchlist/entries", client_id=client_id)).json()[
        "entries"
    ]
    assert listed["suppressions"] is None  # a list leaves them out
    resp = await stack.call("GET", f"/v1/watchlist/entries/{listed['id']}", client_id=client_id)
    assert resp.status_code == 200, resp.text
    return dict(resp.json())


async def _count(stack: AlertsStack, n: int, client_id: str = "lawyer-1") -> list[dict[str, Any]]:
    async def enough() -> list[dict[str, Any]] | None:
        alerts = await _alerts(stack, client_id)
        return alerts if len(alerts) == n else None

    alerts = await until(enough)
    assert alerts, f"{client_id} never had {n} alerts"
    return alerts


async def _resolve(stack: AlertsStack, alert_id: str, outcome: str, **kw: Any) -> None:
    resp = await stack.call(
        "POST", f"/v1/alerts/{alert_id}/resolve", json={"outcome": outcome}, **kw
    )
    assert resp.status_code == 200, resp.text


async def test_not_my_client_suppresses_that_persons_reports_until_lifted(
    stack: AlertsStack,
) -> None:
    await setup_lawyer(stack)
    await setup_lawyer(stack, client_id="lawyer-2", email="other@example.org")
    await _report(stack, NAME_ONLY)
    (first,) = await _count(stack, 1)
    (theirs,) = await _count(stack, 1, "lawyer-2")
    assert first["match"]["strength"] == "possible"
    await _resolve(stack, first["id"], "not_my_client")
    entry = await _entry(stack)
    (held,) = entry["suppressions"]
    assert (held["alert_id"], held["suppressed"], held["created_by"]) == (
        first["id"],
        0,
        "lawyer-1",
    )

    # The same person reported again: no alert for this entry, but the match is counted...
    await _report(stack, NAME_ONLY)

    async def counted() -> bool:
        return (await _entry(stack))["suppressions"][0]["suppressed"] == 1

    assert await until(counted)
    assert [a["id"] for a in await _alerts(stack)] == [first["id"]]
    figure = (await stack.call("GET", "/v1/organisation/feedback")).json()
    assert figure["suppressed_matches"] == 1
    # ...and another lawyer's entry for the same person still hears of it (same case: grouped).
    assert await until(
        lambda: _alerts(stack, "lawyer-2"),
    )
    (still,) = await _alerts(stack, "lawyer-2")
    assert (still["id"], still["report_count"]) == (theirs["id"], 2)

    # A report about another identity (his birth date too) alerts the entry anew.
    await _report(stack, FULL)
    alerts = await _count(stack, 2)
    assert alerts[0]["match"]["strength"] == "strong" and alerts[0]["id"] != first["id"]

    # Lifted: the same person's next report alerts again.
    other = await stack.call(
        "DELETE",
        f"/v1/watchlist/entries/{entry['id']}/suppressions/{held['id']}",
        client_id="lawyer-2",
    )
    assert other.status_code == 404  # not their entry
    lifted = await stack.call(
        "DELETE", f"/v1/watchlist/entries/{entry['id']}/suppressions/{held['id']}"
    )
    assert lifted.status_code == 204
    assert (await _entry(stack))["suppressions"] == []
    again = await stack.call(
        "DELETE", f"/v1/watchlist/entries/{entry['id']}/suppressions/{held['id']}"
    )
    assert again.status_code == 404 and again.json()["code"] == "not_found"
    await _resolve(stack, alerts[0]["id"], "released")  # the strong alert's case is closed
    await _report(stack, NAME_ONLY)
    alerts = await _count(stack, 3)
    assert alerts[0]["match"]["strength"] == "possible"


async def test_a_corrected_outcome_takes_the_suppression_back(stack: AlertsStack) -> None:
    await setup_lawyer(stack)
    await _report(stack, NAME_ONLY)
    (alert,) = await _count(stack, 1)
    await _resolve(stack, alert["id"], "not_my_client")
    assert len((await _entry(stack))["suppressions"]) == 1
    await _resolve(stack, alert["id"], "other")
    assert (await _entry(stack))["suppressions"] == []


async def test_the_false_match_figure_of_the_organisation(stack: AlertsStack) -> None:
    await setup_lawyer(stack)
    await setup_lawyer(stack, client_id="lawyer-2", email="other@example.org")
    await _report(stack, NAME_ONLY)
    (possible,) = await _count(stack, 1)
    (theirs,) = await _count(stack, 1, "lawyer-2")
    await _resolve(stack, possible["id"], "not_my_client")
    await _resolve(stack, theirs["id"], "released", client_id="lawyer-2")
    await _report(stack, FULL)
    strong = (await _count(stack, 2))[0]
    await _resolve(stack, strong["id"], "held_pending_extradition")

    for who in ({}, ORG_ADMIN):  # its lawyers and its partner administrator
        resp = await stack.call("GET", "/v1/organisation/feedback", **who)
        assert resp.status_code == 200, resp.text
        out = resp.json()
        assert out["org_id"] == "bar-1" and out["resolved"] == 3
        assert out["by_outcome"]["not_my_client"] == 1
        assert out["by_outcome"]["released"] == 1
        assert out["by_outcome"]["held_pending_extradition"] == 1
        assert out["not_my_client_share"] == round(1 / 3, 4)
        possible_, strong_ = out["by_strength"]["possible"], out["by_strength"]["strong"]
        assert (possible_["resolved"], possible_["not_my_client_share"]) == (2, 0.5)
        assert (strong_["resolved"], strong_["not_my_client_share"]) == (1, 0.0)
        assert out["suppressed_matches"] == 0

    later = await stack.call(
        "GET",
        "/v1/organisation/feedback",
        params={"since": (datetime.now(UTC) + timedelta(days=1)).isoformat()},
    )
    assert later.status_code == 200
    assert (later.json()["resolved"], later.json()["not_my_client_share"]) == (0, None)
    # Another organisation sees its own (empty) figure, never this one's.
    elsewhere = await stack.call("GET", "/v1/organisation/feedback", org="bar-2", **ORG_ADMIN)
    assert elsewhere.status_code == 200 and elsewhere.json()["resolved"] == 0


async def test_feedback_refusals(stack: AlertsStack) -> None:
    bad = await stack.call("GET", "/v1/organisation/feedback", params={"since": "yesterday"})
    assert bad.status_code == 422 and bad.json()["code"] == "invalid_input"
    naive = await stack.call(
        "GET", "/v1/organisation/feedback", params={"since": "2026-01-01T00:00:00"}
    )
    assert naive.status_code == 422
    reader = await stack.call("GET", "/v1/organisation/feedback", scopes=("alerts:read",))
    assert reader.status_code == 403
    anonymous = await stack.http.get("/v1/organisation/feedback")
    assert anonymous.status_code == 401
