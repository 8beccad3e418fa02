"""Erasure reaches every copy: a report's sealed copy leaves the bus once every reader has it.

The network runs as `lifeline up` runs it (a secured nats-server, each service under its own
certificate; sharing, intake and alerts as real apps). The attacker holds every key: sharing's
HPKE private key opens any sealed copy left in the NATS store, intake's database or the logs.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator, Callable
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from pathlib import Path
from typing import Any

import httpx
import pytest

from libs.common.logging import JsonFormatter
from libs.common.subjects import REPORT_RECEIVED, stream_for
from services.alerts.app import create_app as alerts_app
from services.alerts.settings import AlertsSettings
from services.intake.app import create_app as intake_app
from services.intake.settings import IntakeSettings
from services.sharing.app import create_app as sharing_app
from services.sharing.settings import SharingSettings
from services.sharing.vault.copies.service import BusJanitor
from services.sharing.vault.keys.keystore import HpkeKeyStore
from tests.support.access import Client, bootstrap_admin, register_client
from tests.support.bus import SecuredBus, start_secured_bus
from tests.support.reports import report_body
from tests.support.seizure import opened, store_bytes
from tests.support.servers import serve_app, service_settings

STREAM = stream_for(REPORT_RECEIVED).name


async def until(check: Callable[[], Any], timeout: float = 20.0) -> Any:
    """Poll `check` (sync or async) until it returns something truthy."""
    deadline = asyncio.get_running_loop().time() + timeout
    while True:
        result = check()
        if asyncio.iscoroutine(result):
            result = await result
        if result or asyncio.get_running_loop().time() > deadline:
            return result
        await asyncio.sleep(0.1)


class Network:
    """sharing and intake on the secured bus; alerts started and stopped by the test."""

    def __init__(self, tmp: Path, bus: SecuredBus, sharing_db: str) -> None:
        self.tmp, self.bus = tmp, bus
        self.sharing = self._settings(SharingSettings, "sharing", sharing_db)
        self.keys = HpkeKeyStore.open(self.sharing.resolved_hpke_key_file())
        self.intake_db = tmp / "intake" / "intake.db"
        self.url = ""
        self.http = httpx.AsyncClient(timeout=15)
        self.submitter: Client | None = None

    def _settings(self, cls: type[Any], name: str, db_url: str, **extra: Any) -> Any:
        return service_settings(
            cls,
            self.tmp / name,
            self.bus.url,
            db_url,
            **self.bus.settings(name),
            **extra,
        )

    def alerts(self) -> AbstractAsyncContextManager[Any]:
        """Run alerts (its durable `alerts-reports` reads `report.received`)."""
        db = f"sqlite+aiosqlite:///{self.tmp / 'alerts' / 'alerts.db'}"
        return serve_app(
            alerts_app, self._settings(AlertsSettings, "alerts", db, sharing_url=self.url)
        )

    def intake(self) -> AbstractAsyncContextManager[Any]:
        """Run intake, pinned to sharing's sealing key."""
        fingerprint = self.keys.active().public_view()["fingerprint"]
        settings = self._settings(
            IntakeSettings,
            "intake",
            f"sqlite+aiosqlite:///{self.intake_db}",
            sharing_url=self.url,
            sharing_hpke_fingerprints=fingerprint,
        )
        return serve_app(intake_app, settings)

    async def submit(self, intake: str, narrative: str) -> str:
        """Submit through intake; the report id once sharing stored it."""
        assert self.submitter is not None
        headers = await self.submitter.headers(self.http)
        body = report_body(narrative=narrative)
        resp = await self.http.post(f"{intake}/v1/reports", json=body, headers=headers)
        assert resp.status_code == 202, resp.text
        report_id = str(resp.json()["report_id"])

        async def stored() -> bool:
            url = f"{intake}/v1/reports/{report_id}/receipt"
            return bool((await self.http.get(url, headers=headers)).json()["status"] == "stored")

        assert await until(stored), "never stored"
        return report_id

    def copies(self, report_id: str) -> list[bytes]:
        """What the HPKE key opens of this report in the NATS store."""
        assert self.submitter is not None
        blob = store_bytes(self.bus.server.store)
        return opened(blob, self.keys, report_id, self.submitter.partner_id)


@pytest.fixture
async def network(tmp_path: Path, db_url_factory: Any) -> AsyncIterator[Network]:
    bus = start_secured_bus(tmp_path)
    net = Network(tmp_path, bus, db_url_factory("sharing"))
    try:
        async with serve_app(sharing_app, net.sharing) as (url, app):
            net.url, net.app = url, app
            admin = await bootstrap_admin(net.http, url, net.sharing.data_dir)
            net.submitter = await register_client(
                net.http, admin, ("reports:submit", "reports:read", "reports:manage")
            )
            yield net
    finally:
        await net.http.aclose()
        bus.server.stop()


