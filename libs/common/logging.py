"""Logging set-up: plain or JSON lines, carrying ids only (never names, tokens or payloads)."""

from __future__ import annotations

import json
import logging
import sys
from datetime import UTC, datetime
from typing import Any

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
    }
)
_STANDARD = frozenset(logging.makeLogRecord({}).__dict__) | {"message", "asctime"}


def safe_extras(record: logging.LogRecord) -> dict[str, Any]:
    """The allow-listed extra fields of a record; anything else is dropped."""
    return {k: v for k, v in record.__dict__.items() if k in SAFE_FIELDS and k not in _STANDARD}


class JsonFormatter(logging.Formatter):
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


class PlainFormatter(logging.Formatter):
    """Human-readable lines with the safe extras appended as key=value."""

    def format(self, record: logging.LogRecord) -> str:
        """Render the record as one readable line."""
        base = super().format(record)
        extras = " ".join(f"{k}={v}" for k, v in safe_extras(record).items())
        return f"{base} {extras}" if extras else base


def configure_logging(*, json_logs: bool, level: str = "INFO", service: str = "") -> None:
    """Install one stderr handler on the root logger; quiet chatty libraries."""
    handler = logging.StreamHandler(sys.stderr)
    if json_logs:
        handler.setFormatter(JsonFormatter())
    else:
        handler.setFormatter(
            PlainFormatter(f"%(asctime)s %(levelname)s {service or '%(name)s'}: %(message)s")
        )
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level.upper())
    # uvicorn's access log prints raw paths and query strings; we log routes ourselves.
    logging.getLogger("uvicorn.access").disabled = True
    for noisy in ("nats", "aiosqlite", "httpx", "httpcore", "alembic"):
        logging.getLogger(noisy).setLevel(logging.WARNING)
