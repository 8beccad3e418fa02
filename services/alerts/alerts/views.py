"""The API view of a stored alert: never a detail the lawyer's organisation may not read."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime

from sqlalchemy import RowMapping

from services.alerts.alerts.domain import DETAILS, EVERY_DETAIL, redacted
from services.alerts.alerts.schemas import AckOut, AlertOut, MatchOut, ResolutionOut
from services.alerts.delivery.secrets import SecretBox

ReportLink = Callable[[str, str], str]  # (alert id, report id) → URL (settings.report_link)


def aware(value: datetime) -> datetime:
    """SQLite hands back naive datetimes; every stored time is UTC."""
    return value if value.tzinfo is not None else value.replace(tzinfo=UTC)


def alert_out(row: RowMapping, report_link: ReportLink, box: SecretBox) -> AlertOut:
    """The API view of an alert row: never a detail the lawyer's organisation may not read."""
    acked = resolution = None
    if row["acked_at"] is not None:
        acked = AckOut(
            at=aware(row["acked_at"]), by=row["acked_by"] or "", via=row["ack_via"] or ""
        )
    if row["resolved_at"] is not None and row["resolution"] is not None:
        note = row["resolution_note"]
        resolution = ResolutionOut(
            outcome=row["resolution"],
            note=box.open_note(row["id"], note) if note is not None else None,
            at=aware(row["resolved_at"]),
            by=row["resolved_by"] or "",
        )
    restricted = row["disclosed"] != EVERY_DETAIL
    shown = redacted(dict(row), row["disclosed"])
    return AlertOut(
        id=row["id"],
        status=row["status"],
        priority=shown["priority"],
        label=row["label"],
        entry_id=row["entry_id"],
        match=MatchOut(
            strength=row["decision"],
            reason=row["reason"],
            agreed=[k for k in row["agreed"].split(",") if k],
        ),
        **{name: shown[name] or None for name in DETAILS},
        report_id=row["report_id"],
        report_url=(
            report_link(row["id"], row["report_id"]) if row["report_id"] and not restricted else ""
        ),
        report_count=row["report_count"],
        restricted=restricted,
        release=row["release"],
        created_at=aware(row["created_at"]),
        updated_at=aware(row["updated_at"]),
        acknowledged=acked,
        resolution=resolution,
        case_status=row["case_status"],
    )
