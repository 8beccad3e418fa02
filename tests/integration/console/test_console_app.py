"""The console app in process: its pages and headers, its assets, and what its proxy relays."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest
from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse
from prometheus_client.parser import text_string_to_metric_families

from services.console.app import create_app
from services.console.assets import CSP
from services.console.proxy import allowed_path
from services.console.settings import ConsoleSettings
from tests.support.natsd import free_port


def _built(tmp_path: Path) -> Path:
    dist = tmp_path / "dist"
    (dist / "assets").mkdir(parents=True)
    (dist / "index.html").write_text("<!doctype html><title>Lifeline</title>")
    (dist / "assets" / "app-ABC123.js").write_text("console.log(1)")
    return dist


def _upstream() -> FastAPI:
    """A stand-in service that echoes what reached it."""
    echo = FastAPI()

    @echo.api_route("/{path:path}", methods=["GET", "POST", "PUT", "DELETE"])
    async def anything(path: str, request: Request) -> JSONResponse:
        return JSONResponse(
            {
                "path": path,
                "query": request.url.query,
                "headers": dict(request.headers),
                "body": (await request.body()).decode(),
            },
            headers={"Retry-After": "3", "Set-Cookie": "tracker=1", "Server": "upstream"},
        )

    return echo


@pytest.fixture
async def console(tmp_path: Path) -> AsyncIterator[httpx.AsyncClient]:
    settings = ConsoleSettings(
        assets_dir=_built(tmp_path),
        sharing_url="http://sharing.internal",
        alerts_url="http://alerts.internal",
        intake_url="http://127.0.0.1:9",  # nothing listens: unreachable
    )
    app = create_app(settings)
    async with app.router.lifespan_context(app):
        # The proxy's outbound client reaches the stand-in for sharing and alerts in process.
        echo = httpx.ASGITransport(app=_upstream())
        upstream = httpx.AsyncClient(
            mounts={"http://sharing.internal": echo, "http://alerts.internal": echo}
        )
        app.state.proxy._client = upstream
        transport = httpx.ASGITransport(app=app, client=("203.0.113.7", 5000))
        async with httpx.AsyncClient(transport=transport, base_url="http://console") as http:
            yield http
        await upstream.aclose()


@pytest.mark.parametrize(
    "path",
    [
        "/",
        "/enrol",
        "/alerts",
        "/alerts/alt_1",
        "/settings",
        "/admin",
        "/admin/partners",
        "/admin/partners/ptn_1",
        "/admin/clients/cli_1",
        "/reports",
        "/reports/new",
        "/reports/upload",
    ],
)
async def test_every_page_is_the_app_with_a_strict_policy(
    console: httpx.AsyncClient, path: str
) -> None:
    resp = await console.get(path)
    assert resp.status_code == 200
    assert resp.headers["content-type"].startswith("text/html")
    assert resp.headers["content-security-policy"] == CSP
    for directive in ("default-src 'none'", "script-src 'self'", "connect-src 'self'",
                      "frame-ancestors 'none'", "require-trusted-types-for 'script'"):  # fmt: skip
        assert directive in CSP
    assert "unsafe" not in CSP
    # One Trusted Types policy, the upload worker's (it only makes that worker's script URL);
    # no 'allow-duplicates', so nothing can make a second policy under its name.
    assert "; trusted-types lifeline-worker;" in f"{CSP};"
    assert "allow-duplicates" not in CSP and "worker-src 'self'" in CSP
    assert resp.headers["x-frame-options"] == "DENY"
    assert resp.headers["referrer-policy"] == "no-referrer"
    assert resp.headers["cache-control"] == "no-cache"


async def test_assets_are_immutable_and_nothing_else_is_served(console: httpx.AsyncClient) -> None:
    ok = await console.get("/assets/app-ABC123.js")
    assert ok.status_code == 200 and "immutable" in ok.headers["cache-control"]
    for bad in ("/assets/..%2Findex.html", "/assets/missing.js", "/assets/app.exe", "/nope"):
        resp = await console.get(bad)
        assert resp.status_code == 404, bad
        assert resp.headers["content-security-policy"] == CSP


async def test_the_proxy_relays_the_api_with_the_token_and_nothing_else(
    console: httpx.AsyncClient,
) -> None:
    resp = await console.post(
        "/api/alerts/v1/alerts/a1/ack?x=1",
        content=b'{"a":1}',
        headers={
            "Authorization": "Bearer T",
            "Content-Type": "application/json",
            "Cookie": "session=stolen",
            "X-Forwarded-For": "198.51.100.1",
        },
    )
    assert resp.status_code == 200
    seen = resp.json()
    assert (seen["path"], seen["query"], seen["body"]) == ("v1/alerts/a1/ack", "x=1", '{"a":1}')
    assert seen["headers"]["authorization"] == "Bearer T"
    assert "cookie" not in seen["headers"]
    # The service sees the browser's address after what came before it.
    assert seen["headers"]["x-forwarded-for"] == "198.51.100.1, 203.0.113.7"
    # Back: the API's headers that matter, never a cookie or the upstream's server banner.
    assert resp.headers["retry-after"] == "3"
    assert "set-cookie" not in resp.headers and "server" not in resp.headers
    assert resp.headers["cache-control"] == "no-store"


async def test_the_request_id_reaches_the_service_and_comes_back(
    console: httpx.AsyncClient,
) -> None:
    given = await console.get("/api/sharing/v1/x", headers={"X-Request-ID": "trace-42.a"})
    assert given.json()["headers"]["x-request-id"] == "trace-42.a"
    assert given.headers["x-request-id"] == "trace-42.a"
    # An id that could forge a log line or carry data is replaced by one of the console's own.
    forged = await console.get("/api/sharing/v1/x", headers={"X-Request-ID": "a b\tSkoryakin"})
    made = forged.headers["x-request-id"]
    assert made != "a b\tSkoryakin" and made.isalnum()
    assert forged.json()["headers"]["x-request-id"] == made


@pytest.mark.parametrize(
    "path",
    [
        "/api/sharing/readyz",
        # Metrics are on each service's own listener: the proxy never relays them (its stand-in
        # upstream would answer anything it relayed).
        "/api/sharing/metrics",
        "/api/alerts/metrics",
        "/api/alerts/v1/../metrics",
        "/api/alerts/v1/%2e%2e/metrics",
        "/api/alerts/.well-known/../metrics",
        "/api/sharing/docs",
        "/api/sharing/v1/../readyz",
        "/api/sharing/v1/%2e%2e/readyz",
        "/api/sharing/v1//x",
        "/api/nats/v1/x",
        "/api/console/v1/x",
    ],
)
async def test_the_proxy_relays_only_the_api_surface(console: httpx.AsyncClient, path: str) -> None:
    resp = await console.get(path)
    assert resp.status_code == 404, path
    assert resp.json()["code"] == "not_found"


def test_path_rule() -> None:
    assert allowed_path("v1/reports/r1")
    assert allowed_path(".well-known/oauth-authorization-server")
    for bad in ("v1/../x", "v1/./x", "v1/a%2fb", "readyz", "metrics", "v1//x", "", "v1/a\\b"):
        assert not allowed_path(bad), bad


async def test_an_unreachable_service_is_a_503_with_retry_after(console: httpx.AsyncClient) -> None:
    resp = await console.get("/api/intake/v1/reports")
    assert resp.status_code == 503
    assert resp.json()["code"] == "unavailable"
    assert resp.headers["retry-after"]


async def test_a_body_over_the_limit_is_refused(console: httpx.AsyncClient) -> None:
    resp = await console.post("/api/alerts/v1/x", content=b"x" * (8 * 1024 * 1024 + 1))
    assert resp.status_code == 413
    assert resp.json()["code"] == "payload_too_large"


async def test_not_built_is_said_plainly(tmp_path: Path) -> None:
    app = create_app(ConsoleSettings(assets_dir=tmp_path / "missing"))
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://c") as http:
            page = await http.get("/")
            assert page.status_code == 503 and "make install" in page.text
            assert (await http.get("/readyz")).status_code == 503


async def test_the_console_serves_metrics_on_its_own_listener_by_route_template(
    tmp_path: Path,
) -> None:
    settings = ConsoleSettings(
        assets_dir=_built(tmp_path),
        sharing_url="http://sharing.internal",
        alerts_url="http://alerts.internal",
        intake_url="http://127.0.0.1:9",
        metrics_port=free_port(),
    )
    app = create_app(settings)
    async with app.router.lifespan_context(app):
        echo = httpx.ASGITransport(app=_upstream())
        app.state.proxy._client = httpx.AsyncClient(mounts={"http://alerts.internal": echo})
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://console") as http:
            assert (await http.get("/api/alerts/v1/alerts/alt_secret_1")).status_code == 200
            assert (await http.get("/alerts/alt_secret_2")).status_code == 200
            # Not on the app people reach: only on the listener.
            assert (await http.get("/metrics")).status_code == 404
        async with httpx.AsyncClient() as scraper:
            scraped = await scraper.get(f"http://127.0.0.1:{settings.metrics_port}/metrics")
        await app.state.proxy._client.aclose()
    assert scraped.status_code == 200
    routes = {
        s.labels["route"]
        for f in text_string_to_metric_families(scraped.text)
        for s in f.samples
        if "route" in s.labels
    }
    assert "/api/{service}/{path:path}" in routes and "/alerts/{alert_id}" in routes
    assert "secret" not in scraped.text
