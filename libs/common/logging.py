"""Logging set-up: plain or JSON lines, carrying ids only (never names, tokens or payloads)."""

from __future__ import annotations

import json
import logging
import sys
import traceback
from datetime import UTC, datetime
from typing import Any

from libs.common.errors import LifelineError
from libs.common.requestid import current_request_id
from libs.common.tracing import TraceIdFilter

# Only these `extra=` keys ever reach a log line: ids and measurements, nothing a person wrote.
SAFE_FIELDS = frozenset(
    {
        "service",
        "event_id",
        "event_type",
        "report_id",
        "partner_id",
        "client_id",
        "key_id",
        "alert_id",
        "delivery_id",
        "entry_id",
        "subject",
        "stream",
        "consumer",
        "status",
        "method",
        "route",
        "duration_ms",
        "count",
        "attempt",
        "reason",
        "url",
        "port",
        "version",
        "changed",
        "dependency",
        "request_id",
        "trace_id",
    }
)
_STANDARD = frozenset(logging.makeLogRecord({}).__dict__) | {"message", "asctime"}


def safe_extras(record: logging.LogRecord) -> dict[str, Any]:
    """The allow-listed extra fields of a record; anything else is dropped."""
    return {k: v for k, v in record.__dict__.items() if k in SAFE_FIELDS and k not in _STANDARD}


# An exception's message may quote data: a database's DETAIL line names the duplicate key, a
# validation error its input. Only these types' messages (written by us, or by the OS about a
# socket or file) are logged; of every other exception, its type and where it was raised.
_TELLING: tuple[type[BaseException], ...] = (LifelineError, OSError)


def _chain(exc: BaseException) -> list[BaseException]:
    """The exception and those it was raised from or during, oldest first."""
    chain: list[BaseException] = []
    current: BaseException | None = exc
    while current is not None and all(current is not seen for seen in chain):
        chain.append(current)
        context = None if current.__suppress_context__ else current.__context__
        current = current.__cause__ or context
    return chain[::-1]


def safe_exception_text(exc: BaseException) -> str:
    """A traceback (frames and types) with every untrusted exception message withheld."""
    lines: list[str] = []
    for i, item in enumerate(_chain(exc)):
        if i:
            lines.append("\nwhich led to:\n")
        lines.append("Traceback (most recent call last):\n")
        lines.extend(traceback.format_tb(item.__traceback__))
        name = f"{type(item).__module__}.{type(item).__qualname__}"
        said = str(item) if isinstance(item, _TELLING) else "(message withheld)"
        lines.append(f"{name}: {said}\n")
    return "".join(lines).rstrip("\n")


class RequestIdFilter(logging.Filter):
    """Stamp every record emitted while a request is handled with that request's id."""

    def filter(self, record: logging.LogRecord) -> bool:
        """Add `request_id` (unless the caller gave one); never drops a record."""
        if getattr(record, "request_id", None) is None:
            rid = current_request_id()
            if rid is not None:
                record.request_id = rid
        return True


class _SafeExceptions(logging.Formatter):
    """A formatter whose tracebacks carry no exception message that could quote data."""

    def formatException(self, ei: Any) -> str:
        """The record's exception, through `safe_exception_text`."""
        exc = ei[1]
        return safe_exception_text(exc) if exc is not None else ""


class JsonFormatter(_SafeExceptions):
    """One JSON object per line with time, level, logger, message and safe extras."""

    def format(self, record: logging.LogRecord) -> str:
        """Render the record as a JSON line."""
        line: dict[str, Any] = {
            "ts": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname.lower(),
            "logger": record.name,
            "msg": record.getMessage(),
            **safe_extras(record),
        }
        if record.exc_info:
            line["exc"] = self.formatException(record.exc_info)
        return json.dumps(line, default=str, ensure_ascii=False)


class PlainFormatter(_SafeExceptions):
    """Human-readable lines with the safe extras appended as key=value."""

    def format(self, record: logging.LogRecord) -> str:
        """Render the record as one readable line."""
        base = super().format(record)
        extras = " ".join(f"{k}={v}" for k, v in safe_extras(record).items())
        return f"{base} {extras}" if extras else base


def configure_logging(*, json_logs: bool, level: str = "INFO", service: str = "") -> None:
    """Install one stderr handler on the root logger; quiet chatty libraries."""
    handler = logging.StreamHandler(sys.stderr)
    # On the handler, not a logger: it then sees records of every logger that propagates here.
    handler.addFilter(RequestIdFilter())
    handler.addFilter(TraceIdFilter())
    if json_logs:
        handler.setFormatter(JsonFormatter())
    else:
        handler.setFormatter(
            PlainFormatter(f"%(asctime)s %(levelname)s {service or '%(name)s'}: %(message)s")
        )
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level.upper())
    quiet_libraries()


# Loggers held at WARNING whatever the level: chatty, and aiosqlite's DEBUG lines quote every
# statement's parameters (identity tokens, sealed reports).
QUIET = ("nats", "aiosqlite", "httpx", "httpcore", "alembic")


def quiet_libraries() -> None:
    """Hold the `QUIET` loggers at WARNING and switch uvicorn's access log off."""
    # uvicorn's access log prints raw paths and query strings; we log routes ourselves.
    logging.getLogger("uvicorn.access").disabled = True
    for noisy in QUIET:
        logging.getLogger(noisy).setLevel(logging.WARNING)
