"""The report's bytes made once are the bytes the models would make: sealed plaintext, event."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from typing import Any

import pytest

from libs.common.contracts import ReportReceived, new_event, read_event
from libs.common.crypto.encoding import canonical_json
from libs.common.events import Envelope
from libs.common.reports import ReportIn
from services.intake import wire
from tests.support.reports import report_body

BODIES = {
    "new report": report_body(),
    "non-ASCII text, date only": report_body(
        occurred_at="2026-11-20",
        narrative="Задержан в аэропорту «Манас»; телефон изъят.",
        place={"country": "KG", "locality": "Бишкек", "facility_kind": "airport"},
    ),
    "follow-up without a subject": {
        k: v
        for k, v in report_body(follows=str(uuid.uuid4()), status="released").items()
        if k != "subject"
    },
}
INSTANTS = [
    datetime(2026, 12, 4, 23, 42, 18, 123456, UTC),
    datetime(2026, 12, 4, 23, 42, tzinfo=UTC),
]


@pytest.mark.parametrize("at", INSTANTS)
@pytest.mark.parametrize("name", BODIES)
def test_made_once_equals_made_by_the_models(name: str, at: datetime) -> None:
    report = ReportIn.model_validate(BODIES[name])
    doc, content = wire.canonical(report)
    assert content == canonical_json(report.model_dump(mode="json"))
    ids: dict[str, Any] = {"report_id": str(uuid.uuid4()), "partner_id": "ptn-a"}
    plaintext = wire.sealed_plaintext(content, client_id="cli-a", received_at=at, **ids)
    assert plaintext == canonical_json(
        {
            "report_id": ids["report_id"],
            "partner_id": "ptn-a",
            "client_id": "cli-a",
            "received_at": at.isoformat(),
            "report": report.model_dump(mode="json"),
        }
    )

    event_id, payload = wire.received_event(doc, received_at=at, sealed="c2VhbGVk", **ids)
    data = ReportReceived.of(report, received_at=at, sealed="c2VhbGVk", **ids)
    model = new_event(data, "intake", ids["report_id"], at=at).model_copy(update={"id": event_id})
    assert payload == model.model_dump_json().encode()
    assert read_event(Envelope.model_validate_json(payload), ReportReceived) == data
