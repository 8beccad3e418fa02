"""Two alerts replicas on one database, each with its own data directory (as two pods), their
keys from the shared configuration: what one saved or signed, the other uses."""

from __future__ import annotations

from contextlib import AsyncExitStack
from pathlib import Path
from typing import Any

from tests.integration.alerts.conftest import alerts_stack_on
from tests.integration.alerts.support import receiver, until
from tests.integration.alerts.test_delivery import page_lev, setup_lawyer
from tests.support.natsd import NatsServer


async def test_a_webhook_secret_and_an_ack_link_work_on_the_other_replica(
    nats_server: NatsServer, db_url_factory: Any, tmp_path: Path
) -> None:
    db_url = db_url_factory("alerts")
    shared = tmp_path / "shared-keys"  # where the shared volume or a Secret puts them
    keys = {
        "secrets_key_file": shared / "alerts-secrets.key",
        "ack_link_key_file": shared / "alerts-ack-link-keys.key",
    }
    async with receiver() as hook, AsyncExitStack() as pods:
        one = await pods.enter_async_context(
            alerts_stack_on(nats_server.url, db_url, tmp_path / "pod-1", **keys)
        )
        profile = await setup_lawyer(one, hook)  # the webhook secret is saved through one
        async with alerts_stack_on(nats_server.url, db_url, tmp_path / "pod-2", **keys) as two:
            await pods.aclose()  # one is gone (a rolling restart): two matches and delivers
            await page_lev(two)
            assert await until(lambda: hook.alerts("alert.created"), timeout=15), (
                "the other replica could not sign with the secret saved through the first"
            )
            (alert,) = (await two.call("GET", "/v1/alerts")).json()["alerts"]
            contact = profile["contacts"][0]["id"]
            link = two.app.state.container.links.make(alert["id"], contact, two.clock.time())
            # A new pod (empty data directory) acts on the link the other one signed.
            async with alerts_stack_on(
                nats_server.url, db_url, tmp_path / "pod-3", **keys
            ) as three:
                resp = await three.http.post(f"/v1/ack/{link}")
                assert resp.status_code == 200, resp.text
    assert not (tmp_path / "pod-1" / "alerts" / "keys").exists()