@asynccontextmanager
async def _none() -> AsyncIterator[None]:
    yield None


async def test_the_copy_stays_until_every_reader_has_it_then_leaves_no_trace(
    network: Network,
) -> None:
    async with network.intake() as (intake, _):
        # alerts has not run yet: its durable does not exist, so the copy must stay for it
        report_id = await network.submit(intake, "Detained at Tbilisi airport on arrival.")
        await asyncio.sleep(3 * network.sharing.bus_janitor_interval_s)
        assert network.copies(report_id), "the attack finds nothing even before: a blind test"
        async with network.alerts():
            assert await until(lambda: not network.copies(report_id)), "the copy stayed"
            seen = await until(lambda: _received_on_stream(network))
            assert seen == [0], "a report.received message is still on the stream"
            # while alerts runs, a new report's copy goes as soon as both have it
            second = await network.submit(intake, "Held at the Lars border crossing.")
            assert await until(lambda: not network.copies(second))
    # no table of sharing still points at a copy
    assert await sql(network, "SELECT count(*) FROM vault_bus_copies") == 0


async def test_an_erased_report_cannot_be_recovered_with_every_key(
    network: Network, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    narrative = "Abducted near the Osh bazaar by men who spoke of the Bishkek prosecutor."
    async with network.intake() as (intake, _):
        # alerts does not run: erasure must not wait for a reader that may never come
        report_id = await network.submit(intake, narrative)
        assert network.copies(report_id)
        assert network.submitter is not None
        headers = await network.submitter.headers(network.http)
        resp = await network.http.delete(f"{network.url}/v1/reports/{report_id}", headers=headers)
        assert resp.status_code == 200, resp.text
        assert await until(lambda: not network.copies(report_id)), "the erased copy stayed"
        # intake still runs, as on a seized live server: its WAL is copied with the database
        await asyncio.sleep(2.5)  # its scrub runs within a second of the relay
        intake_files = store_bytes(network.intake_db.parent)
    partner = network.submitter.partner_id
    logs = "\n".join(JsonFormatter().format(r) for r in caplog.records).encode()
    for name, blob in (
        ("nats store", store_bytes(network.bus.server.store)),
        ("intake database", intake_files),
        ("logs", logs),
    ):
        assert narrative.encode() not in blob, name
        assert opened(blob, network.keys, report_id, partner) == [], name


async def test_the_janitor_survives_a_nats_restart_and_erases_each_copy_once(
    network: Network, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, logger=BusJanitor.__module__)
    janitor: BusJanitor = network.app.state.container.janitor
    async with network.intake() as (intake, _), network.alerts():
        first = await network.submit(intake, "Summoned to the migration office in Yerevan.")
        assert await until(lambda: not network.copies(first))
        network.bus.server.stop()
        network.bus.server.start()
        second = await network.submit(intake, "Refused entry at Zvartnots airport.")
        assert await until(lambda: not network.copies(second)), "janitor stopped at the restart"
        await janitor.sweep()  # waits for the sweep that erased it (its log line too)
        seen = len(caplog.records)
        # a copy deleted before (another replica, or a crash before its row was forgotten)
        await sql(network, f"INSERT INTO vault_bus_copies VALUES ('{STREAM}', 1, 'r')")
        # this sweep or the janitor's own tick takes it, whichever comes first: once
        await janitor.sweep()
        assert await janitor.sweep() == 0
        assert _erased(caplog.records[seen:]) == 1
    assert await sql(network, "SELECT count(*) FROM vault_bus_copies") == 0


def _erased(records: list[logging.LogRecord]) -> int:
    """How many copies the janitor's sweeps say they erased."""
    return sum(getattr(r, "count", 0) for r in records if r.getMessage() == "bus copies erased")


async def _received_on_stream(network: Network) -> list[int]:
    """How many `report.received` messages the stream holds (asked as sharing)."""
    nc = await network.bus.connect_as("sharing")
    try:
        info = await nc.jetstream().stream_info(STREAM, subjects_filter=REPORT_RECEIVED)
        return [sum((info.state.subjects or {}).values())]
    finally:
        await nc.close()


async def sql(network: Network, statement: str) -> int:
    """Run SQL on sharing's database behind its back; the first column of the first row."""
    from sqlalchemy import text

    engine = network.app.state.container.runtime.engine
    async with engine.begin() as conn:
        result = await conn.execute(text(statement))
        return int(result.scalar_one()) if result.returns_rows else 0
