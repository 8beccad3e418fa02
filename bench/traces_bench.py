"""What tracing costs one request: a FastAPI POST through the trace middleware, off and on.

The app is called as the ASGI server calls it (no socket, no HTTP parsing), so the figure is
the middleware's own cost next to FastAPI's (and next to no middleware at all). "on" records every span into a batch processor
whose exporter drops them (the export runs in its own thread, as with OTLP). Medians of 5 runs
of 5,000 requests, interleaved so the shared machine's noise falls on both alike.

Run: .venv/bin/python bench/traces_bench.py
"""

from __future__ import annotations

import asyncio
import statistics
import time
from collections.abc import Sequence

from fastapi import FastAPI
from opentelemetry.sdk.trace import ReadableSpan, TracerProvider
from opentelemetry.sdk.trace.export import BatchSpanProcessor, SpanExporter, SpanExportResult
from pydantic import BaseModel

from libs.common import tracing
from libs.common.tracing import TraceMiddleware

N, RUNS = 5_000, 5
BODY = b'{"a": "x", "b": 1, "c": true}'


class Body(BaseModel):
    a: str
    b: int
    c: bool


class Drop(SpanExporter):
    def export(self, spans: Sequence[ReadableSpan]) -> SpanExportResult:
        return SpanExportResult.SUCCESS


def app(traced: bool = True) -> FastAPI:
    api = FastAPI()

    @api.post("/v1/things/{thing_id}")
    async def post(thing_id: str, body: Body) -> dict[str, str]:
        return {"id": thing_id}

    if traced:
        api.add_middleware(TraceMiddleware, service="bench")
    return api


async def one(api: FastAPI) -> None:
    scope = {
        "type": "http",
        "http_version": "1.1",
        "method": "POST",
        "path": "/v1/things/42",
        "raw_path": b"/v1/things/42",
        "query_string": b"",
        "root_path": "",
        "scheme": "http",
        "server": ("127.0.0.1", 8000),
        "headers": [(b"content-type", b"application/json"), (b"content-length", b"29")],
    }

    async def receive() -> dict[str, object]:
        return {"type": "http.request", "body": BODY, "more_body": False}

    async def send(message: dict[str, object]) -> None:
        return None

    await api(scope, receive, send)


async def run(api: FastAPI) -> float:
    start = time.perf_counter()
    for _ in range(N):
        await one(api)
    return (time.perf_counter() - start) / N * 1e6


async def main() -> None:
    api, bare = app(), app(traced=False)
    provider = TracerProvider()
    provider.add_span_processor(BatchSpanProcessor(Drop()))
    await run(api)  # warm up
    await run(bare)
    without, off, on = [], [], []
    for _ in range(RUNS):
        tracing.install(None)
        without.append(await run(bare))
        off.append(await run(api))
        tracing.install(provider)
        on.append(await run(api))
    tracing.install(None)
    provider.shutdown()
    m_without, m_off, m_on = (statistics.median(x) for x in (without, off, on))
    print(f"request, no middleware: {m_without:7.1f} µs")
    print(f"request, tracing off:   {m_off:7.1f} µs  (+{m_off - m_without:.1f} µs)")
    print(f"request, tracing on:    {m_on:7.1f} µs  (+{m_on - m_without:.1f} µs)")


if __name__ == "__main__":
    asyncio.run(main())
