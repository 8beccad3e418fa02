"""Retention: reports past their partner's period are crypto-shredded by the sweep, through the
same erasure as a person's request; old read-log rows go; the audit chain stays whole."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
from nats.js.api import ConsumerConfig, DeliverPolicy

from libs.common.clock import FakeClock
from libs.common.events import Envelope
from libs.common.subjects import REPORT_ERASED
from services.sharing.container import Container
from services.sharing.retention.domain import Periods, SweepLimits
from services.sharing.retention.sweep import RetentionSweeper
from tests.integration.vault.conftest import Vault, grant, running_vault, vault_settings
from tests.support.natsd import NatsServer
from tests.support.receivers import until

NEW_ONLY = ConsumerConfig(deliver_policy=DeliverPolicy.NEW)
OCCURRED = "2026-01-10T06:40:00+06:00"  # before every receipt time the tests make up


def sweeper(vault: Vault, clock: FakeClock, **limits: Any) -> RetentionSweeper:
    """The service's own sweep (its sessions, its erasure), with a clock the test moves."""
    container: Container = vault.app.state.container
    bounds = {"reports": Periods(), "read_log_days": None, "batch": 100, "interval_s": 3600.0}
    return RetentionSweeper(
        container.runtime.sessions, container.actions, SweepLimits(**bounds | limits), clock=clock
    )


async def set_retention(vault: Vault, partner_id: str, **body: Any) -> dict[str, Any]:
    """Set a partner's periods as an administrator does."""
    resp = await vault.admin_call("PUT", f"/v1/admin/partners/{partner_id}/retention", json=body)
    assert resp.status_code == 200, resp.text
    return dict(resp.json())


async def audit(vault: Vault, action: str) -> list[dict[str, Any]]:
    """The audit entries of one action, oldest first."""
    resp = await vault.admin_call("GET", "/v1/admin/audit", params={"limit": 1000})
    return [e for e in resp.json()["entries"] if e["action"] == action]


async def verified(vault: Vault) -> bool:
    """Whether the audit chain still verifies from its first entry."""
    return bool((await vault.admin_call("GET", "/v1/admin/audit/verify")).json()["ok"])


def days_ago(days: float) -> datetime:
    """A receipt time `days` before now."""
    return datetime.now(UTC) - timedelta(days=days)


async def test_a_report_past_its_partners_period_is_erased_as_a_request_would(vault: Vault) -> None:
    a = await vault.client("reports:read", "reports:manage")
    b = await vault.client("reports:read")
    await vault.set_policy(b.partner_id, grant(fields=["incident_type", "narrative"]))
    shown = await set_retention(vault, a.partner_id, days=30)
    assert shown["own"] == {"days": 30, "tlp": {}}
    assert shown["effective"]["AMBER"] == 30
    sub = await vault.nc.jetstream().subscribe(
        REPORT_ERASED, ordered_consumer=True, config=NEW_ONLY
    )
    old = await vault.submit(a.partner_id, received_at=days_ago(31), occurred_at=OCCURRED)
    young = await vault.submit(a.partner_id, received_at=days_ago(5), occurred_at=OCCURRED)
    clock = FakeClock()

    counts = await sweeper(vault, clock).sweep()

    assert counts == {"reports_erased": 1, "read_log_pruned": 0}
    for reader in (a, b):
        assert (await vault.call(reader, "GET", f"/v1/reports/{old}")).status_code == 410
        assert (await vault.call(reader, "GET", f"/v1/reports/{young}")).status_code == 200
    assert await vault.sql("SELECT * FROM vault_data_keys WHERE report_id = :r", r=old) == []
    assert await vault.sql("SELECT * FROM vault_fields WHERE report_id = :r", r=old) == []
    assert await vault.sql("SELECT * FROM vault_data_keys WHERE report_id = :r", r=young) != []
    # The event every other service erases its copies on, exactly as after a DELETE.
    erased = Envelope.model_validate_json((await sub.next_msg(timeout=10)).data)
    assert erased.data == {"report_id": old, "partner_id": a.partner_id}
    (entry,) = await audit(vault, "report.erase")
    assert (entry["target"], entry["actor"]) == (old, "retention")
    assert entry["details"] == {"partner": a.partner_id, "reason": "retention", "days": 30}
    (sweep,) = await audit(vault, "retention.sweep")
    assert sweep["details"] == {"reports_erased": 1, "read_log_pruned": 0, "more": True}
    (setting,) = await audit(vault, "retention.set")
    assert setting["target"] == a.partner_id and setting["details"]["shortens"] is True
    assert await verified(vault)

    # The young one goes once it too is past 30 days; nothing else was due meanwhile.
    assert await sweeper(vault, clock).sweep() == {"reports_erased": 0, "read_log_pruned": 0}
    clock.advance(26 * 86400)
    assert (await sweeper(vault, clock).sweep())["reports_erased"] == 1
    assert (await vault.call(a, "GET", f"/v1/reports/{young}")).status_code == 410


