"""Durable OPRF quotas: per client and per partner, shared by replicas, kept across restarts."""

from __future__ import annotations

import functools
import logging
from collections.abc import AsyncIterator, Callable
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from datetime import UTC, datetime
from pathlib import Path

import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy import select

from libs.common.clock import FakeClock
from libs.common.identity import oprf
from services.sharing.app import create_app as sharing_app
from services.sharing.audit.models import AUDIT_LOG
from services.sharing.settings import SharingSettings
from tests.integration.alerts.conftest import alerts_stack_on
from tests.integration.alerts.support import until
from tests.support.auth import TestIssuer
from tests.support.natsd import NatsServer
from tests.support.servers import in_process_settings, serve

# Small quotas keep the test fast; the rules are the same at the defaults.
LIMITS = {
    "prf_client_per_hour": 30,
    "prf_client_per_day": 40,
    "prf_partner_per_hour": 50,
    "prf_partner_per_day": 60,
    "prf_alarm_fraction": 0.5,
}
# 10:20 UTC: the hour window resets in 40 minutes, the day window in 13 h 40 min.
START = datetime(2031, 5, 6, 10, 20, tzinfo=UTC)
Sharing = Callable[[], AbstractAsyncContextManager[tuple[str, FastAPI]]]


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock(START)


@pytest.fixture
def issuer() -> TestIssuer:
    return TestIssuer()


@pytest.fixture
def replica(
    nats_server: NatsServer, db_url: str, tmp_path: Path, clock: FakeClock, issuer: TestIssuer
) -> Sharing:
    """Starts a sharing replica on the test's one database (and data directory)."""

    @asynccontextmanager
    async def start() -> AsyncIterator[tuple[str, FastAPI]]:
        settings = in_process_settings(SharingSettings, tmp_path, nats_server.url, db_url, **LIMITS)
        async with serve(functools.partial(sharing_app, clock=clock), settings) as (url, app):
            issuer.install(app, "lifeline-sharing")
            yield url, app

    return start


def _elements(count: int) -> list[str]:
    return oprf.encode_elements([b.element for b in oprf.blind([b"k%d" % i for i in range(count)])])


async def _evaluate(url: str, token: str, count: int) -> httpx.Response:
    async with httpx.AsyncClient(base_url=url) as http:
        return await http.post(
            "/v1/identity/evaluate",
            json={"elements": _elements(count)},
            headers={"Authorization": f"Bearer {token}"},
        )


def _token(issuer: TestIssuer, client: str, org: str = "ngo-a") -> str:
    return issuer.token(("reports:submit",), ["lifeline-sharing"], org=org, client_id=client)


def _policies(response: httpx.Response) -> dict[str, dict[str, int]]:
    """The RateLimit header as {policy: {r, t}}."""
    out: dict[str, dict[str, int]] = {}
    for item in response.headers["RateLimit"].split(", "):
        name, *params = item.split(";")
        out[name.strip('"')] = {k: int(v) for k, v in (p.split("=") for p in params)}
    return out


async def test_clients_of_one_partner_share_its_budget_and_429_says_when(
    replica: Sharing, issuer: TestIssuer
) -> None:
    async with replica() as (url, _):
        first = await _evaluate(url, _token(issuer, "case-worker-1"), 30)
        assert first.status_code == 200, first.text
        assert first.headers["RateLimit-Policy"] == (
            '"client-hour";q=30;w=3600, "client-day";q=40;w=86400, '
            '"partner-hour";q=50;w=3600, "partner-day";q=60;w=86400'
        )
        assert _policies(first)["client-hour"] == {"r": 0, "t": 2400}
        assert _policies(first)["partner-hour"] == {"r": 20, "t": 2400}
        # The same client is out of its hour; a fresh client of the same partner is not
        # fresh: it gets what is left of the partner's hour, and no more.
        assert (await _evaluate(url, _token(issuer, "case-worker-1"), 1)).status_code == 429
        second = _token(issuer, "case-worker-2")
        refused = await _evaluate(url, second, 21)
        assert refused.status_code == 429 and refused.json()["code"] == "rate_limited"
        assert refused.headers["Retry-After"] == "2400"
        assert _policies(refused)["partner-hour"] == {"r": 20, "t": 2400}
        assert (await _evaluate(url, second, 20)).status_code == 200
        # Another partner's clients have their own budget.
        other = await _evaluate(url, _token(issuer, "lawyer-1", org="lawyers"), 30)
        assert other.status_code == 200


