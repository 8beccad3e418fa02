"""Webhook delivery per the Standard Webhooks spec: signed, no redirects, honest outcomes."""

from __future__ import annotations

import asyncio
import base64
import hashlib
import hmac
import ipaddress
import json
import logging
import secrets
import socket
from collections.abc import Awaitable, Callable
from datetime import datetime
from typing import Any, Final
from urllib.parse import urlsplit, urlunsplit

import httpx

from libs.common.errors import InvalidInput
from libs.common.http import make_client
from services.alerts.delivery.domain import (
    SECRET,
    AlertView,
    ContactSpec,
    Outgoing,
    SendResult,
    parse_retry_after,
)
from services.alerts.delivery.messages import text
from services.alerts.delivery.targets import host_problem, is_public
from services.alerts.settings import AlertsSettings

log = logging.getLogger(__name__)
KIND: Final = "webhook"
Resolver = Callable[[str, int], Awaitable[list[str]]]
UNREACHABLE: Final = "target_unreachable"
MAX_ADDRESSES = 4  # a name's addresses tried in one attempt, so that a dead one costs little

_TYPES = {
    "alert": "alert.created",
    "escalation": "alert.escalated",
    "ack_notice": "alert.acknowledged",
    "withdrawal": "alert.withdrawn",
    "update": "alert.updated",
    "followup": "alert.updated",  # a follow-up of the report: `data.update` says what changed
    "test": "alert.test",
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


def payload_bytes(view: AlertView, now: datetime) -> bytes:
    """The exact bytes that are signed and sent."""
    return json.dumps(payload(view, now), ensure_ascii=False, separators=(",", ":")).encode()


def check_url(url: str, allow_private: bool) -> None:
    """Refuse webhook targets that would let a client make this server call inside its network."""
    parts = urlsplit(url)
    if allow_private:
        return
    if parts.scheme != "https":
        raise InvalidInput("webhook URLs must use https", fields=[{"path": "webhook.url"}])
    problem = host_problem(parts.hostname or "")
    if problem is not None:
        raise InvalidInput(problem, fields=[{"path": "webhook.url"}])


async def resolve(host: str, port: int) -> list[str]:
    """Every address `host` resolves to; empty when the lookup fails."""
    try:
        infos = await asyncio.get_running_loop().getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except OSError:
        return []
    return [str(info[4][0]) for info in infos]


def pinned(url: str, address: str) -> tuple[str, dict[str, str], dict[str, Any]]:
    """The same request sent to `address`: the Host header and the TLS name stay the URL's."""
    parts = urlsplit(url)
    ip = ipaddress.ip_address(address)
    literal = f"[{ip}]" if ip.version == 6 else str(ip)
    userinfo, at, host_header = parts.netloc.rpartition("@")
    # Credentials in the URL (basic auth) travel on as httpx would have sent them.
    netloc = userinfo + at + (literal if parts.port is None else f"{literal}:{parts.port}")
    # httpcore checks the server's certificate against `sni_hostname`, not against the IP. Its
    # pool keys connections by IP only: `close` keeps another name's TLS session (same CDN
    # address, say) from carrying this request.
    extensions = {"sni_hostname": parts.hostname or ""}
    headers = {"host": host_header, "connection": "close"}
    return urlunsplit(parts._replace(netloc=netloc)), headers, extensions


class WebhookSender:
    """Posts signed JSON; every non-2xx is a failure (redirects are never followed)."""

    def __init__(
        self, http: httpx.AsyncClient, *, allow_private: bool, resolver: Resolver = resolve
    ) -> None:
        self.http = http
        self.allow_private = allow_private
        self.resolve = resolver

    async def send(
        self, url: str, secret: str, msg_id: str, body: bytes, now: datetime
    ) -> SendResult:
        """One attempt; the timestamp (and so the signature) is fresh, the id is constant."""
        parts = urlsplit(url)
        requests = [(url, dict[str, str](), dict[str, Any]())]
        if not self.allow_private:
            if parts.scheme != "https":
                return _unreachable(msg_id, "not_https")
            # getaddrinfo repeats an address once per protocol; the order is its preference.
            addresses = list(
                dict.fromkeys(await self.resolve(parts.hostname or "", parts.port or 443))
            )
            if not addresses:
                return _unreachable(msg_id, "dns_failure")
            if not all(is_public(ipaddress.ip_address(a)) for a in addresses):
                return _unreachable(msg_id, "private_target")
            # Connect to the addresses just checked: a second lookup by the HTTP client could be
            # answered by a rebinding DNS server with an inside address.
            requests = [pinned(url, a) for a in addresses[:MAX_ADDRESSES]]
        timestamp = int(now.timestamp())
        signed = {
            "content-type": "application/json",
            "webhook-id": msg_id,
            "webhook-timestamp": str(timestamp),
            "webhook-signature": sign(secret, msg_id, timestamp, body),
        }
        error = "no_address"
        for target, headers, extensions in requests:
            try:
                resp = await self.http.post(
                    target, content=body, headers=headers | signed, extensions=extensions
                )
            except (httpx.ConnectError, httpx.ConnectTimeout) as exc:
                # Nothing reached that address: the next one (an IPv4 beside a dead IPv6, say)
                # cannot receive the page twice.
                error = type(exc).__name__
                continue
            except httpx.HTTPError as exc:
                return SendResult("retry", error=type(exc).__name__[:64])
            return _outcome(resp, now)
        return SendResult("retry", error=error)


def _unreachable(msg_id: str, reason: str) -> SendResult:
    """One answer for every target refused before connecting, whatever the reason.

    The lawyer sees the attempt's error: telling a name with no address from one with an inside
    address would let them probe this network's DNS. The operator's log keeps the reason (never
    the host).
    """
    log.warning("webhook target unreachable", extra={"delivery_id": msg_id, "reason": reason})
    return SendResult("retry", error=UNREACHABLE)


def _outcome(resp: httpx.Response, now: datetime) -> SendResult:
    """A response's verdict: 2xx delivered, 410 gone, anything else retried."""
    status = resp.status_code
    if 200 <= status < 300:
        return SendResult("delivered", http_status=status)
    if status == 410:
        return SendResult("gone", http_status=status, error="gone")
    error = "redirect_not_followed" if 300 <= status < 400 else f"http_{status}"
    retry_after = parse_retry_after(resp.headers.get("retry-after"), now)
    return SendResult("retry", http_status=status, error=error, retry_after=retry_after)


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
        await self.sender.http.aclose()


def connect_s(settings: AlertsSettings) -> float:
    """How long a webhook's connect may take, per address."""
    return min(2.0, settings.webhook_timeout_s)


def from_settings(settings: AlertsSettings) -> WebhookChannel:
    """The webhook channel with its own HTTP client."""
    connect = connect_s(settings)
    http = make_client(connect=connect, read=settings.webhook_timeout_s)
    sender = WebhookSender(http, allow_private=settings.webhook_allow_private)
    # A webhook may fail to connect to all but the last of its name's addresses first.
    return WebhookChannel(
        sender, timeout_s=(MAX_ADDRESSES - 1) * connect + settings.webhook_timeout_s
    )