async def test_a_shorter_period_for_red_reports(vault: Vault) -> None:
    a = await vault.client("reports:read", "reports:manage")
    shown = await set_retention(vault, a.partner_id, days=365, tlp={"RED": 7})
    assert shown["effective"] == {
        "CLEAR": 365,
        "GREEN": 365,
        "AMBER": 365,
        "AMBER+STRICT": 365,
        "RED": 7,
    }
    red = await vault.submit(a.partner_id, received_at=days_ago(8), tlp="RED", occurred_at=OCCURRED)
    amber = await vault.submit(a.partner_id, received_at=days_ago(8), occurred_at=OCCURRED)
    # Another partner's reports follow the network's default (here: kept for ever).
    other = await vault.client("reports:read")
    theirs = await vault.submit(
        other.partner_id, received_at=days_ago(400), tlp="RED", occurred_at=OCCURRED
    )

    assert (await sweeper(vault, FakeClock()).sweep())["reports_erased"] == 1

    assert (await vault.call(a, "GET", f"/v1/reports/{red}")).status_code == 410
    assert (await vault.call(a, "GET", f"/v1/reports/{amber}")).status_code == 200
    assert (await vault.call(other, "GET", f"/v1/reports/{theirs}")).status_code == 200
    # The network's own RED period reaches partners that set none.
    network = Periods(None, {"RED": 90})
    assert (await sweeper(vault, FakeClock(), reports=network).sweep())["reports_erased"] == 1
    assert (await vault.call(other, "GET", f"/v1/reports/{theirs}")).status_code == 410


async def test_a_case_chain_expires_from_its_latest_report(vault: Vault) -> None:
    a = await vault.client("reports:read", "reports:manage")
    await set_retention(vault, a.partner_id, days=30)
    original = await vault.submit(a.partner_id, received_at=days_ago(40), occurred_at=OCCURRED)
    follow_up = await vault.submit(
        a.partner_id, received_at=days_ago(10), occurred_at=OCCURRED, follows=original
    )
    clock = FakeClock()

    # The original is past 30 days, but a live follow-up names it: the case stays whole.
    assert (await sweeper(vault, clock).sweep())["reports_erased"] == 0
    view = (await vault.call(a, "GET", f"/v1/reports/{original}")).json()
    assert view["follow_ups"] == [follow_up]

    clock.advance(21 * 86400)
    swept = sweeper(vault, clock)
    assert (await swept.sweep())["reports_erased"] == 1  # the follow-up first …
    assert (await swept.sweep())["reports_erased"] == 1  # … then the report it followed up
    for report_id in (original, follow_up):
        assert (await vault.call(a, "GET", f"/v1/reports/{report_id}")).status_code == 410


async def test_a_large_backlog_is_erased_in_bounded_runs(vault: Vault) -> None:
    a = await vault.client("reports:read", "reports:manage")
    await set_retention(vault, a.partner_id, days=30)
    ids = [
        await vault.submit(a.partner_id, received_at=days_ago(60 - i), occurred_at=OCCURRED)
        for i in range(25)
    ]
    swept = sweeper(vault, FakeClock(), batch=10)

    runs = [await swept.sweep() for _ in range(4)]

    assert [r["reports_erased"] for r in runs] == [10, 10, 5, 0]
    # One transaction per report: each has its own erasure entry, oldest first.
    assert [e["target"] for e in await audit(vault, "report.erase")] == ids
    assert [e["details"]["more"] for e in await audit(vault, "retention.sweep")] == [
        True,
        True,
        True,
    ]
    assert await verified(vault)


async def test_old_read_log_rows_are_pruned_and_the_audit_chain_still_verifies(
    vault: Vault,
) -> None:
    a = await vault.client("reports:read", "reports:manage")
    report_id = await vault.submit(a.partner_id, occurred_at=OCCURRED)
    assert (await vault.call(a, "GET", f"/v1/reports/{report_id}")).status_code == 200
    reads = f"/v1/reports/{report_id}/reads"
    assert len((await vault.call(a, "GET", reads)).json()) == 1
    clock = FakeClock()

    assert (await sweeper(vault, clock, read_log_days=30).sweep())["read_log_pruned"] == 0
    clock.advance(31 * 86400)
    counts = await sweeper(vault, clock, read_log_days=30).sweep()

    assert counts == {"reports_erased": 0, "read_log_pruned": 1}
    assert (await vault.call(a, "GET", reads)).json() == []
    # The chain keeps its `report.read` entry: only the partner-facing read log was pruned.
    assert [e["target"] for e in await audit(vault, "report.read")] == [report_id]
    (sweep,) = await audit(vault, "retention.sweep")
    assert sweep["details"] == {"reports_erased": 0, "read_log_pruned": 1, "more": False}
    assert await verified(vault)
    network = (await vault.admin_call("GET", "/v1/admin/retention")).json()
    assert network["sweeps"]["sharing"]["last_counts"] == {
        "reports_erased": 0,
        "read_log_pruned": 1,
    }


async def test_the_running_service_sweeps_by_itself_with_the_networks_periods(
    nats_server: NatsServer, db_url_factory: Callable[[str], str], tmp_path: Path
) -> None:
    settings = vault_settings(
        tmp_path,
        nats_server.url,
        db_url_factory("sharing"),
        retention_report_tlp_days={"RED": 30},
        retention_interval_s=0.2,
    )
    async with httpx.AsyncClient(timeout=15) as http, running_vault(settings, http) as vault:
        a = await vault.client("reports:read", "reports:manage")
        red = await vault.submit(
            a.partner_id, received_at=days_ago(31), tlp="RED", occurred_at=OCCURRED
        )
        amber = await vault.submit(a.partner_id, received_at=days_ago(31), occurred_at=OCCURRED)

        async def gone() -> bool:
            got = await vault.call(a, "GET", f"/v1/reports/{red}")
            return got.status_code == 410

        assert await until(gone, timeout=15)
        assert (await vault.call(a, "GET", f"/v1/reports/{amber}")).status_code == 200
        shown = (await vault.admin_call("GET", "/v1/admin/retention")).json()
        assert shown["reports"] == {"days": None, "tlp": {"RED": 30}}
        assert shown["sweeps"]["sharing"]["last_pruned_at"] is not None
