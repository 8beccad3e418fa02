"""Trace context handling: off costs nothing and records nothing; on, context is only a hint."""

from __future__ import annotations

import json
import logging
from collections.abc import Iterator

import pytest
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

from libs.common import tracing

REMOTE = "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01"


@pytest.fixture
def spans() -> Iterator[InMemorySpanExporter]:
    exporter = InMemorySpanExporter()
    provider = TracerProvider()
    provider.add_span_processor(SimpleSpanProcessor(exporter))
    previous = tracing.install(provider)
    try:
        yield exporter
    finally:
        tracing.install(previous)


def test_off_nothing_is_recorded_or_propagated(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("OTEL_EXPORTER_OTLP_ENDPOINT", raising=False)
    assert tracing.setup("intake") is None and not tracing.enabled()
    with tracing.span("intake", "work") as span:
        assert not span.get_span_context().is_valid
        assert tracing.inject({}) == {} and tracing.stored() is None
    assert tracing.extract({"traceparent": REMOTE}) is None
    assert tracing.from_stored(json.dumps({"traceparent": REMOTE})) is None


def test_a_stored_context_continues_its_trace(spans: InMemorySpanExporter) -> None:
    with tracing.span("intake", "submit"):
        stored = tracing.stored()
    assert stored is not None and set(json.loads(stored)) == {"traceparent"}
    with tracing.span("intake", "publish", parent=tracing.from_stored(stored)):
        pass
    submit, publish = spans.get_finished_spans()
    assert publish.context.trace_id == submit.context.trace_id
    assert publish.parent is not None and publish.parent.span_id == submit.context.span_id


@pytest.mark.parametrize("stored", ["not json", "[1, 2]", '{"traceparent": "garbage"}', ""])
def test_a_malformed_stored_context_starts_a_new_trace(
    spans: InMemorySpanExporter, stored: str
) -> None:
    with tracing.span("alerts", "send", parent=tracing.from_stored(stored)):
        pass
    (span,) = spans.get_finished_spans()
    assert span.parent is None


def test_only_the_w3c_headers_are_read(spans: InMemorySpanExporter) -> None:
    headers = {"traceparent": REMOTE, "Lifeline-Signature": "x", "baggage": "name=Lev"}
    with tracing.span("alerts", "process", parent=tracing.extract(headers)) as span:
        assert f"{span.get_span_context().trace_id:032x}" == REMOTE.split("-")[1]
        assert set(tracing.inject({})) == {"traceparent"}


def test_an_exception_marks_the_span_without_its_message(spans: InMemorySpanExporter) -> None:
    with pytest.raises(ValueError), tracing.span("alerts", "process"):
        raise ValueError("the narrative of a report")
    (span,) = spans.get_finished_spans()
    assert span.status.description == "ValueError" and not span.events


def test_log_records_inside_a_span_carry_its_trace_id(spans: InMemorySpanExporter) -> None:
    filt = tracing.TraceIdFilter()
    outside = logging.makeLogRecord({"msg": "x"})
    assert filt.filter(outside) and not hasattr(outside, "trace_id")
    with tracing.span("intake", "submit") as span:
        inside = logging.makeLogRecord({"msg": "x"})
        assert filt.filter(inside)
    assert inside.trace_id == f"{span.get_span_context().trace_id:032x}"


def test_lifeline_up_passes_the_trace_settings_through(monkeypatch: pytest.MonkeyPatch) -> None:
    from pathlib import Path

    from lifeline.environment import NetworkConfig, service_env
    from services.alerts.settings import AlertsSettings

    monkeypatch.setenv("LIFELINE_ALERTS_OTLP_ENDPOINT", "http://collector:4318")
    monkeypatch.setenv("OTEL_EXPORTER_OTLP_ENDPOINT", "http://collector:4318")
    env = service_env(NetworkConfig(data_dir=Path("/x")), "alerts")
    assert env["OTEL_EXPORTER_OTLP_ENDPOINT"] == "http://collector:4318"
    monkeypatch.delenv("LIFELINE_ALERTS_OTLP_ENDPOINT")
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    assert AlertsSettings().otlp_endpoint == "http://collector:4318"
