"""Resolving an alert: the outcome and an encrypted note; an open alert is acknowledged first."""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select

from services.alerts.alerts.models import ALERTS
from tests.integration.alerts.conftest import AlertsStack
from tests.integration.alerts.support import erased_event, until
from tests.integration.alerts.test_delivery import page_lev, setup_lawyer
from tests.integration.alerts.test_escalation import _minutes_pass, _until_backup_paged, escalating
from tests.support.natsd import NatsServer

NOTE = "Лев Скорякин is held in SIZO-1 Bishkek.\nHearing on Monday; Anna Petrova attends."


async def _open_alert(stack: AlertsStack) -> dict[str, Any]:
    await setup_lawyer(stack)
    await page_lev(stack)
    alerts = await until(lambda: _alerts(stack))
    assert alerts, "no alert was created"
    return dict(alerts[0])


async def _alerts(stack: AlertsStack, **params: str) -> list[dict[str, Any]]:
    resp = await stack.call("GET", "/v1/alerts", params=params)
    assert resp.status_code == 200, resp.text
    return list(resp.json()["alerts"])


async def _resolve(stack: AlertsStack, alert_id: str, **kw: Any) -> Any:
    return await stack.call("POST", f"/v1/alerts/{alert_id}/resolve", **kw)


async def test_resolving_an_open_alert_acknowledges_it_stops_escalation_and_tells_the_others(
    nats_server: NatsServer, db_url_factory: Any, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO)
    async with escalating(nats_server, db_url_factory, tmp_path) as (stack, hooks):
        await _until_backup_paged(stack, hooks)
        (alert,) = await _alerts(stack)
        assert alert["status"] == "open" and alert["resolution"] is None
        body = {"outcome": "held_pending_extradition", "note": NOTE}
        resp = await _resolve(stack, alert["id"], json=body)
        assert resp.status_code == 200, resp.text
        out = resp.json()
        assert out["status"] == "resolved"
        assert out["acknowledged"]["by"] == "lawyer-1" and out["acknowledged"]["via"] == "api"
        resolution = out["resolution"]
        assert (resolution["outcome"], resolution["note"], resolution["by"]) == (
            "held_pending_extradition",
            NOTE,
            "lawyer-1",
        )
        # Told exactly as an ack tells: the backup who was paged hears who took it.
        assert await until(lambda: hooks["backup"].alerts("alert.acknowledged"))
        assert hooks["lawyer"].alerts("alert.acknowledged") == []
        escalated = {name: len(h.alerts("alert.escalated")) for name, h in hooks.items()}
        await _minutes_pass(stack, 3)  # past the duty step and the repeat: nothing more comes
        assert {name: len(h.alerts("alert.escalated")) for name, h in hooks.items()} == escalated
        assert hooks["duty"].hits == []
        (row,) = await stack.db(select(ALERTS).where(ALERTS.c.id == alert["id"]))
        assert row.next_step_at is None and row.status == "resolved"
        # At rest the note is ciphertext: neither the row nor the log holds any of it.
        stored = repr(tuple(row)).encode() + b"".join(v for v in row if isinstance(v, bytes))
        for fragment in ("Скорякин", "SIZO-1", "Petrova", "Hearing"):
            assert fragment.encode() not in stored and fragment not in repr(tuple(row))
            assert fragment not in caplog.text
        assert "alert resolved" in caplog.text  # the log was seen: it just holds no note
        # The list filter knows the new status.
        assert [a["id"] for a in await _alerts(stack, status="resolved")] == [alert["id"]]
        assert await _alerts(stack, status="open") == []
        shown = (await stack.call("GET", f"/v1/alerts/{alert['id']}")).json()
        assert shown["resolution"]["note"] == NOTE


