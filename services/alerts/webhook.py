"""Webhook delivery per the Standard Webhooks spec: signed, no redirects, honest outcomes."""

from __future__ import annotations

import asyncio
import base64
import hashlib
import hmac
import ipaddress
import secrets
import socket
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Literal
from urllib.parse import urlsplit, urlunsplit

import httpx

from libs.common.errors import InvalidInput
from services.alerts.domain import parse_retry_after

Outcome = Literal["delivered", "retry", "gone"]
Resolver = Callable[[str, int], Awaitable[list[str]]]
MAX_ADDRESSES = 4  # a name's addresses tried in one attempt, so that a dead one costs little


def generate_secret() -> str:
    """A fresh `whsec_` secret (32 random bytes), shown to the lawyer once."""
    return "whsec_" + base64.b64encode(secrets.token_bytes(32)).decode()


def sign(secret: str, msg_id: str, timestamp: int, body: bytes) -> str:
    """The `webhook-signature` header value: `v1,` + base64 HMAC-SHA256 of id.timestamp.body."""
    key = base64.b64decode(secret.removeprefix("whsec_"))
    mac = hmac.new(key, f"{msg_id}.{timestamp}.".encode() + body, hashlib.sha256).digest()
    return "v1," + base64.b64encode(mac).decode()


def check_url(url: str, allow_private: bool) -> None:
    """Refuse webhook targets that would let a client make this server call inside its network."""
    parts = urlsplit(url)
    if allow_private:
        return
    if parts.scheme != "https":
        raise InvalidInput("webhook URLs must use https", fields=[{"path": "webhook.url"}])
    host = parts.hostname or ""
    if host == "localhost" or host.endswith((".localhost", ".local", ".internal")):
        raise InvalidInput("webhook URL points at a private host", fields=[{"path": "webhook.url"}])
    try:
        address = ipaddress.ip_address(host)
    except ValueError:
        return  # a name: checked again when it is resolved at delivery time
    if not address.is_global:
        raise InvalidInput(
            "webhook URL points at a private address", fields=[{"path": "webhook.url"}]
        )


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


@dataclass(frozen=True)
class SendResult:
    """What one attempt achieved."""

    outcome: Outcome
    http_status: int | None = None
    error: str | None = None
    retry_after: float | None = None


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
                return SendResult("retry", error="private_target")
            # getaddrinfo repeats an address once per protocol; the order is its preference.
            addresses = list(
                dict.fromkeys(await self.resolve(parts.hostname or "", parts.port or 443))
            )
            if not addresses:
                return SendResult("retry", error="dns_failure")
            if not all(ipaddress.ip_address(a).is_global for a in addresses):
                return SendResult("retry", error="private_target")
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
