"""Outbound HTTP for channels: target checks with DNS pinning, and one verdict per response.

Every HTTP channel posts through `Poster`. A lawyer-supplied target (a webhook, an ntfy server
the operator did not allow-list) is checked: https, public addresses only, connected to the
addresses just checked (`targets.py`). An operator-configured endpoint (signal-cli, the SMS
gateway, the Telegram API base, an allow-listed ntfy server) is trusted as configuration: it is
usually on the operator's own network, and only the operator can change it.
"""

from __future__ import annotations

import asyncio
import ipaddress
import json
import logging
import re
import socket
import ssl
from collections.abc import AsyncIterator, Awaitable, Callable, Container
from contextlib import AbstractContextManager, asynccontextmanager
from datetime import datetime
from pathlib import Path
from typing import Any, Final
from urllib.parse import urlsplit, urlunsplit

import httpx
from opentelemetry.trace import SpanKind

from libs.common import tracing
from libs.common.http import make_client
from services.alerts.delivery.domain import SendContext, SendResult
from services.alerts.delivery.pools import Key, PinnedPools, key_of
from services.alerts.delivery.retries import parse_retry_after
from services.alerts.delivery.targets import is_public

log = logging.getLogger(__name__)
Resolver = Callable[[str, int], Awaitable[list[str]]]
UNREACHABLE: Final = "target_unreachable"
MAX_ADDRESSES = 4  # a name's addresses tried in one attempt, so that a dead one costs little
# Statuses worth another attempt whatever the channel: timeouts, rate limits, server trouble.
TRANSIENT: Final = frozenset({408, 425, 429})
Verdict = Callable[[httpx.Response, datetime], SendResult]


async def resolve(host: str, port: int) -> list[str]:
    """Every address `host` resolves to; empty when the lookup fails."""
    try:
        infos = await asyncio.get_running_loop().getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except OSError:
        return []
    return [str(info[4][0]) for info in infos]


def pinned(
    url: str, address: str, *, own_pool: bool = False
) -> tuple[str, dict[str, str], dict[str, Any]]:
    """The same request sent to `address`: the Host header and the TLS name stay the URL's.

    `own_pool`: sent through the pool of this name and address only (`pools.PinnedPools`), whose
    connections may be kept alive."""
    parts = urlsplit(url)
    ip = ipaddress.ip_address(address)
    literal = f"[{ip}]" if ip.version == 6 else str(ip)
    userinfo, at, host_header = parts.netloc.rpartition("@")
    # Credentials in the URL (basic auth) travel on as httpx would have sent them.
    netloc = userinfo + at + (literal if parts.port is None else f"{literal}:{parts.port}")
    # httpcore checks the server's certificate against `sni_hostname`, not against the IP. Its
    # pool keys connections by IP only: on a shared pool, `close` keeps another name's TLS
    # session (same CDN address, say) from carrying this request.
    extensions = {"sni_hostname": parts.hostname or ""}
    headers = {"host": host_header}
    if not own_pool:
        headers["connection"] = "close"
    return urlunsplit(parts._replace(netloc=netloc)), headers, extensions


def verdict(
    resp: httpx.Response, now: datetime, *, permanent: Container[int] = (), prefix: str = "http"
) -> SendResult:
    """2xx delivered; 410 gone; a status in `permanent` failed for good; anything else retried
    (honouring `Retry-After`)."""
    status = resp.status_code
    if 200 <= status < 300:
        return SendResult("delivered", http_status=status)
    if status == 410:
        return SendResult("gone", http_status=status, error="gone")
    if 300 <= status < 400:
        return SendResult("retry", http_status=status, error="redirect_not_followed")
    error = f"{prefix}_{status}"
    if status in permanent and status not in TRANSIENT:
        return SendResult("failed", http_status=status, error=error)
    retry_after = parse_retry_after(resp.headers.get("retry-after"), now)
    return SendResult("retry", http_status=status, error=error, retry_after=retry_after)


