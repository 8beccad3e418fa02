"""Pure pieces of libs/common: envelope, streams, settings, log hygiene, error bodies."""

from __future__ import annotations

import json
import logging
from pathlib import Path

import pytest
from pydantic import ValidationError

from libs.common.errors import Conflict, RateLimited, Unauthenticated
from libs.common.events import Envelope, new_event
from libs.common.logging import JsonFormatter, PlainFormatter
from libs.common.subjects import AUTH_REVOKED, REPORT_RECEIVED, STREAMS, captures, stream_for
from services.intake.settings import IntakeSettings


def test_new_event_takes_version_from_subject_and_round_trips() -> None:
    event = new_event(REPORT_RECEIVED, "intake", {"report_id": "r1"}, correlation_id="c1")
    assert event.version == 1 and event.type == REPORT_RECEIVED
    assert Envelope.model_validate_json(event.model_dump_json()) == event


def test_envelope_rejects_unknown_fields() -> None:
    raw = new_event(REPORT_RECEIVED, "intake", {}).model_dump(mode="json") | {"name": "x"}
    with pytest.raises(ValidationError):
        Envelope.model_validate(raw)


def test_every_subject_has_exactly_one_stream() -> None:
    assert stream_for(REPORT_RECEIVED).name == "LIFELINE_RECEIVED"
    assert stream_for(AUTH_REVOKED).name == "LIFELINE_AUTH"
    with pytest.raises(KeyError):
        stream_for("other.subject")


def test_subject_patterns_match_as_nats_server_matches_them() -> None:
    assert captures(["lifeline.report.>"], REPORT_RECEIVED)
    assert captures(["lifeline.*.received.v1"], REPORT_RECEIVED)
    assert not captures(["lifeline.report.>"], "lifeline.report")  # `>` needs a token
    assert not captures(["lifeline.report.*"], REPORT_RECEIVED)  # `*` is one token
    assert not captures(["lifeline.report.received"], REPORT_RECEIVED)
    # the reports' streams no longer overlap: the sealed copies are on their own
    assert [s.name for s in STREAMS if captures(s.subjects, REPORT_RECEIVED)] == [
        "LIFELINE_RECEIVED"
    ]


def test_settings_read_only_their_own_prefix(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("LIFELINE_INTAKE_PORT", "9001")
    monkeypatch.setenv("LIFELINE_SHARING_PORT", "9002")
    settings = IntakeSettings(data_dir=Path("/tmp/x"))
    assert settings.port == 9001
    assert settings.resolved_database_url() == "sqlite+aiosqlite:////tmp/x/intake.db"


def _record(**extra: object) -> logging.LogRecord:
    record = logging.LogRecord("t", logging.INFO, __file__, 1, "stored", None, None)
    record.__dict__.update(extra)
    return record


def test_logs_keep_ids_and_drop_anything_else() -> None:
    record = _record(report_id="r-1", person="Lev Skoryakin", token="eyJ...", narrative="text")
    line = json.loads(JsonFormatter().format(record))
    assert line["report_id"] == "r-1" and line["msg"] == "stored"
    plain = PlainFormatter("%(message)s").format(record)
    for secret in ("Skoryakin", "eyJ", "text"):
        assert secret not in json.dumps(line) and secret not in plain


def test_error_bodies_have_one_shape() -> None:
    assert Conflict("reused id").body() == {
        "type": "https://lifeline.invalid/problems/conflict",
        "title": "Conflict",
        "status": 409,
        "detail": "reused id",
        "code": "conflict",
        "fields": [],
        "request_id": None,
        "error": "conflict",
    }
    assert RateLimited(0).headers == {"Retry-After": "1"}
    unauth = Unauthenticated()
    assert unauth.status == 401 and unauth.body()["detail"] == "authentication required"


async def test_access_log_names_the_route_template_and_status_never_the_path(
    caplog: pytest.LogCaptureFixture,
) -> None:
    import httpx
    from fastapi import FastAPI

    from libs.common.web import install_access_log

    app = FastAPI()

    @app.get("/v1/reports/{report_id}")
    async def report(report_id: str) -> dict[str, str]:
        return {"id": report_id}

    install_access_log(app)
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://test") as http:
        with caplog.at_level(logging.INFO, logger="lifeline.http"):
            await http.get("/v1/reports/secret-report-1")
        assert not [r for r in caplog.records if r.getMessage() == "request"]  # DEBUG only
        with caplog.at_level(logging.DEBUG, logger="lifeline.http"):
            await http.get("/v1/reports/secret-report-2?q=Skoriakin")
            await http.get("/nowhere")
    lines = [r for r in caplog.records if r.getMessage() == "request"]
    assert [(r.route, r.status, r.method) for r in lines] == [  # type: ignore[attr-defined]
        ("/v1/reports/{report_id}", 200, "GET"),
        ("unmatched", 404, "GET"),
    ]
    assert "secret-report" not in caplog.text and "Skoriakin" not in caplog.text
