"""A follow-up reaches the alerts of its original as `alert.updated` to the same lawyer; a
worse status re-opens escalation, a better one does not; never a second alert."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from sqlalchemy import func, select

from libs.common.contracts import ReportReceived, new_event
from libs.common.events import Envelope
from services.alerts.alerts.models import ALERTS, MATCHES
from tests.integration.alerts.conftest import AlertsStack
from tests.integration.alerts.support import report_event, tokens_for, until
from tests.integration.alerts.test_escalation import _minutes_pass, _watch, escalating
from tests.support.natsd import NatsServer


def follow_up_event(
    original: str, status: str, tokens: list[dict[str, Any]] | None = None
) -> Envelope:
    """A follow-up's `report.received` as intake publishes it."""
    report_id = str(uuid.uuid4())
    data = {
        "report_id": report_id,
        "partner_id": "ngo-kg",
        "client_report_id": f"case-{report_id[:8]}",
        "incident_type": {"deported": "deportation", "released": "release"}.get(
            status, "detention"
        ),
        "legal_basis": "cis_interstate_search",
        "country": "KG",
        "facility_kind": "airport",
        "occurred_at": "2026-11-21T06:40:00+06:00",
        "received_at": datetime.now(UTC).isoformat(),
        "tlp": "AMBER",
        "tokens": tokens or [],
        "sealed": "c2VhbGVk",
        "follows": original,
        "status": status,
    }
    return new_event(ReportReceived.model_validate(data), "intake", report_id, at=datetime.now(UTC))


async def _detail(stack: AlertsStack, alert_id: str) -> dict[str, Any]:
    resp = await stack.call("GET", f"/v1/alerts/{alert_id}")
    assert resp.status_code == 200, resp.text
    return dict(resp.json())


async def test_follow_ups_update_the_same_alert_and_a_worse_one_reopens_escalation(
    nats_server: NatsServer, db_url_factory: Any, tmp_path: Path
) -> None:
    async with escalating(nats_server, db_url_factory, tmp_path) as (stack, hooks):
        await _watch(stack)
        original = report_event(tokens_for("SKORIAKIN LEV", "14.03.1999"))
        await stack.publish(original)
        assert await until(lambda: hooks["lawyer"].alerts("alert.created"))
        alert_id = hooks["lawyer"].alerts("alert.created")[0].payload["data"]["alert_id"]
        await _minutes_pass(stack, 1)  # step 1: the backup is paged, then the lawyer acks
        assert await until(lambda: hooks["backup"].alerts("alert.escalated"))
        assert (await stack.call("POST", f"/v1/alerts/{alert_id}/ack")).status_code == 200
        assert await until(lambda: hooks["backup"].alerts("alert.acknowledged"))
        await _minutes_pass(stack, 2)
        assert len(hooks["backup"].alerts("alert.escalated")) == 1  # acknowledged: no more

        # Deported: worse than held. The same lawyer hears it, and escalation starts again.
        deported = follow_up_event(original.data["report_id"], "deported")
        await stack.publish(deported)
        assert await until(lambda: hooks["lawyer"].alerts("alert.updated"))
        (update,) = hooks["lawyer"].alerts("alert.updated")
        data = update.payload["data"]
        assert data["alert_id"] == alert_id and data["update"]["status"] == "deported"
        shown = await _detail(stack, alert_id)
        assert shown["status"] == "open" and shown["acknowledged"] is None
        assert shown["case_status"] == "deported"
        assert [
            (u["report_id"], u["status"], u["worse"], u["reopened"]) for u in shown["updates"]
        ] == [(deported.data["report_id"], "deported", True, True)]
        await _minutes_pass(stack, 1)  # a new round: its pages are not the first round's
        assert await until(lambda: len(hooks["backup"].alerts("alert.escalated")) == 2)

        # Acknowledged again (the backup hears it again); released is better news: told, but
        # nothing re-opens.
        assert (await stack.call("POST", f"/v1/alerts/{alert_id}/ack")).status_code == 200
        assert await until(lambda: len(hooks["backup"].alerts("alert.acknowledged")) == 2)
        escalated = len(hooks["backup"].alerts("alert.escalated"))
        released = follow_up_event(original.data["report_id"], "released")
        await stack.publish(released)
        assert await until(lambda: len(hooks["lawyer"].alerts("alert.updated")) == 2)
        assert hooks["lawyer"].alerts("alert.updated")[1].payload["data"]["update"] == {
            "kind": "follow_up",
            "status": "released",
        }
        shown = await _detail(stack, alert_id)
        assert shown["status"] == "acknowledged" and shown["case_status"] == "released"
        assert [u["reopened"] for u in shown["updates"]] == [True, False]
        await _minutes_pass(stack, 3)
        assert len(hooks["backup"].alerts("alert.escalated")) == escalated

        # A redelivered follow-up changes nothing; the backup and duty never hear of updates.
        await stack.publish(released)
        await _minutes_pass(stack, 0)
        assert len(hooks["lawyer"].alerts("alert.updated")) == 2
        assert hooks["backup"].alerts("alert.updated") == []
        assert hooks["duty"].alerts("alert.updated") == []
        # One alert and one match: the follow-ups joined the alert of the original.
        assert await stack.db(select(func.count()).select_from(ALERTS)) == [(1,)]
        assert await stack.db(select(func.count()).select_from(MATCHES)) == [(1,)]
        assert hooks["lawyer"].alerts("alert.created") == [
            hooks["lawyer"].alerts("alert.created")[0]
        ]


async def test_a_follow_up_naming_someone_else_watched_is_a_new_alert_for_them(
    nats_server: NatsServer, db_url_factory: Any, tmp_path: Path
) -> None:
    async with escalating(nats_server, db_url_factory, tmp_path) as (stack, hooks):
        await _watch(stack)
        await _watch(stack, name="Анна Петрова", dob="1990-01-02", label="client 13")
        original = report_event(tokens_for("SKORIAKIN LEV", "14.03.1999"))
        await stack.publish(original)
        assert await until(lambda: hooks["lawyer"].alerts("alert.created"))
        # The follow-up's tokens name Anna, whom no alert of the original is about.
        tokens = tokens_for("PETROVA ANNA", "02.01.1990")[:16]
        await stack.publish(follow_up_event(original.data["report_id"], "transferred", tokens))
        assert await until(lambda: hooks["lawyer"].alerts("alert.updated"))
        assert await until(lambda: len(hooks["lawyer"].alerts("alert.created")) == 2)
        labels = sorted(h.payload["data"]["label"] for h in hooks["lawyer"].alerts("alert.created"))
        assert labels == ["client 12", "client 13"]
        assert await stack.db(select(func.count()).select_from(ALERTS)) == [(2,)]
