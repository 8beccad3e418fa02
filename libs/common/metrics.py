"""Prometheus instruments every service shares, the HTTP middleware and the metrics listener.

Each service keeps its instruments in a registry of its own (tests run several services in one
process); service-specific ones live beside the code that counts (`services/<svc>/metrics.py`).
No label carries a name, token, report id, partner id or any other value a caller chose: routes
are templates, the rest come from short fixed vocabularies.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Awaitable, Callable, Iterator
from typing import TypeVar

import uvicorn
from fastapi import FastAPI
from prometheus_client import (
    CollectorRegistry,
    Counter,
    Gauge,
    Histogram,
    ProcessCollector,
    disable_created_metrics,
    make_asgi_app,
)
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from libs.common.settings import ServiceSettings
from libs.common.web import route_of

log = logging.getLogger(__name__)

METRICS_PATH = "/metrics"
# Seconds a scrape waits for each probe (a database count, a JetStream consumer's info).
PROBE_TIMEOUT_S = 1.0
LATENCY_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)
# A method outside these is counted as "other": a client cannot mint label values.
_METHODS = frozenset({"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"})

Probe = Callable[[], Awaitable[None]]
M = TypeVar("M", bound="WebMetrics")


class WebMetrics:
    """A web process's registry: its requests, its process, and the probes asked at scrape time."""

    def __init__(self, service: str) -> None:
        # No `*_created` series beside every counter: they double the output and say little.
        disable_created_metrics()  # type: ignore[no-untyped-call]
        self.service = service
        self.registry = CollectorRegistry()
        r = self.registry
        ProcessCollector(registry=r)  # CPU, memory, open files: read from /proc at scrape time
        self.http = Histogram(
            "lifeline_http_request_duration_seconds",
            "HTTP requests by method, route template and status, and how long they took.",
            ["method", "route", "status"],
            buckets=LATENCY_BUCKETS,
            registry=r,
        )
        self.probe_failures = Counter(
            "lifeline_metrics_probe_failures",
            "Scrape-time probes that failed or timed out (their gauges keep the last value).",
            ["probe"],
            registry=r,
        )
        self._probes: dict[str, Probe] = {}
        self._http_children: dict[tuple[str, str, int], Histogram] = {}

    def probe(self, name: str, probe: Probe) -> None:
        """Run `probe` (which sets gauges) before every scrape; `name` is a fixed word."""
        self._probes[name] = probe
        self.probe_failures.labels(name)

    async def refresh(self) -> None:
        """Run every probe, each bounded by `PROBE_TIMEOUT_S`; a failure is counted, not raised."""

        async def one(name: str, probe: Probe) -> None:
            try:
                await asyncio.wait_for(probe(), PROBE_TIMEOUT_S)
            except Exception as exc:
                self.probe_failures.labels(name).inc()
                log.debug("metrics probe failed", extra={"reason": type(exc).__name__})

        await asyncio.gather(*(one(n, p) for n, p in list(self._probes.items())))

    def request(self, method: str, route: str, status: int, seconds: float) -> None:
        """Observe one HTTP request (the labelled child is cached: no lookup lock per request)."""
        key = (method if method in _METHODS else "other", route, status)
        child = self._http_children.get(key)
        if child is None:
            child = self._http_children[key] = self.http.labels(key[0], route, str(status))
        child.observe(seconds)


class Metrics(WebMetrics):
    """A service's: what every web process has, and its bus, outbox and seal."""

    def __init__(self, service: str) -> None:
        super().__init__(service)
        r = self.registry
        self.published = Counter(
            "lifeline_events_published",
            "Events the outbox relay published (JetStream acknowledged), by subject.",
            ["subject"],
            registry=r,
        )
        self.consumed = Counter(
            "lifeline_events_consumed",
            "Events a durable consumer took, by stream, consumer and outcome (handled, "
            "retried, dead_lettered).",
            ["stream", "consumer", "outcome"],
            registry=r,
        )
        self.dead_letters = Counter(
            "lifeline_dead_letters",
            "Events a consumer gave up on, by consumer and kind of reason.",
            ["consumer", "reason"],
            registry=r,
        )
        self.outbox_waiting = Gauge(
            "lifeline_outbox_waiting", "Outbox rows not yet published.", registry=r
        )
        self.outbox_oldest_age = Gauge(
            "lifeline_outbox_oldest_age_seconds",
            "Age of the oldest outbox row not yet published (0 when empty).",
            registry=r,
        )
        self.consumer_pending = Gauge(
            "lifeline_consumer_pending",
            "Messages of a stream not yet delivered to a durable consumer (JetStream num_pending).",
            ["stream", "consumer"],
            registry=r,
        )
        self.sealed = Gauge(
            "lifeline_sealed", "1 while the service waits to be unsealed, else 0.", registry=r
        )


