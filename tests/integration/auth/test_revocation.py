"""Revocation is felt at once: the token endpoint refuses, every service rejects within 1 s.

Real NATS carries `lifeline.auth.revoked.v1` from sharing's outbox to every replica's own
ordered consumer; nothing here calls `RevocationList.apply` by hand.
"""

from __future__ import annotations

import asyncio
import time
from pathlib import Path

import httpx
import pytest

from libs.common.auth.scopes import WHOAMI_PATH
from libs.sdk import TokenRequestError
from tests.integration.auth.conftest import Network, running_sharing, services_for, sharing_settings
from tests.support.access import Client
from tests.support.natsd import NatsServer
from tests.support.reports import report_body

SERVICES = ("sharing", "intake", "alerts")


async def _statuses(http: httpx.AsyncClient, urls: dict[str, str], token: str) -> dict[str, int]:
    headers = {"Authorization": f"Bearer {token}"}
    answers = await asyncio.gather(
        *(http.get(urls[n] + WHOAMI_PATH, headers=headers) for n in SERVICES)
    )
    return {name: resp.status_code for name, resp in zip(SERVICES, answers, strict=True)}


async def _seconds_until_rejected(
    http: httpx.AsyncClient, urls: dict[str, str], token: str, timeout: float = 5.0
) -> float:
    started = time.monotonic()
    while time.monotonic() - started < timeout:
        if set((await _statuses(http, urls, token)).values()) == {401}:
            return time.monotonic() - started
        await asyncio.sleep(0.01)
    raise AssertionError(f"still accepted after {timeout} s: {await _statuses(http, urls, token)}")


async def _revoke(network: Network, client: Client, kind: str) -> None:
    path = {
        "client": f"/v1/admin/clients/{client.client_id}/revoke",
        "client_key": f"/v1/admin/keys/{client.kid}/revoke",
        "org": f"/v1/admin/partners/{client.partner_id}/disable",
    }[kind]
    resp = await network.sharing.admin_call("POST", path)
    assert resp.status_code == 200, resp.text


@pytest.mark.parametrize("kind", ["client", "client_key", "org"])
async def test_revocation_reaches_every_service_within_a_second(
    module_network: Network, kind: str
) -> None:
    network = module_network  # fresh clients of its own: the module's network serves
    http = network.sharing.http
    # Scopes whose token is for all three services.
    client = await network.sharing.client("reports:submit", "alerts:read")
    bystander = await network.sharing.client("reports:submit", "alerts:read")
    token, other = await client.token(http), await bystander.token(http)
    assert await _statuses(http, network.urls, token) == dict.fromkeys(SERVICES, 200)

    await _revoke(network, client, kind)
    revoked_at = time.monotonic()
    # The token endpoint refuses at once: the registry changed in the same commit.
    with pytest.raises(TokenRequestError) as refused:
        await client.token(http)
    assert refused.value.oauth_error == "invalid_client"
    waited = await _seconds_until_rejected(http, network.urls, token)
    assert time.monotonic() - revoked_at < 1.0, f"took {waited:.3f} s"
    # Nobody else is affected.
    assert await _statuses(http, network.urls, other) == dict.fromkeys(SERVICES, 200)


async def test_a_replica_started_after_the_revocation_knows_it(
    network: Network, nats_server: NatsServer, db_url_factory, tmp_path: Path
) -> None:  # type: ignore[no-untyped-def]
    http = network.sharing.http
    client = await network.sharing.client("reports:submit", "alerts:read")
    token = await client.token(http)
    await _revoke(network, client, "client")
    await _seconds_until_rejected(http, network.urls, token)
    # New intake and alerts replicas replay the last 15 minutes before they report ready.
    async with services_for(network.sharing, nats_server.url, db_url_factory, tmp_path, "-new") as (
        urls,
        _,
    ):
        assert await _statuses(http, urls, token) == dict.fromkeys(SERVICES, 401)


async def test_revocations_still_arrive_after_nats_restarts(
    own_nats: NatsServer, db_url_factory, tmp_path: Path
) -> None:  # type: ignore[no-untyped-def]
    settings = sharing_settings(tmp_path, own_nats.url, db_url_factory("sharing"), wire=True)
    async with (
        httpx.AsyncClient(timeout=10) as http,
        running_sharing(settings, http) as sharing,
        services_for(sharing, own_nats.url, db_url_factory, tmp_path) as (urls, _),
    ):
        network = Network(sharing, urls, {})
        client = await sharing.client("reports:submit", "alerts:read")
        token = await client.token(http)
        own_nats.stop()
        await asyncio.sleep(0.3)
        own_nats.start()
        await asyncio.sleep(1.5)  # clients reconnect by themselves
        await _revoke(network, client, "client")
        # The relay, and each replica's consumer, recover from the restart on their own.
        await _seconds_until_rejected(http, urls, token, timeout=5.0)


async def test_a_client_revoked_while_nats_is_paused_is_never_accepted(
    own_nats: NatsServer, db_url_factory, tmp_path: Path
) -> None:  # type: ignore[no-untyped-def]
    """NATS frozen for 20 s: the revocation cannot travel, so every replica stops trusting what
    it knows once its feed has gone `revocation_max_staleness_s` unconfirmed (intake and alerts
    answer 503; sharing asks its registry), and the revoked client gets nothing through."""
    staleness = 2.0
    extra = {"revocation_max_staleness_s": staleness}
    settings = sharing_settings(
        tmp_path, own_nats.url, db_url_factory("sharing"), wire=True, **extra
    )
    async with (
        httpx.AsyncClient(timeout=10) as http,
        running_sharing(settings, http) as sharing,
        services_for(sharing, own_nats.url, db_url_factory, tmp_path, extra=lambda _: extra) as (
            urls,
            _,
        ),
    ):
        network = Network(sharing, urls, {})
        client = await sharing.client("reports:submit", "alerts:read")
        bystander = await sharing.client("reports:submit", "alerts:read")
        token, other = await client.token(http), await bystander.token(http)
        assert await _statuses(http, urls, token) == dict.fromkeys(SERVICES, 200)

        own_nats.pause()
        paused_at = time.monotonic()
        try:
            # Past the window in which a replica may still trust its last confirmation.
            await asyncio.sleep(staleness + 0.5)
            await _revoke(network, client, "client")  # sharing's registry changes at once
            seen: set[tuple[str, int]] = set()
            bearer = {"Authorization": f"Bearer {token}"}
            while True:
                seen |= set((await _statuses(http, urls, token)).items())
                report = await http.post(
                    urls["intake"] + "/v1/reports", json=report_body(), headers=bearer
                )
                seen.add(("intake-report", report.status_code))
                if time.monotonic() - paused_at > 20:
                    break
                await asyncio.sleep(0.2)
            assert {status for _, status in seen} <= {401, 503}, seen
            assert ("sharing", 401) in seen and ("intake", 503) in seen, seen
            # Fail closed is not revoked: the bystander is refused with 503 by intake and
            # alerts, and served by sharing, which asked its registry.
            assert await _statuses(http, urls, other) == {
                "sharing": 200,
                "intake": 503,
                "alerts": 503,
            }
        finally:
            own_nats.resume()
        # Once the bus answers, the revocation arrives and the bystander is served again.
        await _seconds_until_rejected(http, urls, token, timeout=10.0)
        assert await _statuses(http, urls, other) == dict.fromkeys(SERVICES, 200)
