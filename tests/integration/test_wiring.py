"""The foundation's promises with real parts: migrations, readiness, and a ping across NATS."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy import inspect

from libs.common import db
from libs.common.requestid_middleware import RequestIdMiddleware
from services.alerts.app import create_app as alerts_app
from services.alerts.settings import AlertsSettings
from services.intake.app import create_app as intake_app
from services.intake.settings import IntakeSettings
from services.sharing.app import MIGRATIONS as SHARING_MIGRATIONS
from services.sharing.app import create_app as sharing_app
from services.sharing.settings import SharingSettings
from tests.support.access import bootstrap_admin
from tests.support.inproc import serve_in_process
from tests.support.natsd import NatsServer
from tests.support.receivers import until
from tests.support.servers import in_process_settings, serve_app, service_settings


async def _until(predicate, timeout: float = 5.0, step: float = 0.05):  # type: ignore[no-untyped-def]
    deadline = asyncio.get_running_loop().time() + timeout
    while True:
        result = await predicate()
        if result or asyncio.get_running_loop().time() > deadline:
            return result
        await asyncio.sleep(step)


async def test_migrations_create_schema_and_are_idempotent(db_url: str) -> None:
    engine = db.create_engine(db_url)
    try:
        await db.migrate(engine, SHARING_MIGRATIONS)
        await db.migrate(engine, SHARING_MIGRATIONS)  # a second replica starting changes nothing
        async with engine.connect() as conn:
            tables = await conn.run_sync(lambda c: set(inspect(c).get_table_names()))
        assert {"processed_events", "dead_letters", "alembic_version"} <= tables
    finally:
        await engine.dispose()


async def test_ping_travels_from_intake_to_sharing_and_alerts(
    nats_server: NatsServer, db_url_factory, tmp_path: Path
) -> None:
    mk = db_url_factory
    s_set = service_settings(SharingSettings, tmp_path, nats_server.url, mk("sharing"))
    async with serve_app(sharing_app, s_set) as (sharing, _), httpx.AsyncClient() as http:
        a_set = service_settings(
            AlertsSettings, tmp_path, nats_server.url, mk("alerts"), sharing_url=sharing
        )
        i_set = service_settings(
            IntakeSettings, tmp_path, nats_server.url, mk("intake"), sharing_url=sharing
        )
        async with (
            serve_app(alerts_app, a_set) as (alerts, _),
            serve_app(intake_app, i_set) as (intake, _),
        ):
            admin = await bootstrap_admin(http, sharing, tmp_path)
            await _ping_reaches(http, admin, intake, sharing, alerts)


async def _ping_reaches(  # type: ignore[no-untyped-def]
    http: httpx.AsyncClient, admin, intake: str, sharing: str, alerts: str
) -> None:
    """The system routes are admin-only; with an admin token the ping goes all the way."""
    assert (await http.post(f"{intake}/v1/system/ping")).status_code == 401
    http.headers.update(await admin.headers(http))
    resp = await http.post(f"{intake}/v1/system/ping")
    assert resp.status_code == 202
    event_id = resp.json()["event_id"]
    for base in (sharing, alerts):

        async def seen(base: str = base) -> bool:
            return (await http.get(f"{base}/v1/system/events/{event_id}")).status_code == 200

        assert await _until(seen), f"{base} never processed the ping"
        body = (await http.get(f"{base}/v1/system/events/{event_id}")).json()
        assert body["event_type"] == "lifeline.system.ping.v1"
    # An event nobody published is not reported as processed.
    assert (await http.get(f"{sharing}/v1/system/events/not-an-event")).status_code == 404


async def test_readyz_follows_nats_down_and_back(own_nats: NatsServer, tmp_path: Path) -> None:
    s_set = service_settings(
        SharingSettings, tmp_path, own_nats.url, f"sqlite+aiosqlite:///{tmp_path / 's.db'}"
    )
    settings = service_settings(
        AlertsSettings,
        tmp_path,
        own_nats.url,
        f"sqlite+aiosqlite:///{tmp_path / 'a.db'}",
        sharing_url=f"http://127.0.0.1:{s_set.port}",
    )
    async with (
        serve_app(sharing_app, s_set),
        serve_app(alerts_app, settings) as (base, _),
        httpx.AsyncClient(base_url=base) as http,
    ):
        assert (await http.get("/readyz")).status_code == 200
        own_nats.stop()

        async def not_ready() -> bool:
            return (await http.get("/readyz")).status_code == 503

        assert await _until(not_ready, timeout=5)
        body = (await http.get("/readyz")).json()
        assert body["code"] == "not_ready" and "nats" in body["detail"]
        own_nats.start()

        async def ready() -> bool:
            return (await http.get("/readyz")).status_code == 200

        assert await _until(ready, timeout=10), "service did not recover without a restart"


async def test_readyz_turns_red_while_nats_is_frozen(own_nats: NatsServer, tmp_path: Path) -> None:
    # A frozen server (SIGSTOP) keeps the socket open: connected, yet nothing gets through.
    settings = service_settings(
        SharingSettings, tmp_path, own_nats.url, f"sqlite+aiosqlite:///{tmp_path / 's.db'}"
    )
    async with (
        serve_app(sharing_app, settings) as (base, _),
        httpx.AsyncClient(base_url=base, timeout=10) as http,
    ):

        async def ready() -> bool:
            return (await http.get("/readyz")).status_code == 200

        async def not_ready() -> bool:
            return (await http.get("/readyz")).status_code == 503

        assert await ready()
        own_nats.pause()
        try:
            assert await until(not_ready, timeout=5)
            body = (await http.get("/readyz")).json()
            assert body["code"] == "not_ready" and "nats" in body["detail"]
        finally:
            own_nats.resume()
        assert await until(ready, timeout=15)


async def test_errors_share_one_json_shape(nats_server: NatsServer, tmp_path: Path) -> None:
    # About the apps' error handlers, not the wire: in process.
    s_set = in_process_settings(
        SharingSettings, tmp_path, nats_server.url, f"sqlite+aiosqlite:///{tmp_path / 's.db'}"
    )
    settings = in_process_settings(
        IntakeSettings,
        tmp_path,
        nats_server.url,
        f"sqlite+aiosqlite:///{tmp_path / 'i.db'}",
        max_body_bytes=2048,
        sharing_url=s_set.public_url,
    )
    async with (
        serve_in_process(sharing_app, s_set),
        serve_in_process(intake_app, settings) as (base, _),
        httpx.AsyncClient(base_url=base) as http,
    ):
        missing = await http.get("/v1/nothing-here")
        assert missing.status_code == 404
        assert missing.headers["content-type"] == "application/problem+json"
        assert set(missing.json()) >= {"type", "title", "status", "detail", "code", "fields"}
        assert missing.json()["request_id"] == missing.headers["x-request-id"]
        big = await http.post("/v1/system/ping", content=b"x" * 4096)
        assert big.status_code == 413
        assert big.json()["code"] == "payload_too_large"
        # Answered by a middleware, so only an outermost request-id middleware can number it.
        assert big.json()["request_id"] == big.headers["x-request-id"]
        wrong_method = await http.get("/v1/system/ping")
        assert wrong_method.status_code == 405
        assert wrong_method.json()["code"] == "method_not_allowed"


FACTORIES: dict[str, tuple[Callable[..., FastAPI], type[Any]]] = {
    "intake": (intake_app, IntakeSettings),
    "sharing": (sharing_app, SharingSettings),
    "alerts": (alerts_app, AlertsSettings),
}


def _app(svc: str, tmp_path: Path) -> FastAPI:
    """The service's app on default settings in `tmp_path` (not started)."""
    factory, settings = FACTORIES[svc]
    return factory(settings(data_dir=tmp_path))


@pytest.mark.parametrize("svc", sorted(FACTORIES))
def test_request_ids_wrap_every_other_middleware(svc: str, tmp_path: Path) -> None:
    app = _app(svc, tmp_path)
    # Starlette runs user_middleware[0] outermost.
    assert app.user_middleware[0].cls is RequestIdMiddleware


@pytest.mark.parametrize("svc", sorted(FACTORIES))
def test_every_route_has_a_one_line_description(svc: str, tmp_path: Path) -> None:
    app = _app(svc, tmp_path)
    schema = app.openapi()
    for path, ops in schema["paths"].items():
        for method, op in ops.items():
            summary = op.get("summary", "")
            assert summary and "\n" not in summary, f"{svc} {method.upper()} {path} has no summary"
