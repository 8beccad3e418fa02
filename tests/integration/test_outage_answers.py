"""A database that goes away after start: every service answers 503 + Retry-After, never a 500."""

from __future__ import annotations

import logging
import uuid
from collections.abc import AsyncIterator
from contextlib import AsyncExitStack, asynccontextmanager
from pathlib import Path
from urllib.parse import urlsplit

import httpx
import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from libs.common.auth.scopes import TOKEN_PATH
from libs.common.auth.tokens import CLIENT_ASSERTION_TYPE
from libs.sdk.auth import make_client_assertion
from services.intake.app import create_app as intake_app
from services.intake.settings import IntakeSettings
from services.sharing.app import create_app as sharing_app
from services.sharing.settings import SharingSettings
from services.sharing.vault.keys.keystore import HpkeKeyStore
from tests.integration.alerts.conftest import alerts_stack_on
from tests.integration.alerts.support import TcpProxy
from tests.support.auth import TestIssuer
from tests.support.databases import PgScratch
from tests.support.natsd import NatsServer
from tests.support.reports import report_body
from tests.support.servers import in_process_settings, serve

pytestmark = pytest.mark.postgres


@asynccontextmanager
async def _behind_proxy(pg_scratch: PgScratch) -> AsyncIterator[tuple[str, TcpProxy]]:
    """A fresh PostgreSQL database reached through a TCP proxy the test can cut."""
    url = pg_scratch.take()
    parts = urlsplit(url)
    proxy = TcpProxy(parts.hostname or "127.0.0.1", parts.port or 5432)
    await proxy.start()
    try:
        yield url.replace(parts.netloc.rpartition("@")[2], f"127.0.0.1:{proxy.port}"), proxy
    finally:
        await proxy.stop()
        pg_scratch.give_back(url)


def _assert_unavailable(resp: httpx.Response) -> None:
    assert resp.status_code == 503, resp.text
    assert int(resp.headers["Retry-After"]) > 0
    body = resp.json()
    assert body["code"] == "unavailable"
    assert body["detail"] == "database unavailable, try again later"
    assert body["fields"] == []


async def test_each_service_answers_503_with_retry_after_while_its_database_is_away(
    nats_server: NatsServer,
    pg_scratch: PgScratch | None,
    tmp_path: Path,
    caplog: pytest.LogCaptureFixture,
) -> None:
    if pg_scratch is None:
        pytest.skip("needs PostgreSQL")
    async with AsyncExitStack() as stack:
        (s_db, s_proxy), (i_db, i_proxy), (a_db, a_proxy) = [
            await stack.enter_async_context(_behind_proxy(pg_scratch)) for _ in range(3)
        ]
        keys = HpkeKeyStore.open(tmp_path / "sharing-keys" / "hpke.json")
        s_set = in_process_settings(
            SharingSettings, tmp_path / "s", nats_server.url, s_db, hpke_key_file=keys.path
        )
        sharing_url, _ = await stack.enter_async_context(serve(sharing_app, s_set))
        i_set = in_process_settings(
            IntakeSettings,
            tmp_path / "i",
            nats_server.url,
            i_db,
            sharing_url=sharing_url,
            sharing_hpke_fingerprints=keys.active().public_view()["fingerprint"],
        )
        intake_url, intake = await stack.enter_async_context(serve(intake_app, i_set))
        issuer = TestIssuer()
        issuer.install(intake, "lifeline-intake")
        alerts = await stack.enter_async_context(
            alerts_stack_on(nats_server.url, a_db, tmp_path / "a")
        )
        http = await stack.enter_async_context(httpx.AsyncClient())
        submitter = {
            "Authorization": "Bearer "
            + issuer.token(["reports:submit"], ["lifeline-intake"], org="partner-a")
        }
        submit = f"{intake_url}/v1/reports"
        assert (await http.post(submit, json=report_body(), headers=submitter)).status_code == 202

        for proxy in (s_proxy, i_proxy, a_proxy):
            await proxy.stop()
        caplog.clear()
        with caplog.at_level(logging.WARNING):
            _assert_unavailable(await http.post(submit, json=report_body(), headers=submitter))
            receipt = f"{intake_url}/v1/reports/{uuid.uuid4()}/receipt"
            _assert_unavailable(await http.get(receipt, headers=submitter))
            endpoint = sharing_url + TOKEN_PATH
            assertion = make_client_assertion(
                Ed25519PrivateKey.generate(), "kid-1", "client-1", endpoint
            )
            form = {
                "grant_type": "client_credentials",
                "client_assertion_type": CLIENT_ASSERTION_TYPE,
                "client_assertion": assertion,
            }
            _assert_unavailable(await http.post(endpoint, data=form))
            _assert_unavailable(await alerts.call("GET", "/v1/watchlist/entries"))
        outages = [r for r in caplog.records if r.getMessage() == "dependency unavailable"]
        assert len(outages) >= 4
        assert all(r.exc_info is None for r in outages)  # one line each, no traceback
        assert not [r for r in caplog.records if r.getMessage() == "unhandled error"]

        for proxy in (s_proxy, i_proxy, a_proxy):
            await proxy.start()
        # Back as soon as the database is: the pool reconnects on the next request.
        assert (await http.post(submit, json=report_body(), headers=submitter)).status_code == 202
        assert (await alerts.call("GET", "/v1/watchlist/entries")).status_code == 200
