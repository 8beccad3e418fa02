"""An alerts service on real NATS and a real database, with a receiver and an SMTP server."""

from __future__ import annotations

import functools
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from nats.aio.client import Client

from libs.common import nats as natsx
from libs.common.clock import SYSTEM_CLOCK, Clock, FakeClock
from libs.common.contracts import DisclosureAnswer, DisclosureQuery
from libs.common.events import Envelope
from libs.common.reports.fields import CATALOGUE
from libs.common.subjects import DISCLOSURE_RPC
from services.alerts.app import create_app
from services.alerts.settings import AlertsSettings
from tests.integration.alerts.support import Mailbox, smtp_server
from tests.support.auth import TestIssuer
from tests.support.natsd import NatsServer
from tests.support.servers import serve_app, service_settings

LAWYER_SCOPES = ("watchlist:manage", "alerts:read", "alerts:ack")
# A partner administrator of org bar-1: sets the organisation's escalation (`stack.call(**ORG_ADMIN)`).
ORG_ADMIN: dict[str, Any] = {"client_id": "admin-1", "scopes": ("escalation:manage",)}
FAST = {
    "retry_schedule_s": "0.2,0.3,0.5",
    "retry_jitter": 0.0,
    "delivery_poll_s": 0.1,
    "escalation_poll_s": 0.05,
    "webhook_allow_private": True,
    "webhook_timeout_s": 2.0,
    "delivery_lease_s": 5.0,
}


@dataclass
class AlertsStack:
    """What an alerts test touches."""

    url: str
    app: FastAPI
    http: httpx.AsyncClient
    issuer: TestIssuer
    nc: Client
    mailbox: Mailbox
    settings: AlertsSettings
    # What the service reads the time from: the system clock, or a test's `FakeClock`.
    clock: Clock
    # Sharing's answer to "which fields may these organisations see" (the stack answers for
    # it): organisation → fields; None: every field to everyone (sharing's tests cover policy).
    visible: dict[str, list[str]] | None = None

    def headers(
        self,
        client_id: str = "lawyer-1",
        org: str = "bar-1",
        scopes: tuple[str, ...] = LAWYER_SCOPES,
    ) -> dict[str, str]:
        """Authorization for a lawyer client."""
        token = self.issuer.token(scopes, ["lifeline-alerts"], org=org, client_id=client_id)
        return {"Authorization": f"Bearer {token}"}

    async def publish(self, event: Envelope) -> None:
        """Publish an event as its producer would."""
        await natsx.publish(self.nc.jetstream(), event)

    async def call(
        self, method: str, path: str, client_id: str = "lawyer-1", **kw: Any
    ) -> httpx.Response:
        """One API call as a lawyer (org bar-1 unless given)."""
        org = kw.pop("org", "bar-1")
        scopes = kw.pop("scopes", LAWYER_SCOPES)
        headers = {**self.headers(client_id, org, scopes), **kw.pop("headers", {})}
        return await self.http.request(method, path, headers=headers, **kw)

    async def db(self, statement: Any) -> list[Any]:
        """Rows of a statement against the service's own database."""
        async with self.app.state.container.runtime.sessions() as session:
            return list((await session.execute(statement)).all())


@asynccontextmanager
async def alerts_stack_on(
    nats_url: str,
    db_url: str,
    tmp_path: Path,
    *,
    clock: Clock = SYSTEM_CLOCK,
    stand_in_for_sharing: bool = True,
    **overrides: Any,
) -> AsyncIterator[AlertsStack]:
    """An alerts app on `clock` with fast schedules, an SMTP server and a NATS client for
    publishing; it answers disclosure questions for sharing unless a real one runs."""
    issuer = TestIssuer()
    async with smtp_server() as (mailbox, smtp_port):
        settings = service_settings(
            AlertsSettings,
            tmp_path / "alerts",
            nats_url,
            db_url,
            smtp_host="127.0.0.1",
            smtp_port=smtp_port,
            smtp_tls="none",  # the test server speaks plaintext (TLS: test_smtp.py)
            **{**FAST, **overrides},
        )
        nc = await natsx.connect(nats_url, "test-publisher")
        await natsx.ensure_streams(nc.jetstream())
        try:
            on_clock = functools.partial(create_app, clock=clock)
            async with serve_app(on_clock, settings, wait_ready=False) as (url, app):
                issuer.install(app, "lifeline-alerts")
                async with httpx.AsyncClient(base_url=url, timeout=10) as http:
                    stack = AlertsStack(url, app, http, issuer, nc, mailbox, settings, clock)
                    if stand_in_for_sharing:
                        await nc.subscribe(DISCLOSURE_RPC, cb=functools.partial(_answer, stack))
                    await _until_consuming(app)
                    yield stack
        finally:
            await nc.close()


async def _answer(stack: AlertsStack, msg: Any) -> None:
    """Answer a disclosure question as sharing would, from `stack.visible`."""
    query = DisclosureQuery.model_validate_json(msg.data)
    every = list(CATALOGUE.grantable)
    visible = {
        org: every if stack.visible is None else stack.visible.get(org, []) for org in query.readers
    }
    await msg.respond(DisclosureAnswer(visible=visible).model_dump_json().encode())


async def _until_consuming(app: FastAPI) -> None:
    import asyncio

    runtime = app.state.container.runtime
    for _ in range(400):
        if runtime.nats_ready.is_set():
            return
        await asyncio.sleep(0.025)
    raise RuntimeError("alerts never wired its consumers")


@pytest.fixture
async def stack(
    nats_server: NatsServer, db_url_factory: Any, tmp_path: Path
) -> AsyncIterator[AlertsStack]:
    """The stack on the session's nats-server and a fresh database."""
    async with alerts_stack_on(nats_server.url, db_url_factory("alerts"), tmp_path) as s:
        yield s


@pytest.fixture
async def clocked_stack(
    nats_server: NatsServer, db_url_factory: Any, tmp_path: Path
) -> AsyncIterator[AlertsStack]:
    """The stack on a fake clock: it starts at the real time and moves when the test moves it."""
    db_url = db_url_factory("alerts")
    async with alerts_stack_on(nats_server.url, db_url, tmp_path, clock=FakeClock()) as s:
        yield s