async def test_replicas_share_the_counters_and_a_restart_keeps_them(
    replica: Sharing, issuer: TestIssuer, clock: FakeClock
) -> None:
    token = _token(issuer, "field-laptop")
    async with replica() as (one, _), replica() as (two, _):
        assert (await _evaluate(one, token, 25)).status_code == 200
        assert (await _evaluate(two, token, 6)).status_code == 429
        assert (await _evaluate(two, token, 5)).status_code == 200
    async with replica() as (again, _):
        assert (await _evaluate(again, token, 1)).status_code == 429
        clock.advance(2400)  # the next hour: the hour resets, the day does not
        assert (await _evaluate(again, token, 10)).status_code == 200
        last = await _evaluate(again, token, 1)
        assert last.status_code == 429 and last.headers["Retry-After"] == str(13 * 3600)


async def test_bulk_use_raises_one_alarm_per_window(
    replica: Sharing, issuer: TestIssuer, clock: FakeClock, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.WARNING)
    token = _token(issuer, "compromised")
    async with replica() as (url, app):
        assert (await _evaluate(url, token, 19)).status_code == 200  # under half of 40
        assert app.state.container.prf_quota.alarms == {}
        for _ in range(2):
            assert (await _evaluate(url, token, 1)).status_code == 200
        clock.advance(86400)
        assert (await _evaluate(url, token, 20)).status_code == 200
        async with app.state.runtime.sessions() as session:
            alarms = (
                await session.execute(
                    select(AUDIT_LOG.c.actor, AUDIT_LOG.c.target).where(
                        AUDIT_LOG.c.action == "identity.quota_alarm"
                    )
                )
            ).all()
        assert [tuple(a) for a in alarms] == [("compromised", "client:compromised")] * 2
        assert app.state.container.prf_quota.alarms == {"client": 2}
    warnings = [r.getMessage() for r in caplog.records if "bulk use" in r.getMessage()]
    assert len(warnings) == 2 and all("compromised" in w for w in warnings)


async def test_a_malformed_batch_costs_nothing(replica: Sharing, issuer: TestIssuer) -> None:
    token = _token(issuer, "typo")
    async with replica() as (url, _), httpx.AsyncClient(base_url=url) as http:
        bad = await http.post(
            "/v1/identity/evaluate",
            json={"elements": ["AAAA"] * 30},
            headers={"Authorization": f"Bearer {token}"},
        )
        assert bad.status_code == 422
        assert (await _evaluate(url, token, 30)).status_code == 200


async def test_bulk_use_reaches_the_operators_by_mail(
    replica: Sharing,
    issuer: TestIssuer,
    nats_server: NatsServer,
    db_url_factory: Callable[[str], str],
    tmp_path: Path,
) -> None:
    ops = "Ops <ops@example.org>, duty-ops@example.org"
    async with (
        alerts_stack_on(
            nats_server.url, db_url_factory("alerts"), tmp_path / "a", operator_emails=ops
        ) as alerts,
        replica() as (url, _),
    ):
        elements = _elements(21)
        async with httpx.AsyncClient(base_url=url) as http:
            resp = await http.post(
                "/v1/identity/evaluate",
                json={"elements": elements},
                headers={"Authorization": f"Bearer {_token(issuer, 'compromised')}"},
            )
        assert resp.status_code == 200
        assert await until(lambda: len(alerts.mailbox.messages) >= 2, timeout=15)
        (mail,) = alerts.mailbox.to("Ops <ops@example.org>")
        assert alerts.mailbox.to("duty-ops@example.org")
        text = mail.get_body().get_content()  # type: ignore[union-attr]
        assert "client: compromised" in text and "21 of its 40" in text
        assert not any(element[:16] in mail.as_string() for element in elements)
