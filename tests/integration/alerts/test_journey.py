"""A lawyer's journey: profile, watchlist entry, a matching report → signed webhook, ack."""

from __future__ import annotations

import json

from sqlalchemy import func, select

from services.alerts.alerts.models import Alert, AlertMatch
from tests.integration.alerts.conftest import AlertsStack
from tests.integration.alerts.support import receiver, report_event, tokens_for, until

ALERTS = Alert.__table__  # type: ignore[attr-defined]
MATCHES = AlertMatch.__table__  # type: ignore[attr-defined]


async def test_matching_report_reaches_the_lawyers_webhook_signed_and_no_name_travels(
    stack: AlertsStack,
) -> None:
    async with receiver() as hook:
        resp = await stack.call("PUT", "/v1/lawyer/profile", json={"webhook": {"url": hook.url}})
        assert resp.status_code == 200, resp.text
        profile = resp.json()
        (contact,) = profile["contacts"]
        hook.secret = profile["new_secrets"][contact["id"]]
        assert hook.secret.startswith("whsec_")
        again = await stack.call("GET", "/v1/lawyer/profile")
        assert hook.secret not in again.text  # shown once

        entry = await stack.call(
            "POST",
            "/v1/watchlist/entries",
            json={"label": "client 12", "tokens": tokens_for("Лев Скорякин", "1999-03-14")},
        )
        assert entry.status_code == 201, entry.text

        event = report_event(tokens_for("SKORIAKIN LEV", "14.03.1999"))
        await stack.publish(event)
        assert await until(lambda: hook.hits), "no webhook arrived"
        (hit,) = hook.hits
        data = hit.payload["data"]
        assert hit.payload["type"] == "alert.created"
        assert data["label"] == "client 12"
        assert data["match"]["strength"] == "strong"
        assert "name_dob" in data["match"]["agreed"]
        assert (data["incident_type"], data["legal_basis"], data["country"]) == (
            "detention",
            "cis_interstate_search",
            "KG",
        )
        assert data["facility_kind"] == "airport" and data["priority"] == "highest"
        assert data["report_url"].endswith(f"/v1/reports/{event.data['report_id']}")
        # The ack link carries a random signed token, which may spell "lev": leave links out.
        words = {k: v for k, v in data.items() if not k.endswith("_url")}
        raw = json.dumps({**hit.payload, "data": words}).lower()
        assert "skoriakin" not in raw and "скорякин" not in raw and "lev" not in raw

        alerts = (await stack.call("GET", "/v1/alerts")).json()["alerts"]
        assert [a["id"] for a in alerts] == [data["alert_id"]]
        assert alerts[0]["status"] == "open"
        ack = await stack.call("POST", f"/v1/alerts/{data['alert_id']}/ack")
        assert ack.status_code == 200 and ack.json()["already"] is False
        assert ack.json()["alert"]["acknowledged"]["by"] == "lawyer-1"
        second = await stack.call("POST", f"/v1/alerts/{data['alert_id']}/ack")
        assert second.json()["already"] is True


async def test_a_report_about_someone_else_produces_nothing(stack: AlertsStack) -> None:
    async with receiver() as hook:
        resp = await stack.call("PUT", "/v1/lawyer/profile", json={"webhook": {"url": hook.url}})
        hook.secret = next(iter(resp.json()["new_secrets"].values()))
        await stack.call(
            "POST",
            "/v1/watchlist/entries",
            json={"label": "client 12", "tokens": tokens_for("Лев Скорякин", "1999-03-14")},
        )
        other = report_event(tokens_for("Anna Petrova", "1987-05-02"))
        namesake = report_event(tokens_for("Lev Skoryakin", "1990-01-01"))
        for event in (other, namesake):
            await stack.publish(event)

        async def processed() -> bool:
            from services.alerts.models import ProcessedEvent

            table = ProcessedEvent.__table__  # type: ignore[attr-defined]
            rows = await stack.db(
                select(table.c.event_id).where(table.c.event_id.in_([other.id, namesake.id]))
            )
            return len(rows) == 2

        assert await until(processed)
        assert (await stack.db(select(func.count()).select_from(ALERTS)))[0][0] == 0
        assert hook.hits == []
