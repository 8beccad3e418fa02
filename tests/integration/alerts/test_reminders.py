"""Resolve reminders: an acknowledged alert nobody resolved reminds its lawyer, by the clock.

The service runs on a fake clock (see `test_escalation`); reminders come after 2 minutes, then
every minute, at most twice, to the lawyer's own channels only.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from sqlalchemy import select

from services.alerts.alerts.models import ALERTS
from tests.integration.alerts.support import report_event, tokens_for, until
from tests.integration.alerts.test_escalation import (
    DELIVERIES,
    _minutes_pass,
    _watch,
    escalating,
)
from tests.integration.alerts.test_followups import follow_up_event
from tests.support.natsd import NatsServer

REMIND = {
    "resolve_reminder_minutes": 2,
    "resolve_reminder_repeat_minutes": 1,
    "resolve_reminder_max": 2,
}
KIND = "alert.resolve_reminder"


async def _acked_alert(stack: Any, hooks: Any) -> str:
    """Watch the client, report them detained, acknowledge the alert at once; its id."""
    await _watch(stack)
    await stack.publish(report_event(tokens_for("SKORIAKIN LEV", "14.03.1999")))
    assert await until(lambda: hooks["lawyer"].alerts("alert.created"))
    (hit,) = hooks["lawyer"].alerts("alert.created")
    alert_id = str(hit.payload["data"]["alert_id"])
    resp = await stack.call("POST", f"/v1/alerts/{alert_id}/ack")
    assert resp.status_code == 200, resp.text
    return alert_id


async def test_an_unresolved_alert_reminds_its_lawyer_then_repeats_up_to_the_cap(
    nats_server: NatsServer, db_url_factory: Any, tmp_path: Path
) -> None:
    setup = escalating(nats_server, db_url_factory, tmp_path, duty_after=3, **REMIND)
    async with setup as (stack, hooks):
        alert_id = await _acked_alert(stack, hooks)
        await _minutes_pass(stack, 1)
        assert hooks["lawyer"].alerts(KIND) == []  # not yet: 2 minutes after the ack
        await _minutes_pass(stack, 1)
        assert await until(lambda: len(hooks["lawyer"].alerts(KIND)) == 1)
        (first,) = hooks["lawyer"].alerts(KIND)
        assert first.payload["data"]["alert_id"] == alert_id
        assert first.payload["data"]["acknowledged"]["by"] == "lawyer-1"
        assert first.payload["data"]["ack_url"] is None  # nothing to acknowledge any more
        await _minutes_pass(stack, 1)
        assert await until(lambda: len(hooks["lawyer"].alerts(KIND)) == 2)
        await _minutes_pass(stack, 3)  # the cap is reached: nothing more comes
        assert len(hooks["lawyer"].alerts(KIND)) == 2
        # Only the lawyer is reminded: backups and the duty desk heard of the ack, no more.
        assert hooks["backup"].alerts(KIND) == [] and hooks["duty"].alerts(KIND) == []
        assert len({h.webhook_id for h in hooks["lawyer"].alerts(KIND)}) == 2
        assert all(r.rejected == 0 for r in hooks.values())
        (row,) = await stack.db(select(ALERTS).where(ALERTS.c.id == alert_id))
        assert (row.status, row.reminders_sent, row.remind_at) == ("acknowledged", 2, None)


async def test_resolving_stops_the_reminders(
    nats_server: NatsServer, db_url_factory: Any, tmp_path: Path
) -> None:
    setup = escalating(nats_server, db_url_factory, tmp_path, duty_after=3, **REMIND)
    async with setup as (stack, hooks):
        alert_id = await _acked_alert(stack, hooks)
        await _minutes_pass(stack, 2)
        assert await until(lambda: len(hooks["lawyer"].alerts(KIND)) == 1)
        body = {"outcome": "held_pending_extradition"}
        resp = await stack.call("POST", f"/v1/alerts/{alert_id}/resolve", json=body)
        assert resp.status_code == 200, resp.text
        await _minutes_pass(stack, 3)
        assert len(hooks["lawyer"].alerts(KIND)) == 1
        kinds = [r.kind for r in await stack.db(select(DELIVERIES.c.kind))]
        assert kinds.count("resolve_reminder") == 1
        (row,) = await stack.db(select(ALERTS).where(ALERTS.c.id == alert_id))
        assert (row.status, row.remind_at) == ("resolved", None)


async def test_no_reminder_when_the_lawyer_resolves_in_time(
    nats_server: NatsServer, db_url_factory: Any, tmp_path: Path
) -> None:
    setup = escalating(nats_server, db_url_factory, tmp_path, duty_after=3, **REMIND)
    async with setup as (stack, hooks):
        alert_id = await _acked_alert(stack, hooks)
        await _minutes_pass(stack, 1)
        resp = await stack.call(
            "POST", f"/v1/alerts/{alert_id}/resolve", json={"outcome": "released"}
        )
        assert resp.status_code == 200, resp.text
        await _minutes_pass(stack, 4)
        assert hooks["lawyer"].alerts(KIND) == []


async def test_a_reopened_alert_starts_its_reminders_over(
    nats_server: NatsServer, db_url_factory: Any, tmp_path: Path
) -> None:
    once = {**REMIND, "resolve_reminder_max": 1}
    setup = escalating(nats_server, db_url_factory, tmp_path, duty_after=3, **once)
    async with setup as (stack, hooks):
        await _watch(stack)
        original = report_event(tokens_for("SKORIAKIN LEV", "14.03.1999"))
        await stack.publish(original)
        assert await until(lambda: hooks["lawyer"].alerts("alert.created"))
        alert_id = hooks["lawyer"].alerts("alert.created")[0].payload["data"]["alert_id"]
        assert (await stack.call("POST", f"/v1/alerts/{alert_id}/ack")).status_code == 200
        await _minutes_pass(stack, 2)
        assert await until(lambda: len(hooks["lawyer"].alerts(KIND)) == 1)
        await _minutes_pass(stack, 1)
        assert len(hooks["lawyer"].alerts(KIND)) == 1  # capped at one
        # Deported: worse news re-opens the alert; acknowledged again, it reminds anew.
        await stack.publish(follow_up_event(original.data["report_id"], "deported"))
        assert await until(lambda: hooks["lawyer"].alerts("alert.updated"))
        assert (await stack.call("POST", f"/v1/alerts/{alert_id}/ack")).status_code == 200
        await _minutes_pass(stack, 1)
        assert len(hooks["lawyer"].alerts(KIND)) == 1
        await _minutes_pass(stack, 1)
        assert await until(lambda: len(hooks["lawyer"].alerts(KIND)) == 2)
        assert len({h.webhook_id for h in hooks["lawyer"].alerts(KIND)}) == 2