async def test_an_acknowledged_alert_is_resolved_and_resolving_again_replaces_it(
    stack: AlertsStack,
) -> None:
    alert = await _open_alert(stack)
    assert (await stack.call("POST", f"/v1/alerts/{alert['id']}/ack")).status_code == 200
    first = await _resolve(stack, alert["id"], json={"outcome": "extradited", "note": "a\nb"})
    assert first.status_code == 200, first.text
    assert first.json()["resolution"]["note"] == "a\nb"
    assert first.json()["acknowledged"]["via"] == "api"
    # The lawyer corrects a mistake: the outcome and the note are replaced (no note: none).
    again = await _resolve(stack, alert["id"], json={"outcome": "released"})
    assert again.status_code == 200, again.text
    assert again.json()["status"] == "resolved"
    assert (again.json()["resolution"]["outcome"], again.json()["resolution"]["note"]) == (
        "released",
        None,
    )
    (row,) = await stack.db(select(ALERTS.c.resolution_note).where(ALERTS.c.id == alert["id"]))
    assert row.resolution_note is None


async def test_a_withdrawn_alert_cannot_be_resolved(stack: AlertsStack) -> None:
    await setup_lawyer(stack)
    report_id = await page_lev(stack)
    assert await until(lambda: _alerts(stack))
    (alert,) = await _alerts(stack)
    await stack.publish(erased_event(report_id))
    assert await until(lambda: _alerts(stack, status="withdrawn"))
    resp = await _resolve(stack, alert["id"], json={"outcome": "released", "note": "x"})
    assert resp.status_code == 409 and resp.json()["code"] == "alert_withdrawn"
    (row,) = await stack.db(select(ALERTS).where(ALERTS.c.id == alert["id"]))
    assert (row.status, row.resolution, row.resolution_note) == ("withdrawn", None, None)


BAD = [
    ("unknown outcome", {"outcome": "escaped"}, "outcome"),
    ("no outcome", {"note": "x"}, "outcome"),
    ("escape sequence", {"outcome": "other", "note": "a\x1b[31mb"}, "note"),
    ("NUL", {"outcome": "other", "note": "a\x00b"}, "note"),
    ("too long", {"outcome": "other", "note": "x" * 2001}, "note"),
    ("unknown field", {"outcome": "other", "name": "Lev"}, "name"),
]


@pytest.mark.parametrize(("label", "body", "field"), BAD, ids=[b[0] for b in BAD])
async def test_bad_resolutions_are_refused_and_change_nothing(
    stack: AlertsStack, label: str, body: dict[str, Any], field: str
) -> None:
    alert = await _open_alert(stack)
    resp = await _resolve(stack, alert["id"], json=body)
    assert resp.status_code == 422, resp.text
    assert resp.json()["code"] == "invalid_input"
    assert field in [f["path"] for f in resp.json()["fields"]]
    assert "Lev" not in resp.text and "\x1b" not in resp.text
    # Nothing was written: not even the acknowledgement a valid resolution begins with.
    (now,) = await _alerts(stack)
    assert now["status"] == "open" and now["acknowledged"] is None and now["resolution"] is None


async def test_another_lawyers_alert_is_not_found(stack: AlertsStack) -> None:
    alert = await _open_alert(stack)
    other = {"client_id": "lawyer-2", "org": "bar-2"}
    resp = await _resolve(stack, alert["id"], json={"outcome": "released"}, **other)
    assert resp.status_code == 404 and resp.json()["code"] == "not_found"
    assert (await _resolve(stack, "no-such-alert", json={"outcome": "released"})).status_code == 404
    reader = {"scopes": ("alerts:read",)}
    assert (
        await _resolve(stack, alert["id"], json={"outcome": "released"}, **reader)
    ).status_code == 403
    (mine,) = await _alerts(stack)
    assert mine["status"] == "open" and mine["resolution"] is None


async def test_a_report_after_the_resolution_opens_a_new_alert_and_pages_again(
    stack: AlertsStack,
) -> None:
    alert = await _open_alert(stack)
    assert await until(lambda: stack.mailbox.to("lawyer@example.org"))
    resp = await _resolve(stack, alert["id"], json={"outcome": "released"})
    assert resp.status_code == 200, resp.text
    # Released, then detained again on the same request: a new case, not a footnote.
    await page_lev(stack)
    assert await until(lambda: len(stack.mailbox.to("lawyer@example.org")) == 2)
    alerts = await _alerts(stack)
    assert [a["status"] for a in alerts] == ["open", "resolved"]
    assert alerts[1]["id"] == alert["id"] and alerts[1]["report_count"] == 1
