"""Same-origin access to the services' APIs: `/api/<service>/<path>` is relayed to that service.

The browser then talks to one origin only, so the console's Content-Security-Policy can say
`connect-src 'self'` and no service needs CORS. The proxy holds no credentials and decides
nothing: the caller's bearer token goes through and each service checks it as it always does.
Only the API surface is relayed (`v1/…`, `.well-known/…` and the OpenAPI document), never
health or metrics routes.
"""

from __future__ import annotations

import logging
import re

import httpx
from fastapi import APIRouter, Request
from fastapi.responses import Response, StreamingResponse
from starlette.background import BackgroundTask

from libs.common.errors import NotFound, PayloadTooLarge, Unavailable
from libs.common.outages import RETRY_AFTER_S
from libs.common.requestid_middleware import request_id_of

log = logging.getLogger("lifeline.console.proxy")

# Decoded path after `/api/<service>/`: no `..`, no `//`, no percent signs (so nothing decodes
# into another path upstream), and only the API's own prefixes.
_PATH = re.compile(
    r"^(v1(/[A-Za-z0-9._~:@!$&'()*+,;=-]+)*|\.well-known(/[A-Za-z0-9._-]+)+|openapi\.json)$"
)
_FORWARDED_REQUEST = frozenset(
    {"authorization", "content-type", "accept", "accept-language", "idempotency-key"}
)
_FORWARDED_RESPONSE = frozenset(
    {
        "content-type",
        "cache-control",
        "pragma",
        "retry-after",
        "link",
        "location",
        "www-authenticate",
        "ratelimit",
        "ratelimit-policy",
        "idempotent-replayed",
        "etag",
        "content-security-policy",
        "x-frame-options",
        "referrer-policy",
    }
)


def allowed_path(path: str) -> bool:
    """Whether `path` (decoded, after the service name) is one the proxy relays."""
    return bool(_PATH.fullmatch(path)) and "/../" not in f"/{path}/" and "/./" not in f"/{path}/"


def forwarded_for(request: Request) -> str:
    """X-Forwarded-For as the service should see it: what came before, then our peer."""
    peer = request.client.host if request.client else "unknown"
    before = request.headers.get("x-forwarded-for")
    return f"{before}, {peer}" if before else peer


class ApiProxy:
    """Relays one request to one service and streams the answer back."""

    def __init__(self, upstreams: dict[str, str], client: httpx.AsyncClient, max_body: int):
        self._upstreams = upstreams
        self._client = client
        self._max_body = max_body

    async def relay(self, service: str, path: str, request: Request) -> Response:
        """The service's answer, or 404 (unknown service or path) / 503 (service unreachable)."""
        base = self._upstreams.get(service)
        if base is None or not allowed_path(path):
            raise NotFound("no such API route")
        body = await self._body(request)
        headers = {k: v for k, v in request.headers.items() if k in _FORWARDED_REQUEST}
        headers["x-forwarded-for"] = forwarded_for(request)
        # The console's id for this request (the caller's, if safe): one id across both logs.
        rid = request_id_of(request.scope)
        if rid is not None:
            headers["x-request-id"] = rid
        upstream = self._client.build_request(
            request.method,
            f"{base}/{path}",
            params=request.url.query or None,
            headers=headers,
            content=body,
        )
        try:
            answer = await self._client.send(upstream, stream=True)
        except httpx.HTTPError as exc:
            # The error's class only: its text can hold the URL, and the URL a token (ack links).
            log.warning(
                "service unreachable", extra={"service": service, "error": type(exc).__name__}
            )
            raise Unavailable(
                f"the {service} service cannot be reached",
                headers={"Retry-After": str(RETRY_AFTER_S)},
            ) from None
        out = {k: v for k, v in answer.headers.items() if k in _FORWARDED_RESPONSE}
        out.setdefault("cache-control", "no-store")
        return StreamingResponse(
            answer.aiter_bytes(),
            status_code=answer.status_code,
            headers=out,
            background=BackgroundTask(answer.aclose),
        )

    async def _body(self, request: Request) -> bytes | None:
        if request.method in ("GET", "HEAD", "OPTIONS"):
            return None
        chunks, size = [], 0
        async for chunk in request.stream():
            size += len(chunk)
            if size > self._max_body:
                raise PayloadTooLarge(f"body over {self._max_body} bytes")
            chunks.append(chunk)
        return b"".join(chunks)


def proxy_router() -> APIRouter:
    """`/api/{service}/{path}` for every method the APIs use."""
    router = APIRouter(include_in_schema=False)

    @router.api_route(
        "/api/{service}/{path:path}", methods=["GET", "POST", "PUT", "PATCH", "DELETE"]
    )
    async def relay(service: str, path: str, request: Request) -> Response:
        """Relay to the named service."""
        proxy: ApiProxy = request.app.state.proxy
        return await proxy.relay(service, path, request)

    return router
