"""One error hierarchy for every service: each error knows its HTTP status and machine code."""

from __future__ import annotations

from typing import Any


class LifelineError(Exception):
    """Base error: rendered as `{"error": code, "detail": text, "fields": [...]}` with `status`."""

    status: int = 400
    code: str = "bad_request"

    def __init__(
        self,
        detail: str = "",
        *,
        fields: list[dict[str, Any]] | None = None,
        headers: dict[str, str] | None = None,
    ) -> None:
        super().__init__(detail or self.code)
        self.detail = detail or self.code.replace("_", " ")
        self.fields = fields or []
        self.headers = headers or {}

    def body(self) -> dict[str, Any]:
        """The JSON body a client receives."""
        return {"error": self.code, "detail": self.detail, "fields": self.fields}


class InvalidInput(LifelineError):
    """The request is well-formed JSON but breaks a rule (422)."""

    status = 422
    code = "invalid_input"


class Unauthenticated(LifelineError):
    """No valid credentials; the body never says which check failed (401)."""

    status = 401
    code = "unauthenticated"

    def __init__(self, detail: str = "authentication required") -> None:
        super().__init__(detail, headers={"WWW-Authenticate": "Bearer"})


class Forbidden(LifelineError):
    """Authenticated, but the scope or policy does not allow this (403)."""

    status = 403
    code = "forbidden"


class NotFound(LifelineError):
    """The resource does not exist or the caller may not know that it does (404)."""

    status = 404
    code = "not_found"


class Conflict(LifelineError):
    """The request conflicts with stored state, e.g. a reused idempotency key (409)."""

    status = 409
    code = "conflict"


class Gone(LifelineError):
    """The resource existed and was erased (410)."""

    status = 410
    code = "gone"


class PayloadTooLarge(LifelineError):
    """The body is over the size limit (413)."""

    status = 413
    code = "payload_too_large"


class RateLimited(LifelineError):
    """Too many requests from this client (429, with Retry-After)."""

    status = 429
    code = "rate_limited"

    def __init__(self, retry_after: int, *, headers: dict[str, str] | None = None) -> None:
        wait = {"Retry-After": str(max(1, retry_after))}
        super().__init__("too many requests", headers={**(headers or {}), **wait})


class Unavailable(LifelineError):
    """A dependency (database, NATS, another service) is not reachable now (503)."""

    status = 503
    code = "unavailable"
