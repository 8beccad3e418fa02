"""Logs as production writes them: the library levels every service sets, every record formatted."""

from __future__ import annotations

import json
import logging
from collections.abc import Iterator

import pytest

from libs.common.logging import QUIET, JsonFormatter, PlainFormatter, quiet_libraries

__all__ = ["service_logging", "written_logs"]


@pytest.fixture
def service_logging() -> Iterator[None]:
    """The library log levels every service sets (`configure_logging`), undone afterwards."""
    loggers = [logging.getLogger(name) for name in (*QUIET, "uvicorn.access")]
    saved = [(lg.level, lg.disabled) for lg in loggers]
    quiet_libraries()
    yield
    for lg, (level, disabled) in zip(loggers, saved, strict=True):
        lg.setLevel(level)
        lg.disabled = disabled


def written_logs(records: list[logging.LogRecord]) -> str:
    """Every record as both formatters write it, plus its raw message and arguments."""
    json_lines, plain = JsonFormatter(), PlainFormatter("%(message)s")
    return "\n".join(
        f"{json_lines.format(r)}\n{plain.format(r)}\n{r.msg!s} {json.dumps(r.args, default=str)}"
        for r in records
    )
