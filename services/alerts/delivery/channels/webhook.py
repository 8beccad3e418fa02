"""Webhook delivery per the Standard Webhooks spec: signed, no redirects, honest outcomes."""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import json
import secrets
from datetime import datetime
from typing import Any, Final
from urllib.parse import urlsplit

import httpx

from libs.common import tracing
from libs.common.errors import InvalidInput
from libs.common.http import make_client
from services.alerts.delivery.domain import (
    SECRET,
    AlertView,
    ContactSpec,
    Outgoing,
    SendResult,
)
from services.alerts.delivery.messages import text
from services.alerts.delivery.messages.mail import warning_text
from services.alerts.delivery.outbound import (
    MAX_ADDRESSES,
    UNREACHABLE,
    Poster,
    Resolver,
    pinned,
    resolve,
    verdict,
)
from services.alerts.delivery.pools import PinnedPools
from services.alerts.delivery.targets import host_problem
from services.alerts.settings import AlertsSettings

KIND: Final = "webhook"
# Re-exported: tests and older callers import them from here.
__all__ = ["MAX_ADDRESSES", "UNREACHABLE", "pinned", "resolve"]

_TYPES = {
    "alert": "alert.created",
    "escalation": "alert.escalated",
    "ack_notice": "alert.acknowledged",
    "withdrawal": "alert.withdrawn",
    "update": "alert.updated",
    "followup": "alert.updated",  # a follow-up of the report: `data.update` says what changed
    "resolve_reminder": "alert.resolve_reminder",  # acknowledged long ago, still unresolved
    "test": "alert.test",
    "contact_warning": "contact.warning",
}
_DETAILS = ("incident_type", "legal_basis", "country", "facility_kind", "occurred_at")


def valid_url(value: str) -> str:
    """An http(s) URL with a host, no credentials and no fragment."""
    parts = urlsplit(value)
    if parts.scheme not in {"http", "https"} or not parts.hostname:
        raise ValueError("an http(s) URL with a host is required")
    if parts.username or parts.password or parts.fragment:
        raise ValueError("no credentials or fragment in the URL")
    return value


def valid_secret(value: str) -> str:
    """A Standard Webhooks secret: `whsec_` and 24 to 64 bytes of base64."""
    if not value.startswith("whsec_"):
        raise ValueError("a Standard Webhooks secret starts with whsec_")
    try:
        raw = base64.b64decode(value.removeprefix("whsec_"), validate=True)
    except (binascii.Error, ValueError):
        raise ValueError("the secret after whsec_ must be base64") from None
    if not 24 <= len(raw) <= 64:
        raise ValueError("the secret must be 24 to 64 bytes")
    return value


def generate_secret() -> str:
    """A fresh `whsec_` secret (32 random bytes), shown to the lawyer once."""
    return "whsec_" + base64.b64encode(secrets.token_bytes(32)).decode()


def sign(secret: str, msg_id: str, timestamp: int, body: bytes) -> str:
    """The `webhook-signature` header value: `v1,` + base64 HMAC-SHA256 of id.timestamp.body."""
    key = base64.b64decode(secret.removeprefix("whsec_"))
    mac = hmac.new(key, f"{msg_id}.{timestamp}.".encode() + body, hashlib.sha256).digest()
    return "v1," + base64.b64encode(mac).decode()


def payload(view: AlertView, now: datetime) -> dict[str, Any]:
    """The Standard Webhooks body: `{type, timestamp, data}`."""
    if view.kind == "test":
        # A test is about no alert and links nowhere: it only proves the channel works.
        data_ = {"test": True, "message": text(view.language, "test.message")}
        return {"type": _TYPES["test"], "timestamp": now.isoformat(), "data": data_}
    if view.kind == "contact_warning":
        return {"type": _TYPES[view.kind], "timestamp": now.isoformat(), "data": _warning(view)}
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
        "ack_url": view.ack_url or None,
        "alert_url": view.alert_url,
        "step": view.step,
        "recipient_role": "lawyer" if view.role in {"primary", "secondary"} else view.role,
        "acknowledged": None,
        "restricted": view.restricted,
        "release": view.release,
    }
    if view.restricted:
        # A partner holds a report about the person that this organisation may not read (yet):
        # what it withholds is absent, not empty.
        data |= {name: data[name] or None for name in _DETAILS}
        data["report_url"] = None
    if view.acked_at is not None:
        data["acknowledged"] = {"by": view.acked_by, "at": view.acked_at.isoformat()}
    if view.kind == "followup":
        # A follow-up of the report (`followups/`): its status, where the lawyer may read it.
        data["update"] = {"kind": "follow_up", "status": view.case_status or None}
    if view.kind == "withdrawal":
        # The report is gone: nothing to open, nothing to acknowledge.
        data["report_url"] = data["ack_url"] = data["alert_url"] = None
    return {"type": _TYPES[view.kind], "timestamp": now.isoformat(), "data": data}


