"""The problem shape (RFC 9457) as a schema, the statuses a route may answer, field reasons."""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from libs.common.errors import PROBLEM_MEDIA_TYPE, problem

# Pydantic writes "Value error, <our message>" for a validator's ValueError: the prefix says
# nothing to a partner reading a refused row.
_PYDANTIC_PREFIX = re.compile(r"^(Value error|Assertion failed), ")
MAX_FIELDS = 100


def field_reason(message: str) -> str:
    """A validation message without pydantic's prefixes."""
    return _PYDANTIC_PREFIX.sub("", message) or "invalid"


def field_path(loc: Iterable[Any], root: str = "body") -> str:
    """A dotted path of a validation error's location, without FastAPI's `body` root."""
    return ".".join(str(p) for p in loc if p != "body") or root


def field_errors(errors: Iterable[Mapping[str, Any]], root: str = "body") -> list[dict[str, str]]:
    """`[{path, reason}]` of pydantic errors: never the rejected input (it may be a name)."""
    fields = [
        {
            "path": field_path(err.get("loc", ()), root),
            "reason": field_reason(str(err.get("msg", ""))),
        }
        for err in errors
    ]
    return fields[:MAX_FIELDS]


class FieldProblem(BaseModel):
    """One refused field: where it is and why (the input itself is never repeated)."""

    path: str = Field(description="dotted path in the request, e.g. `place.country`")
    reason: str = Field(description="why it was refused, readable by a person")


class Problem(BaseModel):
    """An RFC 9457 problem with Lifeline's extensions `code`, `fields` and `request_id`."""

    model_config = ConfigDict(
        extra="allow",
        json_schema_extra={
            "examples": [
                problem(
                    "invalid_input",
                    422,
                    "some fields are invalid",
                    fields=[{"path": "place.country", "reason": "unknown country code"}],
                    request_id="4f0c2a9d1b7e6c35",
                )
            ]
        },
    )

    type: str = Field(description="a stable URI per code: https://lifeline.invalid/problems/<code>")
    title: str = Field(description="a fixed summary of the code")
    status: int = Field(description="the HTTP status")
    detail: str = Field(description="what went wrong this time, for a person")
    code: str = Field(description="the machine code a client branches on")
    fields: list[FieldProblem] = Field(description="refused fields, empty when none")
    request_id: str | None = Field(description="the request's X-Request-ID, for support")
    error: str = Field(
        deprecated=True, description="deprecated alias of `code`; removed in the next release"
    )


class OAuthProblem(BaseModel):
    """The token endpoint's error (RFC 6749 §5.2), not a problem: OAuth clients expect this."""

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "error": "invalid_client",
                    "error_description": "client authentication failed",
                    "request_id": "4f0c2a9d1b7e6c35",
                }
            ]
        }
    )

    error: str = Field(description="the RFC 6749 error code, e.g. `invalid_client`")
    error_description: str = Field(description="what went wrong, for a person")
    request_id: str | None = Field(default=None, description="the request's X-Request-ID")


# Every error status a route may answer, what it means here, and a typical code (examples).
STATUSES: dict[int, tuple[str, str]] = {
    400: ("the body is not valid JSON, or a request is refused as malformed", "malformed_json"),
    401: ("no valid access token", "unauthenticated"),
    403: ("the token's scopes or the partner's policy do not allow this", "forbidden"),
    404: ("no such resource, or the caller may not know it exists", "not_found"),
    409: ("the request conflicts with stored state", "conflict"),
    410: ("the resource existed and is gone", "gone"),
    413: ("the body is over the size limit", "payload_too_large"),
    422: ("some fields are invalid (see `fields`)", "invalid_input"),
    429: ("too many requests; retry after `Retry-After` seconds", "rate_limited"),
    503: ("a dependency is unavailable or the service is sealed; retry later", "unavailable"),
    # Declared only where a route answers it on purpose (a stored report failing its check).
    500: ("the server could not answer; the request id helps support find out why", "internal"),
}


def problem_content(
    status: int, schema_ref: str = "#/components/schemas/Problem"
) -> dict[str, Any]:
    """The OpenAPI `content` of an error response: the problem schema and an example."""
    code = STATUSES.get(status, ("", "error"))[1]
    example = problem(code, status, STATUSES.get(status, (code,))[0], request_id="4f0c2a9d1b7e6c35")
    return {PROBLEM_MEDIA_TYPE: {"schema": {"$ref": schema_ref}, "example": example}}


def problems(*statuses: int) -> dict[int | str, dict[str, Any]]:
    """`responses=` for the statuses a route answers beyond those inferred from its signature."""
    return {status: {"description": STATUSES[status][0]} for status in statuses}
