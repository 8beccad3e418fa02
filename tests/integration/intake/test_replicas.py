"""Two intake replicas on one database, each with its own data directory (as two pods): a
client's retry that reaches the other replica is still a `duplicate`, given the shared key."""

from __future__ import annotations

from pathlib import Path

import httpx

from services.intake.app import create_app as intake_app
from services.intake.settings import IntakeSettings
from services.sharing.app import create_app as sharing_app
from services.sharing.settings import SharingSettings
from services.sharing.vault.keys.keystore import HpkeKeyStore
from tests.support.auth import TestIssuer
from tests.support.natsd import NatsServer
from tests.support.reports import report_body
from tests.support.servers import in_process_settings, serve


async def test_a_retry_on_the_other_replica_is_a_duplicate(
    nats_server: NatsServer, db_url_factory, tmp_path: Path
) -> None:  # type: ignore[no-untyped-def]
    key_file = tmp_path / "sharing-keys" / "hpke.json"
    keys = HpkeKeyStore.open(key_file)
    s_set = in_process_settings(
        SharingSettings,
        tmp_path / "s",
        nats_server.url,
        db_url_factory("sharing"),
        hpke_key_file=key_file,
    )
    intake_db = db_url_factory("intake")
    # Where a Secret (or the shared volume) puts the key: outside either pod's data directory.
    shared_key = tmp_path / "shared-keys" / "intake-content-mac.key"
    issuer = TestIssuer()
    token = issuer.token(("reports:submit",), ["lifeline-intake"], org="partner-a")
    headers = {"Authorization": f"Bearer {token}"}
    async with serve(sharing_app, s_set) as (sharing_url, _):

        def replica(pod: str) -> IntakeSettings:
            return in_process_settings(  # type: ignore[no-any-return]
                IntakeSettings,
                tmp_path / pod,
                nats_server.url,
                intake_db,
                sharing_url=sharing_url,
                sharing_hpke_fingerprints=keys.active().public_view()["fingerprint"],
                content_mac_key_file=shared_key,
            )

        async with (
            serve(intake_app, replica("pod-1")) as (url_1, app_1),
            serve(intake_app, replica("pod-2")) as (url_2, app_2),
            httpx.AsyncClient(base_url=url_1) as one,
            httpx.AsyncClient(base_url=url_2) as two,
        ):
            issuer.install(app_1, "lifeline-intake")
            issuer.install(app_2, "lifeline-intake")
            body = report_body()
            first = await one.post("/v1/reports", json=body, headers=headers)
            again = await two.post("/v1/reports", json=body, headers=headers)
            assert (first.status_code, again.status_code) == (202, 200), again.text
            assert again.json() == {"report_id": first.json()["report_id"], "status": "duplicate"}
            changed = await two.post(
                "/v1/reports", json={**body, "status": "released"}, headers=headers
            )
            assert changed.status_code == 409
    assert not (tmp_path / "pod-1" / "keys" / "intake-content-mac.key").exists()
