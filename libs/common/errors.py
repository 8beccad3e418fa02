"""One error hierarchy for every service: each error knows its HTTP status and machine code.

Every error answers as an RFC 9457 problem (`application/problem+json`): `type` (a stable URI per
code), `title`, `status`, `detail`, and the extensions `code`, `fields` and `request_id`
(`docs/api.md`). `error` repeats `code` for clients written before the problem shape; it is
deprecated and goes in the next release.
"""

from __future__ import annotations

from typing import Any

from libs.common.requestid import current_request_id

PROBLEM_MEDIA_TYPE = "application/problem+json"
# Identifiers, not addresses: `.invalid` never resolves, so no client fetches anything from it.
PROBLEM_TYPE_BASE = "https://lifeline.invalid/problems/"


def problem_type(code: str) -> str:
    """The stable `type` URI of a machine code."""
    return PROBLEM_TYPE_BASE + code


def problem_title(code: str) -> str:
    """The fixed human summary of a code (the same for every occurrence, as RFC 9457 asks)."""
    return code.replace("_", " ").capitalize()


def problem(
    code: str,
    status: int,
    detail: str,
    *,
    fields: list[dict[str, Any]] | None = None,
    request_id: str | None = None,
    **extensions: Any,
) -> dict[str, Any]:
    """An RFC 9457 problem body for `code`; `request_id` defaults to the current request's."""
    return {
        "type": problem_type(code),
        "title": problem_title(code),
        "status": status,
        "detail": detail,
        "code": code,
        "fields": fields or [],
        "request_id": request_id or current_request_id(),
        "error": code,  # deprecated alias of `code`, kept for one release
        **extensions,
    }


class LifelineError(Exception):
    """Base error: rendered as an RFC 9457 problem with `status`, `code` and `fields`."""

    status: int = 400
    code: str = "bad_request"
    media_type: str = PROBLEM_MEDIA_TYPE

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
        """The problem body a client receives."""
        return problem(self.code, self.status, self.detail, fields=self.fields)


class InvalidInput(LifelineError):
    """The request is well-formed JSON but breaks a rule (422)."""

    status = 422
    code = "invalid_input"


class InvalidCursor(InvalidInput):
    """A page cursor that this list did not hand out (422, `fields` at `cursor`)."""

    code = "invalid_cursor"

    def __init__(self, reason: str = "not a cursor of this list") -> None:
        super().__init__("invalid cursor", fields=[{"path": "cursor", "reason": reason}])


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
