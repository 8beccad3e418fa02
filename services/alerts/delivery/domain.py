"""Pure rules of delivery: job keys, retries, what one send carries and how its outcome counts.

No I/O here: job creation, the worker and the channels call these with plain values.
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from dataclasses import dataclass, field, fields, replace
from datetime import datetime
from typing import Any, Final, Literal

from services.alerts.alerts.domain import DETAILS, EVERY_DETAIL, redacted

_DELIVERY_NAMESPACE: Final = uuid.UUID("6f1c2d0e-8a4b-5c3d-9e7f-1a2b3c4d5e6f")
ACK_NOTICE_STEP: Final = 1_000  # ack notices get their own key space, one per contact
WITHDRAWAL_STEP: Final = 1_001  # so do withdrawal notices
UPDATE_STEP: Final = 1_002  # and the notice that released details reached the alert
# Notices tell what became of an alert; unlike pages they go out whatever its status.
# A `contact_warning` is about a contact or a lawyer, not an alert (`delivery/health`).
NOTICE_KINDS: Final = (
    "ack_notice",
    "withdrawal",
    "update",
    "followup",
    "resolve_reminder",
    "contact_warning",
)
PAGE_KINDS: Final = ("alert", "escalation")
LAWYER_ROLES: Final = ("primary", "secondary")  # the lawyer's own channels (not backups)
# The optional contact fields a channel may accept (`Channel.accepts`), as the API names them.
SECRET: Final = "secret"  # noqa: S105 (the name of a field, not a secret)
PGP_KEY: Final = "pgp_public_key"


def delivery_id(alert_id: str, step: int, channel: str, contact_id: str, round_: int = 0) -> str:
    """The delivery key (alert, re-open round, step, channel, endpoint); also the webhook-id."""
    key = f"{alert_id}:{f'r{round_}:' if round_ else ''}{step}:{channel}:{contact_id}"
    return str(uuid.uuid5(_DELIVERY_NAMESPACE, key))


# `failed`: refused for good (an SMTP 5xx to the message); `gone`: the endpoint is gone too.
Outcome = Literal["delivered", "retry", "failed", "gone"]


@dataclass(frozen=True)
class SendResult:
    """What one attempt achieved."""

    outcome: Outcome
    http_status: int | None = None
    error: str | None = None
    retry_after: float | None = None


@dataclass(frozen=True)
class ContactSpec:
    """One contact a profile asks for, before it is stored (what a channel's `check` sees)."""

    role: str
    channel: str
    address: str
    name: str | None = None
    secret: str | None = field(default=None, repr=False)
    rotate: bool = False
    pgp_key: str | None = None
    # A kept contact saved without a key keeps the one it had (a form that cannot show the key
    # must not silently downgrade mail to plaintext); this says "drop it" explicitly.
    drop_pgp_key: bool = False


# --- what one send carries ---------------------------------------------------------------


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
    ack_url: str  # "" where no acting link may travel
    alert_url: str  # the alert in the API: sign in, then acknowledge
    kind: str  # alert | escalation | ack_notice | withdrawal
    step: int
    role: str  # the recipient's role: primary/secondary (the lawyer), backup, duty
    acked_by: str | None = None
    acked_at: datetime | None = None
    # Details the recipient's organisation may not read are blank and `restricted` is set:
    # a partner holds a report about the person, and `release` says where asking for it stands.
    restricted: bool = False
    release: str | None = None
    language: str = "en"  # of the alert's lawyer: what an email to anyone about it is written in
    console: bool = False  # `alert_url` opens the web console (which signs the lawyer in)
    case_status: str = ""  # the latest follow-up's status, where the lawyer may see it
    # A contact warning: what is wrong (health problem) and with what (a channel kind, or the
    # unreachable lawyer's client id); neither names an address, so every channel carries them.
    warning: str = ""
    about: str = ""


def without_details(view: AlertView) -> AlertView:
    """The view minus what a channel that is not end-to-end protected may not carry."""
    return replace(view, label="", decision="", reason="", agreed="", incident_type="",
                   legal_basis="", country="", facility_kind="", occurred_at="",
                   case_status="")  # fmt: skip


@dataclass(frozen=True, kw_only=True)
class SendContext:
    """Everything one attempt of one delivery needs: the job, its contact, its alert."""

    delivery_id: str
    kind: str
    step: int
    status: str
    attempts: int
    channel: str
    contact_id: str
    # The contact's columns are None when it was removed after the job was created.
    role: str | None
    address: str | None
    secret: bytes | None = field(repr=False)  # sealed (see `delivery.secrets.SecretBox`)
    pgp_key: str | None = field(repr=False)
    disabled_at: datetime | None
    alert_id: str
    alert_status: str
    lawyer_id: str
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
    acked_by: str | None
    acked_at: datetime | None
    disclosed: str
    release: str | None
    label: str
    language: str  # the alert's lawyer's
    case_status: str | None = None  # the latest follow-up's status as the lawyer may see it
    trace_context: str | None = None  # the trace that made the job (a hint, never trusted)


# Which column of which row each field of a send context comes from. The repository selects
# exactly these columns, so a job loaded from the database and a first page handed over by
# the matcher are made the same way, by `send_context`.
FROM_DELIVERY: Final = {
    "delivery_id": "id",
    "kind": "kind",
    "step": "step",
    "status": "status",
    "attempts": "attempts",
    "channel": "channel",
    "contact_id": "contact_id",
    "trace_context": "trace_context",
}
FROM_CONTACT: Final = {f: f for f in ("role", "address", "secret", "pgp_key", "disabled_at")}
FROM_ALERT: Final = {
    "alert_id": "id",
    "alert_status": "status",
    **{f: f for f in ("lawyer_id", "priority", "decision", "reason", "agreed", "incident_type",
                      "legal_basis", "country", "facility_kind", "occurred_at", "report_id",
                      "report_count", "acked_by", "acked_at", "disclosed", "release",
                      "case_status")},
}  # fmt: skip


def send_context(
    delivery: Mapping[str, Any],
    alert: Mapping[str, Any],
    contact: Mapping[str, Any] | None,
    label: str,
    language: str | None,
) -> SendContext:
    """The one way a send context is made: a job row, its alert row, its contact row (or None),
    the entry's label and the lawyer's language."""
    values: dict[str, Any] = {
        f: delivery.get(c) if f == "trace_context" else delivery[c]
        for f, c in FROM_DELIVERY.items()
    }
    values |= {f: alert.get(c) if f == "case_status" else alert[c] for f, c in FROM_ALERT.items()}
    values |= {f: None if contact is None else contact[c] for f, c in FROM_CONTACT.items()}
    return SendContext(label=label, language=language or "en", **values)


def context_fields() -> frozenset[str]:
    """The fields of a send context (the mappings above must cover them all)."""
    return frozenset(f.name for f in fields(SendContext))


def alert_view(
    ctx: SendContext, *, report_url: str, ack_url: str, alert_url: str, console: bool
) -> AlertView:
    """The alert as this delivery presents it (before any channel-specific trimming): never a
    detail the recipient's organisation may not read."""
    shown = redacted(
        {f: getattr(ctx, f) for f in ("priority", "decision", *DETAILS)}, ctx.disclosed
    )
    warned = ctx.kind == "contact_warning"
    return AlertView(
        alert_id=ctx.alert_id,
        label=ctx.label,
        priority=shown["priority"],
        decision=ctx.decision,
        reason=ctx.reason,
        agreed=ctx.agreed,
        incident_type=shown["incident_type"],
        legal_basis=shown["legal_basis"],
        country=shown["country"],
        facility_kind=shown["facility_kind"],
        occurred_at=shown["occurred_at"],
        report_id=ctx.report_id,
        report_count=ctx.report_count,
        report_url=report_url,
        ack_url=ack_url,
        alert_url=alert_url,
        kind=ctx.kind,
        step=ctx.step,
        role=ctx.role or "",
        acked_by=ctx.acked_by,
        acked_at=ctx.acked_at,
        restricted=ctx.disclosed != EVERY_DETAIL,
        release=ctx.release,
        language=ctx.language,
        console=console,
        case_status=ctx.case_status or "",
        # A warning's facts stand in the alert's fields (`health.repository.load`).
        warning=ctx.reason if warned else "",
        about=ctx.decision if warned else "",
    )


@dataclass(frozen=True)
class Outgoing:
    """One message to one endpoint, as a channel's `send` receives it."""

    delivery_id: str  # constant across retries: receivers deduplicate on it
    address: str
    secret: str | None = field(repr=False)  # opened for this send only
    pgp_key: str | None = field(repr=False)
    view: AlertView


# --- outcomes ----------------------------------------------------------------------------


def skip_reason(ctx: SendContext) -> str | None:
    """Why a claimed delivery must not go out (cancelled instead of sent)."""
    if ctx.kind not in NOTICE_KINDS and ctx.alert_status != "open":
        return f"skip:alert_{ctx.alert_status}"
    if ctx.kind == "resolve_reminder" and ctx.alert_status != "acknowledged":
        # Resolved (or re-opened: escalation pages instead) before the reminder went out.
        return f"skip:alert_{ctx.alert_status}"
    if ctx.address is None:
        return "skip:contact_removed"
    if ctx.disabled_at is not None:
        return "skip:contact_disabled"
    return None


def outcome(result: SendResult, final: str | None) -> tuple[str, str]:
    """(delivery status, attempt outcome) after an attempt."""
    if result.outcome == "delivered":
        return "delivered", "delivered"
    if final is None:
        return "pending", "retry"
    if final.startswith("skip:"):
        return "cancelled", "cancelled"
    return "failed", "gone" if result.outcome == "gone" else "failed"