class MetricsMiddleware:
    """Times every request by route template; pure ASGI, like `AccessLogMiddleware`."""

    def __init__(self, app: ASGIApp, metrics: WebMetrics) -> None:
        self.app = app
        self.metrics = metrics

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Pass through, noting the status; observe once the response is done (or failed)."""
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        start, status = time.perf_counter(), 500

        async def noting_send(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
            await send(message)

        try:
            await self.app(scope, receive, noting_send)
        finally:
            self.metrics.request(
                scope["method"], route_of(scope), status, time.perf_counter() - start
            )


class _ProbedExposition:
    """`/metrics` of the registry, after the probes ran; every other path is 404."""

    def __init__(self, metrics: WebMetrics) -> None:
        self.metrics = metrics
        self.exposition = make_asgi_app(metrics.registry)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["path"] != METRICS_PATH:
            if scope["type"] == "http":
                await send({"type": "http.response.start", "status": 404, "headers": []})
                await send({"type": "http.response.body", "body": b"not found\n"})
            return
        await self.metrics.refresh()
        await self.exposition(scope, receive, send)


class _Listener(uvicorn.Server):
    """A uvicorn server that leaves the process's signals to the service's own server."""

    @contextlib.contextmanager
    def capture_signals(self) -> Iterator[None]:
        yield


class _OwnLines(logging.Filter):
    """Drops uvicorn's start and stop lines while the listener starts or stops: the service's
    own server prints the same ones, and two "Started server process" lines read as two
    processes."""

    def filter(self, record: logging.LogRecord) -> bool:
        return not str(record.msg).startswith(_UVICORN_LIFECYCLE)


_UVICORN_LIFECYCLE = (
    "Started server process",
    "Uvicorn running on",
    "Shutting down",
    "Finished server",
)


@contextlib.contextmanager
def _quiet_lifecycle() -> Iterator[None]:
    """uvicorn's lifecycle lines are muted inside (the service's server is idle meanwhile)."""
    quiet, logger = _OwnLines(), logging.getLogger("uvicorn.error")
    logger.addFilter(quiet)
    try:
        yield
    finally:
        logger.removeFilter(quiet)


class MetricsListener:
    """`/metrics` on a port of its own, beside the service's public one, on the same loop."""

    def __init__(self, metrics: WebMetrics, host: str, port: int) -> None:
        config = uvicorn.Config(
            _ProbedExposition(metrics),
            host=host,
            port=port,
            lifespan="off",
            log_config=None,
            access_log=False,
            server_header=False,
        )
        self.server = _Listener(config)
        self.task: asyncio.Task[None] | None = None

    async def start(self) -> None:
        """Listen; raise if the port cannot be bound (a misconfiguration should stop the start)."""
        with _quiet_lifecycle():
            self.task = asyncio.create_task(self.server.serve(), name="metrics-listener")
            while not self.server.started:
                if self.task.done():
                    self.task.result()  # raises what stopped it
                    raise OSError("the metrics listener stopped while starting")
                await asyncio.sleep(0.01)

    async def stop(self) -> None:
        """Close the listener."""
        if self.task is None:
            return
        self.server.should_exit = True
        with _quiet_lifecycle(), contextlib.suppress(Exception):
            await asyncio.wait_for(self.task, timeout=5.0)

    @property
    def port(self) -> int:
        """The bound port (the configured one, or the one the OS chose for 0)."""
        sockets = self.server.servers[0].sockets if self.server.servers else []
        return int(sockets[0].getsockname()[1]) if sockets else self.server.config.port


def install_metrics(app: FastAPI, metrics: M) -> M:
    """Time every request of `app` in `metrics` (add it last: outermost); the lifespan starts
    the listener."""
    app.add_middleware(MetricsMiddleware, metrics=metrics)
    app.state.metrics = metrics
    return metrics


async def start_listener(metrics: WebMetrics, settings: ServiceSettings) -> MetricsListener | None:
    """The metrics listener of `settings` (none when `metrics_port` is unset), listening."""
    if settings.metrics_port is None:
        return None
    listener = MetricsListener(metrics, settings.metrics_host, settings.metrics_port)
    await listener.start()
    log.info("metrics listening", extra={"port": listener.port})
    return listener
