"""Retention across the services, real sharing and real alerts on one NATS: a report the sweep
erases withdraws its alert as a person's erasure does; alerts' own prunes reach the audit chain."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from libs.common.clock import FakeClock
from services.alerts.retention.domain import AlertsRetention
from services.alerts.retention.service import RetentionSweeper
from tests.integration.alerts.conftest import alerts_stack_on
from tests.integration.alerts.support import tokens_for, until
from tests.integration.alerts.test_delivery import setup_lawyer
from tests.integration.vault.conftest import Vault
from tests.integration.vault.test_retention import OCCURRED, audit, set_retention, sweeper
from tests.support.natsd import NatsServer
from tests.support.reports import report_body


async def test_an_expired_report_withdraws_its_alert(
    vault: Vault, nats_server: NatsServer, db_url_factory: Callable[[str], str], tmp_path: Path
) -> None:
    a = await vault.client("reports:read", "reports:manage")
    await set_retention(vault, a.partner_id, days=30)
    async with alerts_stack_on(
        nats_server.url, db_url_factory("alerts"), tmp_path, stand_in_for_sharing=False
    ) as stack:
        await setup_lawyer(stack)
        subject = {"tokens": tokens_for("SKORIAKIN LEV", "14.03.1999"), "sex": "male"}
        body = report_body(subject=subject, occurred_at=OCCURRED)
        received = datetime.now(UTC) - timedelta(days=31)
        report_id, event = vault.event(a.partner_id, body, received_at=received)
        await vault.publish(event)
        await vault.stored(report_id)

        async def alerts() -> list[dict[str, Any]]:
            return list((await stack.call("GET", "/v1/alerts")).json()["alerts"])

        (alert,) = await until(alerts)
        assert (alert["report_id"], alert["status"]) == (report_id, "open")

        assert (await sweeper(vault, FakeClock()).sweep())["reports_erased"] == 1

        async def withdrawn() -> list[dict[str, Any]]:
            return [a for a in await alerts() if a["status"] == "withdrawn"]

        assert [a["id"] for a in await until(withdrawn, timeout=15)] == [alert["id"]]


async def test_alerts_prunes_are_appended_to_the_audit_chain_once(
    vault: Vault, nats_server: NatsServer, db_url_factory: Callable[[str], str], tmp_path: Path
) -> None:
    a = await vault.client("reports:read", "reports:manage")
    async with alerts_stack_on(
        nats_server.url, db_url_factory("alerts"), tmp_path, stand_in_for_sharing=False
    ) as stack:
        await setup_lawyer(stack)
        subject = {"tokens": tokens_for("SKORIAKIN LEV", "14.03.1999"), "sex": "male"}
        report_id, event = vault.event(a.partner_id, report_body(subject=subject))
        await vault.publish(event)
        await vault.stored(report_id)

        async def alerts() -> list[dict[str, Any]]:
            return list((await stack.call("GET", "/v1/alerts")).json()["alerts"])

        (alert,) = await until(alerts)
        done = await stack.call(
            "POST", f"/v1/alerts/{alert['id']}/resolve", json={"outcome": "released"}
        )
        assert done.status_code == 200, done.text

        container = stack.app.state.container
        clock = FakeClock()
        clock.advance(31 * 86400)
        limits = AlertsRetention(
            alert_days=30, attempt_days=None, warning_days=None, batch=100, interval_s=3600.0
        )
        run = RetentionSweeper(
            container.runtime.sessions, limits, clock=clock, wake_relay=container.relay.wake
        )
        counts = await run.sweep()
        assert counts["alerts"] == 1

        async def recorded() -> list[dict[str, Any]]:
            return [e for e in await audit(vault, "retention.sweep") if e["target"] == "alerts"]

        (entry,) = await until(recorded, timeout=15)
        assert entry["actor"] == "retention"
        assert entry["details"] == counts  # counts only: no alert, report or lawyer id
        # A run that pruned nothing publishes nothing; the entry stays the only one.
        assert not any((await run.sweep()).values())
        await asyncio.sleep(1.0)
        assert len(await recorded()) == 1
        verified = await vault.admin_call("GET", "/v1/admin/audit/verify")
        assert verified.status_code == 200 and verified.json()["ok"] is True, verified.text
