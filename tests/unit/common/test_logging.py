"""Logged exceptions keep their types and frames but no message that could quote data."""

from __future__ import annotations

import json
import logging

import pytest
from pydantic import BaseModel, ValidationError

from libs.common.contracts import ReportStored, read_event
from libs.common.errors import Conflict
from libs.common.events import PermanentError, new_event
from libs.common.logging import JsonFormatter, PlainFormatter, safe_exception_text

CANARY = "tok-canary-9d2e"


class _Token(BaseModel):
    value: int


def _raised(make: type[BaseException] | None = None) -> BaseException:
    """A ValidationError quoting the canary, re-raised as `make` (if any), as it was caught."""
    try:
        try:
            _Token.model_validate({"value": CANARY})
        except ValidationError as exc:
            if make is None:
                raise
            raise make("while storing the report") from exc
    except BaseException as caught:
        return caught
    raise AssertionError("nothing raised")


def _formatted(exc: BaseException) -> list[str]:
    record = logging.LogRecord(
        "t", logging.ERROR, __file__, 1, "failed", (), (type(exc), exc, None)
    )
    return [JsonFormatter().format(record), PlainFormatter("%(message)s").format(record)]


def test_a_validation_error_logs_its_type_and_frames_not_its_input() -> None:
    exc = _raised()
    assert CANARY in str(exc)  # what a plain traceback would have written
    text = safe_exception_text(exc)
    assert CANARY not in text and "pydantic_core._pydantic_core.ValidationError" in text
    assert "(message withheld)" in text and "_raised" in text  # the frame it came from
    for line in _formatted(exc):
        assert CANARY not in line and "ValidationError" in line
    assert "exc" in json.loads(_formatted(exc)[0])


def test_the_chain_is_kept_and_our_own_messages_are_told() -> None:
    exc = _raised(Conflict)
    text = safe_exception_text(exc)
    assert text.index("ValidationError") < text.index("which led to:") < text.index("Conflict")
    assert "libs.common.errors.Conflict: while storing the report" in text
    assert CANARY not in text
    refused = ConnectionRefusedError(111, "Connect call failed ('127.0.0.1', 4222)")
    assert "Connect call failed" in safe_exception_text(refused)


def test_a_context_cycle_ends() -> None:
    first, second = ValueError(CANARY), KeyError(CANARY)
    first.__context__, second.__context__ = second, first
    text = safe_exception_text(first)
    assert text.count("Traceback") == 2 and CANARY not in text


def test_a_poison_event_is_logged_without_its_data() -> None:
    event = new_event(ReportStored.SUBJECT, "sharing", {"report_id": CANARY})
    with pytest.raises(PermanentError) as caught:
        read_event(event, ReportStored)
    assert CANARY in str(caught.value.__cause__)
    assert all(CANARY not in line for line in _formatted(caught.value))
