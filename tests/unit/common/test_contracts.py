"""Typed event data: producers build models, consumers read them back or dead-letter."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from pydantic import ValidationError

from libs.common.contracts import (
    CONTRACTS,
    AuthRevoked,
    ReleaseRequested,
    ReportErased,
    ReportReceived,
    ReportReleased,
    ReportStored,
    SystemAlarm,
    SystemPing,
    SystemPruned,
    new_event,
    read_event,
)
from libs.common.events import Envelope, PermanentError
from libs.common.reports import ReportIn
from libs.common.subjects import REPORT_ERASED, REPORT_STORED, stream_for
from tests.support.reports import report_body

NOW = datetime(2026, 12, 1, 12, 0, tzinfo=UTC)


def test_every_contract_has_a_subject_with_a_stream_and_a_version() -> None:
    for subject, model in CONTRACTS.items():
        assert subject == model.SUBJECT  # type: ignore[attr-defined]
        assert stream_for(subject)
        assert new_event(_sample(model), "test", at=NOW).version == int(subject.rsplit(".v", 1)[1])


def test_an_event_round_trips_through_its_contract() -> None:
    stored = ReportStored(report_id="r1", partner_id="p1", stored_at=datetime.now(UTC))
    event = new_event(stored, "sharing", correlation_id="r1", at=NOW)
    assert event.type == REPORT_STORED and event.correlation_id == "r1"
    wire = Envelope.model_validate_json(event.model_dump_json())
    assert read_event(wire, ReportStored) == stored


def test_a_later_version_may_add_fields() -> None:
    event = new_event(ReportErased(report_id="r1", partner_id="p1"), "sharing", at=NOW)
    grown = event.model_copy(update={"data": {**event.data, "reason": "erasure"}})
    assert read_event(grown, ReportErased).report_id == "r1"


def test_bad_data_or_another_type_is_poison() -> None:
    event = new_event(ReportErased(report_id="r1", partner_id="p1"), "sharing", at=NOW)
    with pytest.raises(PermanentError, match=r"invalid report\.erased data"):
        read_event(event.model_copy(update={"data": {"partner_id": "p1"}}), ReportErased)
    with pytest.raises(PermanentError, match=r"unexpected event type on the report\.stored"):
        read_event(event, ReportStored)
    assert event.type == REPORT_ERASED


def _sample(model: type) -> object:
    report = ReportIn.model_validate(report_body())
    samples = {
        ReportReceived: lambda: ReportReceived.of(
            report, report_id="r", partner_id="p", received_at=datetime.now(UTC), sealed="AAAA"
        ),
        ReportStored: lambda: ReportStored(
            report_id="r", partner_id="p", stored_at=datetime.now(UTC)
        ),
        ReportErased: lambda: ReportErased(report_id="r", partner_id="p"),
        ReleaseRequested: lambda: ReleaseRequested(
            report_id="r",
            partner_id="p",
            client_id="c",
            alert_id="a",
            fields=["incident_type"],
            requested_at=datetime.now(UTC),
        ),
        ReportReleased: lambda: ReportReleased(
            report_id="r", partner_id="p", fields=[], decision="denied"
        ),
        AuthRevoked: lambda: AuthRevoked(kind="client", id="cli_x", not_before="2026-01-01Z"),
        SystemAlarm: lambda: SystemAlarm(
            kind="oprf_bulk_use",
            scope="client",
            subject="c",
            partner_id="p",
            used=8,
            limit=10,
            raised_at=datetime.now(UTC),
        ),
        SystemPing: SystemPing,
        SystemPruned: lambda: SystemPruned(counts={"alerts": 2, "deliveries": 3}),
    }
    return samples[model]()


def test_pruned_counts_are_counts_by_kind_never_free_text() -> None:
    """The event feeds the audit chain: keys are short snake_case kinds, values non-negative."""
    for bad in ({}, {"Alert ids": 1}, {"alerts": -1}, {f"k{i}": 1 for i in range(17)}):
        with pytest.raises(ValidationError):
            SystemPruned(counts=bad)
