"""Token endpoint limits: per source address and per client, in memory on each replica."""

from __future__ import annotations

import ipaddress
from collections.abc import Sequence

from libs.common.clock import SYSTEM_CLOCK, Clock
from libs.common.ratelimit import Quota, RateLimiter, ratelimit_headers
from services.sharing.access.tokens.domain import OAuthError

Network = ipaddress.IPv4Network | ipaddress.IPv6Network


def slow_down(wait: int, quota: Quota) -> OAuthError:
    """429 in the token endpoint's RFC 6749 error form, with Retry-After and RateLimit."""
    error = OAuthError("slow_down", "too many token requests", 429)
    error.headers.update(ratelimit_headers([quota]))
    error.headers["Retry-After"] = str(max(1, wait))
    return error


class TokenLimits:
    """Token buckets per source address (every request) and per client (verified requests)."""

    def __init__(
        self,
        *,
        source: RateLimiter,
        client: RateLimiter,
        trusted_proxies: Sequence[str] = (),
        clock: Clock = SYSTEM_CLOCK,
    ) -> None:
        self.sources = source
        self.clients = client
        self.proxies: tuple[Network, ...] = tuple(
            ipaddress.ip_network(p, strict=False) for p in trusted_proxies
        )
        self.clock = clock

    def _trusted(self, address: str) -> bool:
        try:
            ip = ipaddress.ip_address(address.strip())
        except ValueError:
            return False
        return any(ip in net for net in self.proxies)

    def source_of(self, peer: str | None, forwarded_for: str | None) -> str:
        """The caller's address: the peer, or behind configured proxies the last hop they saw."""
        source = peer or "unknown"
        if not forwarded_for or not self._trusted(source):
            # X-Forwarded-For from anyone else is whatever the caller wants it to be.
            return source
        for hop in reversed(forwarded_for.split(",")):
            source = hop.strip()
            if not self._trusted(source):
                break
        return source

    def check_source(self, source: str) -> Quota:
        """What this address has left; slow_down when it has sent too many token requests."""
        return _checked(self.sources, source, self.clock.monotonic())

    def check_client(self, client_id: str) -> Quota:
        """What this client has left; slow_down when it has been issued too many tokens."""
        return _checked(self.clients, client_id, self.clock.monotonic())


def _checked(limiter: RateLimiter, key: str, now: float) -> Quota:
    wait = limiter.take(key, now)
    quota = limiter.quota(key, now)
    if wait:
        raise slow_down(wait, quota)
    return quota
