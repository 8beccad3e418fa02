"""One trace from submit to webhook: intake, the outbox relay, sharing, alerts, the delivery.

Real parts: nats-server, SQLite, the three services in process, a webhook receiver on a port.
An SDK provider with an in-memory exporter stands in for the collector; a last test sends to
a real (tiny) OTLP/HTTP receiver.
"""

from __future__ import annotations

import asyncio
import json
import uuid
from collections.abc import AsyncIterator, Callable, Iterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import nats
import pytest
from opentelemetry.sdk.trace import ReadableSpan, TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from opentelemetry.trace import SpanKind
from sqlalchemy import text
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from libs.common import db, tracing
from tests.integration.auth.conftest import running_sharing, services_for, sharing_settings
from tests.support.bus import SecuredBus, start_secured_bus
from tests.support.natsd import NatsServer, free_port
from tests.support.receivers import Receiver, receiver, serve, unserve, until
from tests.support.reports import report_body, token_value

NAME = "Lev Skoriakin"  # the lawyer's label of the client: the only place a name is typed
NARRATIVE = "canary-narrative-4d1e detained at the airport"
TOKEN = token_value()


@pytest.fixture
def spans() -> Iterator[InMemorySpanExporter]:
    """Spans recorded in this process while the test runs (as a collector would get them)."""
    exporter = InMemorySpanExporter()
    provider = TracerProvider()
    provider.add_span_processor(SimpleSpanProcessor(exporter))
    previous = tracing.install(provider)
    try:
        yield exporter
    finally:
        tracing.install(previous)
        provider.shutdown()


@dataclass
class TracedReceiver(Receiver):
    """A webhook receiver that also keeps the `traceparent` of every request."""

    traceparents: list[str | None] = field(default_factory=list)

    async def _handle(self, request: Request) -> Response:
        self.traceparents.append(request.headers.get("traceparent"))
        return await super()._handle(request)


@asynccontextmanager
async def _network(
    nats_url: str,
    db_url_factory: Callable[[str], str],
    tmp_path: Path,
    bus: SecuredBus | None = None,
) -> AsyncIterator[tuple[httpx.AsyncClient, dict[str, str], Any]]:
    """Sharing, intake and alerts (on an authenticated bus, signing every event, with `bus`)."""

    def extra(service: str) -> dict[str, Any]:
        out: dict[str, Any] = bus.settings(service) if bus is not None else {}
        return out | ({"webhook_allow_private": True} if service == "alerts" else {})

    settings = sharing_settings(
        tmp_path, nats_url, db_url_factory("sharing"), wire=False, **extra("sharing")
    )
    async with (
        httpx.AsyncClient(timeout=10) as http,
        running_sharing(settings, http) as sharing,
        services_for(
            sharing,
            nats_url,
            db_url_factory,
            tmp_path,
            extra=extra,
        ) as (urls, _),
    ):
        yield http, urls, sharing


async def _report_to_webhook(
    http: httpx.AsyncClient, urls: dict[str, str], sharing: Any, hook: Receiver, **headers: str
) -> str:
    """A lawyer watching the client, a matching report submitted; its alert's webhook hit."""
    lawyer = await sharing.client("watchlist:manage", "alerts:read")
    ngo = await sharing.client("reports:submit")
    as_lawyer, as_ngo = await lawyer.headers(http), await ngo.headers(http)
    tokens = [{"kind": "name_dob", "version": 1, "value": TOKEN}]
    resp = await http.put(
        urls["alerts"] + "/v1/lawyer/profile",
        json={"webhook": {"url": hook.url}},
        headers=as_lawyer,
    )
    assert resp.status_code == 200, resp.text
    profile = resp.json()
    primary = next(c for c in profile["contacts"] if c["role"] == "primary")
    hook.secret = profile["new_secrets"][primary["id"]]
    entry = {"label": NAME, "tokens": tokens}
    resp = await http.post(urls["alerts"] + "/v1/watchlist/entries", json=entry, headers=as_lawyer)
    assert resp.status_code == 201, resp.text
    body = report_body(narrative=NARRATIVE, subject={"tokens": tokens, "sex": "male"})
    resp = await http.post(urls["intake"] + "/v1/reports", json=body, headers=as_ngo | headers)
    assert resp.status_code in (201, 202), resp.text
    assert await until(lambda: bool(hook.alerts("alert.created")), timeout=20)
    return str(resp.json()["report_id"])


def _one(spans: list[ReadableSpan], name: str, kind: SpanKind) -> ReadableSpan:
    found = [s for s in spans if s.name == name and s.kind == kind]
    assert found, f"no {kind.name} span {name!r} among {sorted({s.name for s in spans})}"
    return found[0]


