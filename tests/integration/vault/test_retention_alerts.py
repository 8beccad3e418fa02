"""A report the retention sweep erases reaches alerts as a person's erasure does: real sharing
and real alerts on one NATS, the alert about it withdrawn."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from libs.common.clock import FakeClock
from tests.integration.alerts.conftest import alerts_stack_on
from tests.integration.alerts.support import tokens_for, until
from tests.integration.alerts.test_delivery import setup_lawyer
from tests.integration.vault.conftest import Vault
from tests.integration.vault.test_retention import OCCURRED, set_retention, sweeper
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
