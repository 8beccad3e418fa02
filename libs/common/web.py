"""FastAPI glue shared by the services: one error handler, body limit, access log, health routes."""

from __future__ import annotations

import logging
import time
from collections.abc import Awaitable, Callable
from typing import Annotated, Any

from fastapi import APIRouter, FastAPI, Query, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from libs.common.errors import LifelineError, PayloadTooLarge, Unavailable
from libs.common.outages import OUTAGE_TYPES, RETRY_AFTER_S, unreachable

log = logging.getLogger("lifeline.http")

ReadinessCheck = Callable[[], Awaitable[str | None]]

# A page cursor (`after=`) is a row id, which the databases keep as a signed 64-bit integer: a
# larger value would overflow the driver (a 500), so it is refused as input instead (422).
MAX_CURSOR = 2**63 - 1
Cursor = Annotated[int, Query(ge=0, le=MAX_CURSOR, description="rows after this id")]

_STATUS_CODES = {
    400: "bad_request",
    401: "unauthenticated",
    403: "forbidden",
    404: "not_found",
    405: "method_not_allowed",
    406: "not_acceptable",
    413: "payload_too_large",
    415: "unsupported_media_type",
    429: "rate_limited",
}


def error_response(exc: LifelineError) -> JSONResponse:
    """The one JSON shape of every error."""
    return JSONResponse(exc.body(), status_code=exc.status, headers=exc.headers or None)


def _field_errors(exc: RequestValidationError) -> list[dict[str, Any]]:
    # Never echo the rejected input back: it may be a name or a narrative.
    fields = []
    for err in exc.errors():
        loc = [str(p) for p in err.get("loc", ()) if p != "body"]
        fields.append({"path": ".".join(loc) or "body", "reason": err.get("msg", "invalid")})
    return fields[:100]


def install_error_handlers(app: FastAPI) -> None:
    """Map every failure to `{"error", "detail", "fields"}`; nothing escapes as a bare 500."""

    @app.exception_handler(LifelineError)
    async def _lifeline(_: Request, exc: LifelineError) -> JSONResponse:
        return error_response(exc)

    @app.exception_handler(RequestValidationError)
    async def _validation(_: Request, exc: RequestValidationError) -> JSONResponse:
        fields = _field_errors(exc)
        malformed = any(f["reason"].startswith("JSON decode error") for f in fields)
        body = {
            "error": "malformed_json" if malformed else "invalid_input",
            "detail": "the body is not valid JSON" if malformed else "some fields are invalid",
            "fields": fields,
        }
        return JSONResponse(body, status_code=400 if malformed else 422)

    @app.exception_handler(StarletteHTTPException)
    async def _http(_: Request, exc: StarletteHTTPException) -> JSONResponse:
        code = _STATUS_CODES.get(exc.status_code, "http_error")
        body = {"error": code, "detail": str(exc.detail), "fields": []}
        return JSONResponse(body, status_code=exc.status_code, headers=exc.headers)

    async def _outage(request: Request, exc: Exception) -> JSONResponse:
        """503 + Retry-After while a dependency is away; anything else of these types is a 500."""
        dependency = unreachable(exc)
        if dependency is None:
            return await _unexpected(request, exc)
        # One line, no traceback: an outage is not a bug, and a driver's message may quote data.
        log.warning(
            "dependency unavailable",
            extra={
                "route": route_of(request.scope),
                "dependency": dependency,
                "reason": type(exc).__name__,
            },
        )
        answer = Unavailable(
            f"{dependency} unavailable, try again later",
            headers={"Retry-After": str(RETRY_AFTER_S)},
        )
        return error_response(answer)

    # On these types, not on Exception: Starlette re-raises what reaches the catch-all (a
    # traceback in the server's log) even after its handler answered.
    for exc_type in OUTAGE_TYPES:
        app.add_exception_handler(exc_type, _outage)

    @app.exception_handler(Exception)
    async def _unexpected(request: Request, exc: Exception) -> JSONResponse:
        if unreachable(exc) is not None:  # raised outside the routes (a middleware)
            return await _outage(request, exc)
        log.error(
            "unhandled error",
            exc_info=exc,
            extra={"route": route_of(request.scope), "reason": type(exc).__name__},
        )
        body = {"error": "internal", "detail": "internal error", "fields": []}
        return JSONResponse(body, status_code=500)


def route_of(scope: Scope) -> str:
    """The route template that matched (never the raw path, which may carry ids)."""
    return str(getattr(scope.get("route"), "path", "unmatched"))


class BodyLimitMiddleware:
    """Refuse bodies over `max_bytes` early (declared length) or while streaming (chunked)."""

    def __init__(self, app: ASGIApp, max_bytes: int) -> None:
        self.app = app
        self.max_bytes = max_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Wrap `receive` to count body bytes."""
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        declared = dict(scope.get("headers") or []).get(b"content-length")
        if declared is not None and declared.isdigit() and int(declared) > self.max_bytes:
            await error_response(PayloadTooLarge(f"body over {self.max_bytes} bytes"))(
                scope, receive, send
            )
            return
        seen = 0

        async def limited_receive() -> Message:
            nonlocal seen
            message = await receive()
            if message["type"] == "http.request":
                seen += len(message.get("body", b""))
                if seen > self.max_bytes:
                    raise PayloadTooLarge(f"body over {self.max_bytes} bytes")
            return message

        await self.app(scope, limited_receive, send)


def install_access_log(app: FastAPI) -> None:
    """Log method, route template, status and duration: never the raw path or query string."""
    app.add_middleware(AccessLogMiddleware)


class AccessLogMiddleware:
    """A pure ASGI access log: Starlette's `BaseHTTPMiddleware` costs a task per request."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Pass through; at DEBUG, note the status and log one line when the response ends."""
        if scope["type"] != "http" or not log.isEnabledFor(logging.DEBUG):
            await self.app(scope, receive, send)
            return
        start, status = time.perf_counter(), 0

        async def noting_send(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
            await send(message)

        await self.app(scope, receive, noting_send)
        log.debug(
            "request",
            extra={
                "method": scope["method"],
                "route": route_of(scope),
                "status": status,
                "duration_ms": round((time.perf_counter() - start) * 1000, 2),
            },
        )


def health_router() -> APIRouter:
    """`/healthz` (alive) and `/readyz` (the checks the lifespan put on `app.state.readiness`)."""
    router = APIRouter(tags=["health"])

    @router.get("/healthz", summary="Liveness: the process answers.")
    async def healthz() -> dict[str, str]:
        """Always 200 while the process runs."""
        return {"status": "ok"}

    @router.get("/readyz", summary="Readiness: database and NATS reachable, else 503.")
    async def readyz(request: Request) -> JSONResponse:
        """200 when every dependency answers; 503 naming each one that does not."""
        checks: dict[str, ReadinessCheck] = getattr(request.app.state, "readiness", {})
        results: dict[str, str] = {} if checks else {"service": "starting"}
        for name, check in checks.items():
            try:
                problem = await check()
            except Exception as exc:  # a failing check is the answer, not an error
                problem = type(exc).__name__
            results[name] = problem or "ok"
        failing = {k: v for k, v in results.items() if v != "ok"}
        if failing:
            detail = "; ".join(f"{k}: {v}" for k, v in failing.items())
            # A sealed service waits for an operator, not for a dependency: say so first.
            error = "sealed" if failing.get("seal") == "sealed" else "not_ready"
            body = {"error": error, "detail": detail, "fields": [], "checks": results}
            return JSONResponse(body, status_code=503)
        return JSONResponse({"status": "ready", "checks": results})

    return router