class Poster:
    """Posts to a URL with one client; checks and pins lawyer-supplied targets (through a pool
    of their own per name and address when `pools` is given)."""

    def __init__(
        self,
        http: httpx.AsyncClient,
        *,
        allow_private: bool,
        resolver: Resolver = resolve,
        pools: PinnedPools | None = None,
    ) -> None:
        self.http = http
        self.allow_private = allow_private
        self.resolve = resolver
        self.pools = pools

    async def post(
        self,
        url: str,
        *,
        delivery_id: str,
        now: datetime,
        verdict: Verdict,
        trusted: bool = False,
        content: bytes,
        headers: dict[str, str],
    ) -> SendResult:
        """One attempt; `trusted` (operator configuration) skips the target checks."""
        requests: list[tuple[str, dict[str, str], dict[str, Any], Key | None]]
        requests = [(url, {}, {}, None)]
        if not (trusted or self.allow_private):
            parts = urlsplit(url)
            if parts.scheme != "https":
                return unreachable(delivery_id, "not_https")
            # getaddrinfo repeats an address once per protocol; the order is its preference.
            addresses = list(
                dict.fromkeys(await self.resolve(parts.hostname or "", parts.port or 443))
            )
            if not addresses:
                return unreachable(delivery_id, "dns_failure")
            if not all(is_public(ipaddress.ip_address(a)) for a in addresses):
                return unreachable(delivery_id, "private_target")
            # Connect to the addresses just checked: a second lookup by the HTTP client could be
            # answered by a rebinding DNS server with an inside address.
            own = self.pools is not None
            requests = [
                (*pinned(url, a, own_pool=own), key_of(url, a) if own else None)
                for a in addresses[:MAX_ADDRESSES]
            ]
        error = "no_address"
        for target, pins, extensions, key in requests:
            try:
                async with self._client(key) as http:
                    resp = await http.post(
                        target, content=content, headers=pins | headers, extensions=extensions
                    )
            except (httpx.ConnectError, httpx.ConnectTimeout) as exc:
                # Nothing reached that address: the next one (an IPv4 beside a dead IPv6, say)
                # cannot receive the page twice.
                error = type(exc).__name__
                continue
            except httpx.HTTPError as exc:
                return SendResult("retry", error=type(exc).__name__[:64])
            return verdict(resp, now)
        return SendResult("retry", error=error)

    @asynccontextmanager
    async def _client(self, key: Key | None) -> AsyncIterator[httpx.AsyncClient]:
        if key is None or self.pools is None:
            yield self.http
        else:
            async with self.pools.client(key) as http:
                yield http

    async def aclose(self) -> None:
        """Close the HTTP clients."""
        await self.http.aclose()
        if self.pools is not None:
            await self.pools.aclose()


def unreachable(delivery_id: str, reason: str) -> SendResult:
    """One answer for every target refused before connecting, whatever the reason.

    The lawyer sees the attempt's error: telling a name with no address from one with an inside
    address would let them probe this network's DNS. The operator's log keeps the reason (never
    the host).
    """
    log.warning("webhook target unreachable", extra={"delivery_id": delivery_id, "reason": reason})
    return SendResult("retry", error=UNREACHABLE)


def client(timeout_s: float, verify: ssl.SSLContext | bool = True) -> httpx.AsyncClient:
    """A channel's HTTP client: a short connect, the channel's timeout for the rest."""
    return make_client(connect=min(2.0, timeout_s), read=timeout_s, write=timeout_s, verify=verify)


def read_secret(path: Path | None) -> str:
    """A token the operator keeps in a file (never in the environment, never logged)."""
    return "" if path is None else path.read_text().strip()


def json_bytes(value: Any) -> bytes:
    """The exact JSON bytes a channel posts."""
    return json.dumps(value, ensure_ascii=False, separators=(",", ":")).encode()


JSON: Final = {"content-type": "application/json"}
_E164: Final = re.compile(r"\+[1-9][0-9]{6,14}")


def valid_phone(value: str) -> str:
    """A phone number in E.164 form (`+` and 7 to 15 digits, no spaces)."""
    if not _E164.fullmatch(value):
        raise ValueError("a phone number in E.164 form, e.g. +4915112345678")
    return value


class NoSecret:
    """For channels whose contacts hold no secret and get no action link by themselves."""

    def parse_secret(self, secret: str) -> str:
        """Refused (`accepts` says so first)."""
        raise ValueError("this channel takes no secret")

    def acts_for(self, address: str, secret: str | None) -> bool:
        """Only `carries_action_links` decides."""
        return False

    def new_secret(self) -> str | None:
        """Nothing to sign or authenticate per contact."""
        return None


def delivery_span(ctx: SendContext) -> AbstractContextManager[Any]:
    """The CLIENT span of one send, in the trace that created its job."""
    return tracing.span(
        "alerts",
        f"delivery {ctx.channel} send",
        SpanKind.CLIENT,
        parent=tracing.from_stored(ctx.trace_context),
        attributes={"lifeline.delivery.channel": ctx.channel, "lifeline.delivery.kind": ctx.kind},
    )
