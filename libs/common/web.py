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

from libs.common.errors import (
    PROBLEM_MEDIA_TYPE,
    LifelineError,
    PayloadTooLarge,
    Unavailable,
    problem,
)
from libs.common.openapi import ALWAYS_UP, publish_problems
from libs.common.outages import RETRY_AFTER_S, outage_types, unreachable
from libs.common.problems import field_errors
from libs.common.requestid import HEADER
from libs.common.requestid_middleware import RequestIdMiddleware, request_id_of

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


class ProblemResponse(JSONResponse):
    """A JSON response served as `application/problem+json` (RFC 9457)."""

    media_type = PROBLEM_MEDIA_TYPE


def problem_response(body: dict[str, Any], headers: dict[str, str] | None = None) -> JSONResponse:
    """A problem body as a response with its status and content type."""
    return ProblemResponse(body, status_code=int(body["status"]), headers=headers or None)


def error_response(exc: LifelineError) -> JSONResponse:
    """The one shape of every error: an RFC 9457 problem (the token endpoint's: RFC 6749)."""
    return JSONResponse(
        exc.body(), status_code=exc.status, headers=exc.headers or None, media_type=exc.media_type
    )


def install_error_handlers(app: FastAPI) -> None:
    """Map every failure to an RFC 9457 problem; nothing escapes as a bare 500."""
    publish_problems(app)

    @app.exception_handler(LifelineError)
    async def _lifeline(_: Request, exc: LifelineError) -> JSONResponse:
        return error_response(exc)

    @app.exception_handler(RequestValidationError)
    async def _validation(_: Request, exc: RequestValidationError) -> JSONResponse:
        fields = field_errors(exc.errors())
        malformed = any(e.get("type") == "json_invalid" for e in exc.errors())
        if malformed:
            body = problem("malformed_json", 400, "the body is not valid JSON", fields=fields)
        else:
            body = problem("invalid_input", 422, "some fields are invalid", fields=fields)
        return problem_response(body)

    @app.exception_handler(StarletteHTTPException)
    async def _http(_: Request, exc: StarletteHTTPException) -> JSONResponse:
        code = _STATUS_CODES.get(exc.status_code, "http_error")
        body = problem(code, exc.status_code, str(exc.detail))
        return problem_response(body, dict(exc.headers or {}))

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
    for exc_type in outage_types():
        app.add_exception_handler(exc_type, _outage)

    @app.exception_handler(Exception)
    async def _unexpected(request: Request, exc: Exception) -> JSONResponse:
        if unreachable(exc) is not None:  # raised outside the routes (a middleware)
            return await _outage(request, exc)
        # Starlette answers a 500 outside the request-id middleware: the id comes from the scope.
        rid = request_id_of(request.scope)
        log.error(
            "unhandled error",
            exc_info=exc,
            extra={
                "route": route_of(request.scope),
                "reason": type(exc).__name__,
                "request_id": rid,
            },
        )
        body = problem("internal", 500, "internal error", request_id=rid)
        return problem_response(body, {HEADER: rid} if rid else None)


def install_request_ids(app: FastAPI) -> None:
    """Give every request an id (`X-Request-ID`) for its logs and its error body; call it last.

    Starlette runs the middleware added last outermost, so a 413, a 503 or a 429 that another
    middleware answers carries the id too.
    """
    app.add_middleware(RequestIdMiddleware)


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

    @router.get(
        "/healthz", summary="Liveness: the process answers.", openapi_extra={ALWAYS_UP: True}
    )
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
                trouble = await check()
            except Exception as exc:  # a failing check is the answer, not an error
                trouble = type(exc).__name__
            results[name] = trouble or "ok"
        failing = {k: v for k, v in results.items() if v != "ok"}
        if failing:
            detail = "; ".join(f"{k}: {v}" for k, v in failing.items())
            # A sealed service waits for an operator, not for a dependency: say so first.
            code = "sealed" if failing.get("seal") == "sealed" else "not_ready"
            return problem_response(problem(code, 503, detail, checks=results))
        return JSONResponse({"status": "ready", "checks": results})

    return router
