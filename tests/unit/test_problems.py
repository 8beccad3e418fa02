"""Error bodies as RFC 9457 problems, readable field reasons, and request ids in logs."""

from __future__ import annotations

import io
import json
import logging
from collections.abc import Iterator

import httpx
import pytest
from fastapi import FastAPI
from pydantic import BaseModel, field_validator

from libs.common.errors import NotFound
from libs.common.logging import JsonFormatter, RequestIdFilter
from libs.common.problems import field_reason
from libs.common.requestid import accepted_request_id
from libs.common.web import install_error_handlers, install_request_ids


class Body(BaseModel):
    """A body with one rule of ours."""

    country: str

    @field_validator("country")
    @classmethod
    def _known(cls, value: str) -> str:
        if value != "KG":
            raise ValueError("unknown country code")
        return value


def _app() -> FastAPI:
    app = FastAPI()
    install_error_handlers(app)
    install_request_ids(app)
    log = logging.getLogger("lifeline.test.problems")

    @app.post("/things")
    async def things(body: Body) -> dict[str, str]:
        log.warning("about to refuse", extra={"reason": "test"})
        raise NotFound("no such thing")

    @app.get("/boom")
    async def boom() -> None:
        # A message that must reach neither the log nor the body (built, so no source line has it).
        raise RuntimeError("Skor" + "yakin")

    return app


@pytest.fixture
def log_stream() -> Iterator[io.StringIO]:
    """Where JSON log lines go, through a handler like the one `configure_logging` installs."""
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.addFilter(RequestIdFilter())
    handler.setFormatter(JsonFormatter())
    root = logging.getLogger()
    root.addHandler(handler)
    yield stream
    root.removeHandler(handler)


def test_field_reasons_lose_pydantic_prefixes() -> None:
    assert field_reason("Value error, unknown country code") == "unknown country code"
    assert field_reason("Assertion failed, too late") == "too late"
    assert field_reason("Field required") == "Field required"


def test_request_ids_are_kept_only_when_short_and_safe() -> None:
    assert accepted_request_id("trace-42.a") == "trace-42.a"
    for bad in (None, "", "a b", "x" * 65, "id\nforged line", "-leading", "Скорякин"):
        made = accepted_request_id(bad)
        assert made != bad and len(made) == 16 and made.isalnum()


async def test_errors_are_problems_with_the_request_id(log_stream: io.StringIO) -> None:
    transport = httpx.ASGITransport(app=_app(), raise_app_exceptions=False)
    async with httpx.AsyncClient(transport=transport, base_url="http://t") as http:
        refused = await http.post("/things", json={"country": "Skoryakin"})
        missing = await http.post(
            "/things", json={"country": "KG"}, headers={"X-Request-ID": "req-1"}
        )
        broken = await http.get("/boom", headers={"X-Request-ID": "req-2"})
        malformed = await http.post(
            "/things",
            content=b"{",
            headers={"X-Request-ID": "req-3", "Content-Type": "application/json"},
        )
    body = refused.json()
    assert refused.status_code == 422
    assert refused.headers["content-type"] == "application/problem+json"
    assert body["type"] == "https://lifeline.invalid/problems/invalid_input"
    assert (body["status"], body["code"], body["error"]) == (422, "invalid_input", "invalid_input")
    assert body["fields"] == [{"path": "country", "reason": "unknown country code"}]
    assert body["request_id"] == refused.headers["x-request-id"]
    assert "Skoryakin" not in refused.text
    assert missing.json()["request_id"] == "req-1" == missing.headers["x-request-id"]
    assert (missing.status_code, missing.json()["title"]) == (404, "Not found")
    assert broken.status_code == 500 and broken.json()["request_id"] == "req-2"
    assert broken.headers["x-request-id"] == "req-2" and "Skoryakin" not in broken.text
    assert (malformed.status_code, malformed.json()["code"]) == (400, "malformed_json")
    assert malformed.json()["request_id"] == "req-3"
    # Every line written while a request was handled names that request.
    lines = log_stream.getvalue().splitlines()
    records = [json.loads(line) for line in lines]
    assert [r.get("request_id") for r in records if r["msg"] == "about to refuse"] == ["req-1"]
    assert [r.get("request_id") for r in records if r["msg"] == "unhandled error"] == ["req-2"]
    assert not [line for line in lines if "Skoryakin" in line]