async def test_one_trace_runs_from_submit_to_the_webhook(
    spans: InMemorySpanExporter, db_url_factory: Callable[[str], str], tmp_path: Path
) -> None:
    # On the authenticated bus: every event is signed, and its trace headers ride outside the
    # signature, so each consumer still proves the producer and handles it.
    bus = start_secured_bus(tmp_path)
    hook = TracedReceiver()
    await hook.start()
    try:
        async with _network(bus.url, db_url_factory, tmp_path, bus) as (http, urls, sharing):
            report_id = await _report_to_webhook(http, urls, sharing, hook)
            # sharing's consume span ends after its commit, a moment after alerts' page.
            await until(
                lambda: any(
                    s.name == "lifeline.report.received.v1 process"
                    and s.instrumentation_scope.name == "lifeline.sharing"
                    for s in spans.get_finished_spans()
                )
            )
    finally:
        await hook.stop()
        bus.server.stop()
    done = list(spans.get_finished_spans())
    post = _one(done, "POST /v1/reports", SpanKind.SERVER)
    trace_id = post.context.trace_id
    publish = _one(done, "lifeline.report.received.v1 publish", SpanKind.PRODUCER)
    consumed = {
        s.instrumentation_scope.name: s
        for s in done
        if s.name == "lifeline.report.received.v1 process" and s.context.trace_id == trace_id
    }
    delivery = _one(done, "delivery webhook send", SpanKind.CLIENT)
    # One trace id on every hop, each hop the child of the one before.
    assert publish.context.trace_id == trace_id
    assert set(consumed) >= {"lifeline.sharing", "lifeline.alerts"}
    for span in consumed.values():
        assert span.kind == SpanKind.CONSUMER and span.parent is not None
        assert span.parent.span_id == publish.context.span_id
    assert delivery.context.trace_id == trace_id
    alerts_consumed = consumed["lifeline.alerts"]
    assert delivery.parent is not None
    assert delivery.parent.span_id == alerts_consumed.context.span_id
    # The receiver got the delivery span as the parent of its own.
    parent = f"00-{trace_id:032x}-{delivery.context.span_id:016x}-"
    assert [p for p in hook.traceparents if p and p.startswith(parent)], hook.traceparents
    # Nothing personal, secret or raw leaves in a span: no name, token, narrative, report id
    # or raw path.
    text = json.dumps([{**dict(s.attributes or {}), "name": s.name} for s in done])
    for canary in (NAME, TOKEN, TOKEN[:24], NARRATIVE, report_id, hook.secret):
        assert canary not in text, f"{canary!r} is in a span"


async def test_without_an_exporter_nothing_is_recorded_and_a_forged_context_is_ignored(
    nats_server: NatsServer, db_url_factory: Callable[[str], str], tmp_path: Path
) -> None:
    assert not tracing.enabled()
    made: dict[str, str] = {}

    def databases(name: str) -> str:
        made[name] = db_url_factory(name)
        return made[name]

    forged = "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01"
    async with receiver() as hook, _network(nats_server.url, databases, tmp_path) as net:
        http, urls, sharing = net
        await _report_to_webhook(http, urls, sharing, hook, traceparent=forged)
        (hit,) = hook.alerts("alert.created")
        assert hit.payload["data"]["match"]["strength"] == "strong"
    assert not tracing.enabled()
    # Nothing was recorded, not even the caller's forged context with the job it led to.
    engine = db.create_engine(made["alerts"])
    try:
        async with engine.connect() as conn:
            stored = (await conn.execute(text("SELECT trace_context FROM deliveries"))).all()
    finally:
        await engine.dispose()
    assert stored and all(row.trace_context is None for row in stored)


async def test_a_forged_traceparent_on_the_bus_changes_no_processing(
    spans: InMemorySpanExporter,
    nats_server: NatsServer,
    db_url_factory: Callable[[str], str],
    tmp_path: Path,
) -> None:
    # An unsigned (plain bus) event whose trace headers are garbage, then one with a forged
    # but well-formed context: both are handled as without them; the forged id only names
    # the trace its spans join.
    async with _network(nats_server.url, db_url_factory, tmp_path) as (http, urls, sharing):
        admin = await sharing.admin.headers(http)
        nc = await nats.connect(nats_server.url)
        try:
            js = nc.jetstream()
            forged = "00-" + uuid.uuid4().hex + "-b7ad6b7169203331-01"
            for i, value in enumerate(("garbage;;", forged)):
                event_id = str(uuid.uuid4())
                data = json.dumps(_ping(event_id)).encode()
                headers = {"Nats-Msg-Id": event_id, "traceparent": value, "tracestate": "x=" * i}
                await js.publish("lifeline.system.ping.v1", data, headers=headers)

                async def seen(event_id: str = event_id) -> bool:
                    url = f"{urls['alerts']}/v1/system/events/{event_id}"
                    return (await http.get(url, headers=admin)).status_code == 200

                assert await until(seen), "a forged trace context stopped processing"
        finally:
            await nc.close()
    joined = [s for s in spans.get_finished_spans() if f"{s.context.trace_id:032x}" in forged]
    assert joined and all(s.kind == SpanKind.CONSUMER for s in joined)


def _ping(event_id: str) -> dict[str, Any]:
    return {
        "id": event_id,
        "type": "lifeline.system.ping.v1",
        "version": 1,
        "occurred_at": "2026-12-01T00:00:00Z",
        "producer": "intake",
        "data": {},
    }


async def test_the_otlp_exporter_sends_to_the_configured_endpoint() -> None:
    posts: list[bytes] = []

    async def collect(request: Request) -> Response:
        assert request.headers["content-type"] == "application/x-protobuf"
        posts.append(await request.body())
        return Response(status_code=200)

    port = free_port()
    server, task = await serve(
        Starlette(routes=[Route("/v1/traces", collect, methods=["POST"])]), port
    )
    try:
        provider = tracing.setup("intake", f"http://127.0.0.1:{port}")
        assert provider is not None and tracing.enabled()
        with tracing.span("intake", "probe", attributes={"http.route": "/v1/reports"}):
            pass
        # The exporter posts from its own thread with a blocking client: flush off the loop.
        await asyncio.to_thread(tracing.shutdown, provider)
        assert not tracing.enabled()
        assert await until(lambda: bool(posts), timeout=5)
        assert b"probe" in posts[0] and b"intake" in posts[0]
    finally:
        await unserve(server, task)
