"""Intake SIGKILLed between commit and publish: the relay publishes after restart, no duplicate."""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import httpx

from libs.common import nats as natsx
from libs.common.events import Envelope
from libs.common.subjects import REPORT_RECEIVED
from services.sharing.app import create_app as sharing_app
from services.sharing.settings import SharingSettings
from services.sharing.vault.keys.keystore import HpkeKeyStore
from tests.support.access import bootstrap_admin, register_client
from tests.support.natsd import NatsServer, free_port
from tests.support.reports import report_body
from tests.support.servers import serve_app


def _start_intake(env: dict[str, str], log: Path) -> subprocess.Popen[bytes]:
    with log.open("ab") as sink:
        return subprocess.Popen(
            [sys.executable, "-m", "services.intake"], env=env, stdout=sink, stderr=sink
        )


async def _wait_health(url: str, proc: subprocess.Popen[bytes], path: str = "/healthz") -> None:
    # Polled without blocking the loop: sharing, which intake calls, runs on it.
    async with httpx.AsyncClient(timeout=0.5) as http:
        for _ in range(400):
            assert proc.poll() is None, "intake exited"
            try:
                if (await http.get(url + path)).status_code == 200:
                    return
            except httpx.HTTPError:
                pass
            await asyncio.sleep(0.05)
    raise AssertionError("intake did not start")


async def test_reports_committed_before_a_crash_are_published_once_after_restart(
    own_nats: NatsServer, db_url_factory, tmp_path: Path
) -> None:  # type: ignore[no-untyped-def]
    settings = SharingSettings(
        data_dir=tmp_path / "sharing",
        nats_url=own_nats.url,
        database_url=db_url_factory("sharing"),
        port=free_port(),
    )
    async with (
        serve_app(sharing_app, settings, wait_ready=False) as (sharing_url, _),
        httpx.AsyncClient() as http,
    ):
        admin = await bootstrap_admin(http, sharing_url, settings.data_dir)
        ngo = await register_client(http, admin, ["reports:submit"])
        fingerprint = (
            HpkeKeyStore.open(settings.resolved_hpke_key_file())
            .active()
            .public_view()["fingerprint"]
        )
        port = free_port()
        url = f"http://127.0.0.1:{port}"
        env = {
            **os.environ,
            "LIFELINE_INTAKE_PORT": str(port),
            "LIFELINE_INTAKE_DATA_DIR": str(tmp_path / "intake"),
            "LIFELINE_INTAKE_DATABASE_URL": db_url_factory("intake"),
            "LIFELINE_INTAKE_NATS_URL": own_nats.url,
            "LIFELINE_INTAKE_SHARING_URL": sharing_url,
            "LIFELINE_INTAKE_SHARING_HPKE_FINGERPRINTS": fingerprint,
            # Revocations were confirmed current just before NATS went: the submissions below
            # fall inside the window in which intake still trusts them (this test is about
            # the outbox, not about revocation failing closed).
            "LIFELINE_INTAKE_REVOCATION_MAX_STALENESS_S": "60",
        }
        log = tmp_path / "intake.log"
        intake = _start_intake(env, log)
        try:
            await _wait_health(url, intake, path="/readyz")
            own_nats.stop()  # nothing can be published: every accepted report waits in the outbox
            accepted = []
            for _ in range(20):
                resp = await http.post(
                    f"{url}/v1/reports", json=report_body(), headers=await ngo.headers(http)
                )
                assert resp.status_code == 202, resp.text
                accepted.append(resp.json()["report_id"])
            intake.send_signal(signal.SIGKILL)
            intake.wait(timeout=10)
            own_nats.start()
            intake = _start_intake(env, log)
            await _wait_health(url, intake)
            headers = await ngo.headers(http)
            deadline = time.monotonic() + 20
            for report_id in accepted:
                while True:
                    receipt = (
                        await http.get(f"{url}/v1/reports/{report_id}/receipt", headers=headers)
                    ).json()
                    if receipt.get("status") in {"published", "stored"}:
                        break
                    assert time.monotonic() < deadline, receipt
                    await asyncio.sleep(0.1)
        finally:
            intake.send_signal(signal.SIGTERM)
            intake.wait(timeout=15)

    nc = await natsx.connect(own_nats.url, "check")
    try:
        js = nc.jetstream()
        info = await js.stream_info("LIFELINE_RECEIVED", subjects_filter=REPORT_RECEIVED)
        sub = await js.subscribe(REPORT_RECEIVED, ordered_consumer=True)
        # The stream also holds sharing's report.stored events: count the received ones only.
        received = (info.state.subjects or {}).get(REPORT_RECEIVED, 0)
        seen = [
            Envelope.model_validate_json((await sub.next_msg(timeout=5)).data).data["report_id"]
            for _ in range(received)
        ]
    finally:
        await nc.close()
    assert sorted(seen) == sorted(accepted)
