"""Traces (OpenTelemetry): off unless an OTLP endpoint is set; W3C context carried as hints.

Off, nothing is recorded and every hook below returns after one check. On, one SDK provider
per process batches spans to `<endpoint>/v1/traces` (OTLP over HTTP/protobuf). The context
travels in `traceparent`/`tracestate` (HTTP and NATS headers, outbox and delivery rows); it is
never signed and never read by anything but this module: a forged one changes a trace, never
what is done. Spans carry route templates, subjects, event types and event ids — never names,
tokens, report content or a raw path.
"""

from __future__ import annotations

import json
import logging
import os
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from typing import Any

from opentelemetry import trace
from opentelemetry.context import Context
from opentelemetry.trace import Link, Span, SpanKind, Status, StatusCode, Tracer
from opentelemetry.trace.propagation.tracecontext import TraceContextTextMapPropagator
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from libs.common.web import route_of

HEADERS = ("traceparent", "tracestate")
_PROPAGATOR = TraceContextTextMapPropagator()
_NOOP = trace.NoOpTracer()
_provider: trace.TracerProvider | None = None
_tracers: dict[str, Tracer] = {}


def install(provider: trace.TracerProvider | None) -> trace.TracerProvider | None:
    """Record spans with `provider` from now on (None: stop); returns the previous one."""
    global _provider
    previous, _provider = _provider, provider
    _tracers.clear()
    return previous


def enabled() -> bool:
    """True while spans are recorded."""
    return _provider is not None


def tracer(service: str) -> Tracer:
    """The tracer of one service (its instrumentation scope names it); a no-op when off."""
    if _provider is None:
        return _NOOP
    found = _tracers.get(service)
    if found is None:
        found = _tracers[service] = _provider.get_tracer(f"lifeline.{service}")
    return found


def setup(service: str, endpoint: str = "") -> trace.TracerProvider | None:
    """An SDK provider exporting to `endpoint` (or `OTEL_EXPORTER_OTLP_ENDPOINT`), installed;
    None, and nothing installed, when neither is set."""
    endpoint = endpoint or os.environ.get("OTEL_EXPORTER_OTLP_ENDPOINT", "")
    if not endpoint:
        return None
    # Imported only here: a service without an endpoint never loads the SDK.
    from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter
    from opentelemetry.sdk.resources import Resource
    from opentelemetry.sdk.trace import TracerProvider
    from opentelemetry.sdk.trace.export import BatchSpanProcessor

    name = os.environ.get("OTEL_SERVICE_NAME") or service
    provider = TracerProvider(resource=Resource.create({"service.name": name}))
    exporter = OTLPSpanExporter(endpoint=endpoint.rstrip("/") + "/v1/traces")
    provider.add_span_processor(BatchSpanProcessor(exporter))
    install(provider)
    return provider


def shutdown(provider: trace.TracerProvider | None) -> None:
    """Flush and stop what `setup` started (and stop recording if it is still installed)."""
    if provider is None:
        return
    if _provider is provider:
        install(None)
    stop = getattr(provider, "shutdown", None)
    if stop is not None:
        stop()


def inject(headers: dict[str, str]) -> dict[str, str]:
    """`headers` with the current context's `traceparent` (and `tracestate`) when recording."""
    if _provider is not None:
        _PROPAGATOR.inject(headers)
    return headers


def extract(carrier: Mapping[str, str] | None) -> Context | None:
    """The remote context in `carrier` (only the two W3C keys are read); None when off."""
    if _provider is None or not carrier:
        return None
    return _PROPAGATOR.extract({k: carrier[k] for k in HEADERS if k in carrier})


def stored() -> str | None:
    """The current context as stored with a row that another task sends later (or None)."""
    carrier = inject({})
    return json.dumps(carrier, separators=(",", ":")) if carrier else None


def from_stored(text: str | None) -> Context | None:
    """The context `stored` wrote; a malformed value is no context (it is only a hint)."""
    if _provider is None or not text:
        return None
    try:
        carrier = json.loads(text)
    except ValueError:
        return None
    return extract({k: str(v) for k, v in carrier.items()} if isinstance(carrier, dict) else None)


@contextmanager
def span(
    service: str,
    name: str,
    kind: SpanKind = SpanKind.INTERNAL,
    *,
    parent: Context | None = None,
    links: list[Context | None] | None = None,
    attributes: Mapping[str, Any] | None = None,
) -> Iterator[Span]:
    """A span of `service` under `parent` (default: the current span), made current."""
    if _provider is None:
        yield trace.INVALID_SPAN
        return
    linked = [Link(trace.get_current_span(c).get_span_context()) for c in links or () if c]
    # No exception events: an exception's message may quote the data it failed on.
    with tracer(service).start_as_current_span(
        name,
        context=parent,
        kind=kind,
        links=linked,
        attributes=dict(attributes or {}),
        record_exception=False,
        set_status_on_exception=False,
    ) as current:
        try:
            yield current
        except BaseException as exc:
            current.set_status(Status(StatusCode.ERROR, type(exc).__name__))
            raise


class TraceMiddleware:
    """A SERVER span per HTTP request, named by method and route template.

    Hand-written rather than `opentelemetry-instrumentation-asgi`: that one records the raw
    path and query (ids), the client's address and user agent, none of which may leave here.
    """

    def __init__(self, app: ASGIApp, service: str) -> None:
        self.app = app
        self.service = service

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Pass through when off; otherwise continue the caller's trace around the request."""
        if _provider is None or scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        headers = {k.decode("latin-1"): v.decode("latin-1") for k, v in scope["headers"]}
        method, status = scope["method"], 0

        async def noting_send(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
            await send(message)

        with span(self.service, method, SpanKind.SERVER, parent=extract(headers)) as current:
            try:
                await self.app(scope, receive, noting_send)
            finally:
                # Known once routing ran: the template, never the path (it may carry ids).
                route = route_of(scope)
                current.update_name(f"{method} {route}")
                current.set_attribute("http.request.method", method)
                current.set_attribute("http.route", route)
                current.set_attribute("http.response.status_code", status)


class TraceIdFilter(logging.Filter):
    """Adds `trace_id` to a log record made inside a recorded span (to find its trace)."""

    def filter(self, record: logging.LogRecord) -> bool:
        """Never drops a record; only notes the trace it belongs to."""
        if _provider is not None:
            context = trace.get_current_span().get_span_context()
            if context.is_valid:
                record.trace_id = f"{context.trace_id:032x}"
        return True