def _warning(view: AlertView) -> dict[str, Any]:
    """A contact warning's data: the problem, and the contact (name, channel) or the lawyer."""
    data: dict[str, Any] = {"problem": view.warning, "message": warning_text(view)}
    if view.warning == "unreachable":
        data["lawyer"] = view.about
    else:
        data["contact"] = {"channel": view.about, "name": view.label or None}
    return data


def payload_bytes(view: AlertView, now: datetime) -> bytes:
    """The exact bytes that are signed and sent."""
    return json.dumps(payload(view, now), ensure_ascii=False, separators=(",", ":")).encode()


def check_url(url: str, allow_private: bool, *, what: str = "webhook") -> None:
    """Refuse lawyer-supplied targets that would let a client make this server call inside its
    network."""
    parts = urlsplit(url)
    if allow_private:
        return
    if parts.scheme != "https":
        raise InvalidInput(f"{what} URLs must use https", fields=[{"path": f"{what}.url"}])
    problem = host_problem(parts.hostname or "")
    if problem is not None:
        raise InvalidInput(problem.replace("webhook", what), fields=[{"path": f"{what}.url"}])


class WebhookSender:
    """Posts signed JSON; every non-2xx is a failure (redirects are never followed)."""

    def __init__(
        self,
        http: httpx.AsyncClient,
        *,
        allow_private: bool,
        resolver: Resolver = resolve,
        pools: PinnedPools | None = None,
    ) -> None:
        self.poster = Poster(http, allow_private=allow_private, resolver=resolver, pools=pools)
        self.allow_private = allow_private

    async def send(
        self, url: str, secret: str, msg_id: str, body: bytes, now: datetime
    ) -> SendResult:
        """One attempt; the timestamp (and so the signature) is fresh, the id is constant."""
        timestamp = int(now.timestamp())
        signed = {
            "content-type": "application/json",
            "webhook-id": msg_id,
            "webhook-timestamp": str(timestamp),
            "webhook-signature": sign(secret, msg_id, timestamp, body),
        }
        # `traceparent` (outside the signature): the receiver's own trace may join this one.
        tracing.inject(signed)
        # A lawyer's own endpoint may be fixed by its owner: every failure but 410 is retried.
        return await self.poster.post(
            url, delivery_id=msg_id, now=now, verdict=verdict, content=body, headers=signed
        )


class WebhookChannel:
    """The lawyer's own HTTPS endpoint: every detail, signed with the contact's secret; no link
    that acts (TLS ends at whatever server answers the URL, not at the lawyer)."""

    kind = KIND
    accepts = frozenset({SECRET})
    carries_details = True
    encrypts_with_pgp_key = False
    carries_action_links = False

    def __init__(self, sender: WebhookSender, *, timeout_s: float) -> None:
        self.sender = sender
        self.timeout_s = timeout_s

    def parse_address(self, address: str) -> str:
        """An http(s) URL with a host, no credentials and no fragment."""
        return valid_url(address)

    def parse_secret(self, secret: str) -> str:
        """A Standard Webhooks secret."""
        return valid_secret(secret)

    def acts_for(self, address: str, secret: str | None) -> bool:
        """Never: a webhook's reader is whoever runs the URL."""
        return False

    def check(self, contact: ContactSpec) -> None:
        """Refuse targets inside this server's network (unless private targets are allowed)."""
        check_url(contact.address, self.sender.allow_private)

    def new_secret(self) -> str | None:
        """A Standard Webhooks `whsec_` secret."""
        return generate_secret()

    async def send(self, message: Outgoing, now: datetime) -> SendResult:
        """POST the signed JSON payload."""
        if message.secret is None:
            return SendResult("retry", error="no_secret")
        body = payload_bytes(message.view, now)
        return await self.sender.send(
            message.address, message.secret, message.delivery_id, body, now
        )

    async def aclose(self) -> None:
        """Close the outbound HTTP client."""
        await self.sender.poster.aclose()


def connect_s(settings: AlertsSettings) -> float:
    """How long a webhook's connect may take, per address."""
    return min(2.0, settings.webhook_timeout_s)


def from_settings(settings: AlertsSettings) -> WebhookChannel:
    """The webhook channel with its own HTTP client."""
    connect = connect_s(settings)
    http = make_client(connect=connect, read=settings.webhook_timeout_s)
    trust = httpx.create_ssl_context()  # one for every pinned pool: loaded once
    pools = PinnedPools(
        lambda: make_client(connect=connect, read=settings.webhook_timeout_s, verify=trust)
    )
    sender = WebhookSender(http, allow_private=settings.webhook_allow_private, pools=pools)
    # A webhook may fail to connect to all but the last of its name's addresses first.
    return WebhookChannel(
        sender, timeout_s=(MAX_ADDRESSES - 1) * connect + settings.webhook_timeout_s
    )
