"""The shared instruments: bounded labels, the pure-ASGI middleware, scrape-time probes."""

from __future__ import annotations

import asyncio
import logging

import httpx
import pytest
from fastapi import FastAPI
from prometheus_client.parser import text_string_to_metric_families

from libs.common.metrics import Metrics, MetricsListener, MetricsMiddleware
from libs.common.web import install_error_handlers, install_request_ids


def _samples(metrics: Metrics) -> list[tuple[str, dict[str, str], float]]:
    from prometheus_client import generate_latest

    text = generate_latest(metrics.registry).decode()
    return [
        (s.name, dict(s.labels), s.value)
        for family in text_string_to_metric_families(text)
        for s in family.samples
    ]


def _count(metrics: Metrics, **labels: str) -> float:
    name = "lifeline_http_request_duration_seconds_count"
    return sum(v for n, lab, v in _samples(metrics) if n == name and labels.items() <= lab.items())


def _app(metrics: Metrics) -> FastAPI:
    app = FastAPI()
    install_error_handlers(app)
    install_request_ids(app)

    @app.get("/v1/reports/{report_id}")
    async def report(report_id: str) -> dict[str, str]:
        return {"id": report_id}

    @app.get("/v1/boom")
    async def boom() -> None:
        raise RuntimeError("a bug")

    app.add_middleware(MetricsMiddleware, metrics=metrics)
    return app


async def test_a_request_is_labelled_by_its_route_template_never_its_path() -> None:
    metrics = Metrics("test")
    transport = httpx.ASGITransport(app=_app(metrics), raise_app_exceptions=False)
    async with httpx.AsyncClient(transport=transport, base_url="http://svc") as http:
        assert (await http.get("/v1/reports/r-secret-1")).status_code == 200
        assert (await http.get("/v1/reports/r-secret-2")).status_code == 200
        assert (await http.get("/no/such/r-secret-3")).status_code == 404
        assert (await http.get("/v1/boom")).status_code == 500
        await http.request("BREW", "/v1/reports/r-secret-4")
    route = "/v1/reports/{report_id}"
    assert _count(metrics, method="GET", route=route, status="200") == 2
    assert _count(metrics, method="GET", route="unmatched", status="404") == 1
    assert _count(metrics, method="GET", route="/v1/boom", status="500") == 1
    # A method a client invents is not a label value of its own.
    assert _count(metrics, method="other") == 1
    labels = {v for _, lab, _ in _samples(metrics) for v in lab.values()}
    assert not [v for v in labels if "secret" in v or v == "BREW"]


async def test_a_failing_or_slow_probe_is_counted_and_the_scrape_still_answers(
    monkeypatch,  # type: ignore[no-untyped-def]
) -> None:
    monkeypatch.setattr("libs.common.metrics.PROBE_TIMEOUT_S", 0.05)
    metrics = Metrics("test")

    async def good() -> None:
        metrics.outbox_waiting.set(3)

    async def broken() -> None:
        raise ConnectionRefusedError("database down")

    async def stuck() -> None:
        await asyncio.sleep(5)

    metrics.probe("outbox", good)
    metrics.probe("consumer-a", broken)
    metrics.probe("consumer-b", stuck)
    await asyncio.wait_for(metrics.refresh(), timeout=1)
    samples = {(n, tuple(sorted(lab.items()))): v for n, lab, v in _samples(metrics)}
    assert samples[("lifeline_outbox_waiting", ())] == 3
    failures = "lifeline_metrics_probe_failures_total"
    assert samples[(failures, (("probe", "consumer-a"),))] == 1
    assert samples[(failures, (("probe", "consumer-b"),))] == 1
    assert samples[(failures, (("probe", "outbox"),))] == 0


def test_each_service_has_its_own_registry() -> None:
    a, b = Metrics("intake"), Metrics("alerts")
    a.request("GET", "/healthz", 200, 0.001)
    assert _count(a) == 1 and _count(b) == 0


async def test_the_listener_serves_metrics_without_repeating_uvicorns_lifecycle_lines(
    caplog: pytest.LogCaptureFixture,
) -> None:
    """The service's own server prints "Started server process"; the listener must not again."""
    metrics = Metrics("test-listener")
    listener = MetricsListener(metrics, "127.0.0.1", 0)
    with caplog.at_level(logging.INFO, logger="uvicorn.error"):
        await listener.start()
        try:
            async with httpx.AsyncClient() as http:
                scrape = await http.get(f"http://127.0.0.1:{listener.port}/metrics")
            assert scrape.status_code == 200 and "lifeline_http_request" in scrape.text
        finally:
            await listener.stop()
        uvicorn_lines = [r.getMessage() for r in caplog.records if r.name == "uvicorn.error"]
        assert not [m for m in uvicorn_lines if "server process" in m or "running on" in m]
        # The mute ends with the listener: the service's own lines still reach the log.
        logging.getLogger("uvicorn.error").info("Started server process [1]")
        assert caplog.records[-1].getMessage() == "Started server process [1]"
