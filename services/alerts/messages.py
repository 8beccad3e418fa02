"""What a delivery says: the webhook payload and the email text (pure; never a name)."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime
from typing import Any

EMAIL_SUBJECT = "Lifeline alert — action needed"
EMAIL_SUBJECT_ACK = "Lifeline alert — acknowledged"
EMAIL_SUBJECT_WITHDRAWN = "Lifeline alert — withdrawn"

_TYPES = {
    "alert": "alert.created",
    "escalation": "alert.escalated",
    "ack_notice": "alert.acknowledged",
    "withdrawal": "alert.withdrawn",
}


@dataclass(frozen=True)
class AlertView:
    """One alert as a delivery presents it to one contact."""

    alert_id: str
    label: str
    priority: str
    decision: str
    reason: str
    agreed: str
    incident_type: str
    legal_basis: str
    country: str
    facility_kind: str
    occurred_at: str
    report_id: str
    report_count: int
    report_url: str
    ack_url: str
    kind: str  # alert | escalation | ack_notice | withdrawal
    step: int
    role: str  # the recipient's role: primary/secondary (the lawyer), backup, duty
    acked_by: str | None = None
    acked_at: datetime | None = None


def payload(view: AlertView, now: datetime) -> dict[str, Any]:
    """The Standard Webhooks body: `{type, timestamp, data}`."""
    data: dict[str, Any] = {
        "alert_id": view.alert_id,
        "label": view.label,
        "priority": view.priority,
        "match": {
            "strength": view.decision,
            "reason": view.reason,
            "agreed": [k for k in view.agreed.split(",") if k],
        },
        "incident_type": view.incident_type,
        "legal_basis": view.legal_basis,
        "country": view.country,
        "facility_kind": view.facility_kind,
        "occurred_at": view.occurred_at,
        "report_id": view.report_id,
        "report_url": view.report_url,
        "report_count": view.report_count,
        "ack_url": view.ack_url,
        "step": view.step,
        "recipient_role": "lawyer" if view.role in {"primary", "secondary"} else view.role,
        "acknowledged": None,
    }
    if view.acked_at is not None:
        data["acknowledged"] = {"by": view.acked_by, "at": view.acked_at.isoformat()}
    if view.kind == "withdrawal":
        # The report is gone: nothing to open, nothing to acknowledge.
        data["report_url"] = data["ack_url"] = None
    return {"type": _TYPES[view.kind], "timestamp": now.isoformat(), "data": data}


def payload_bytes(view: AlertView, now: datetime) -> bytes:
    """The exact bytes that are signed and sent."""
    return json.dumps(payload(view, now), ensure_ascii=False, separators=(",", ":")).encode()


def email_subject(view: AlertView) -> str:
    """Generic on purpose: a subject line is visible to every mail server on the way."""
    return {"ack_notice": EMAIL_SUBJECT_ACK, "withdrawal": EMAIL_SUBJECT_WITHDRAWN}.get(
        view.kind, EMAIL_SUBJECT
    )


def email_text(view: AlertView, *, encrypted: bool) -> str:
    """The body: the minimum plus links; details (label, place, basis) only when encrypted."""
    if view.kind == "ack_notice":
        lines = [
            f"Alert {view.alert_id} has been acknowledged by {view.acked_by or 'a colleague'}"
            + (f" at {view.acked_at:%Y-%m-%d %H:%M} UTC." if view.acked_at else "."),
            "Nobody else needs to act on it.",
        ]
        return "\n".join(lines) + "\n"
    if view.kind == "withdrawal":
        return (
            f"Alert {view.alert_id} has been withdrawn: the report it came from was erased.\n"
            "No action is needed on it any more; its details are gone.\n"
        )
    opener = (
        "A partner reported an incident that may concern a person you watch."
        if view.step == 0
        else "Reminder: this alert is not acknowledged yet."
    )
    lines = [opener, "", f"Alert:    {view.alert_id}", f"Priority: {view.priority}"]
    if encrypted:
        lines += [
            f"Entry:    {view.label}",
            f"Match:    {view.decision} ({view.reason})",
            f"Incident: {view.incident_type}, legal basis {view.legal_basis}",
            f"Where:    {view.country}, {view.facility_kind}; occurred {view.occurred_at}",
        ]
    lines += [
        "",
        f"Acknowledge (stops the escalation): {view.ack_url}",
        f"Report (sign-in required): {view.report_url}",
    ]
    return "\n".join(lines) + "\n"
