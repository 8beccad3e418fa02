"""Each service's OpenAPI document tells the truth about errors and shows an example everywhere.

One pass over the document FastAPI builds: every error status a route can answer is declared
from its signature (401/403 from its scopes, 404 from a path id, 400/413/422 from its body or
parameters, 503 always) plus what the route lists with `problems(...)`; every error response is
the `Problem` schema as `application/problem+json`; FastAPI's `HTTPValidationError`, which the
services never send, is gone; request bodies and success responses without an example get one
built from their schema (`libs/common/examples.py`).
"""

from __future__ import annotations

from http import HTTPStatus
from typing import Any

from fastapi import FastAPI

from libs.common.examples import example_of
from libs.common.paging import PARAM as PAGE_PARAM
from libs.common.problems import (
    STATUSES,
    FieldProblem,
    OAuthProblem,
    Problem,
    problem_content,
)

# FastAPI's own validation schemas: documented by default, never sent by a Lifeline service.
_FASTAPI_ERRORS = ("HTTPValidationError", "ValidationError")
# An operation that answers whatever state the service is in (liveness) sets this to true.
ALWAYS_UP = "x-lifeline-always-up"
# An operation that sends the RateLimit headers on its successes too sets this to true.
RATE_LIMITED = "x-lifeline-rate-limited"
_REF = "#/components/schemas/{model}"
# FastAPI's descriptions of a status, replaced by what the status means here.
_GENERIC = {None, "", "Validation Error"} | {s.phrase for s in HTTPStatus}


def _components(schema: dict[str, Any]) -> dict[str, Any]:
    found: dict[str, Any] = schema.setdefault("components", {}).setdefault("schemas", {})
    for name in _FASTAPI_ERRORS:
        found.pop(name, None)
    for model in (Problem, FieldProblem, OAuthProblem):
        body = model.model_json_schema(ref_template=_REF)
        found.update(body.pop("$defs", {}))
        found[model.__name__] = body
    return found


def inferred_statuses(operation: dict[str, Any], security: list[Any] | None) -> set[int]:
    """The error statuses an operation answers because of its signature."""
    statuses = set() if operation.get(ALWAYS_UP) else {503}
    if security:
        statuses.add(401)
        if any(scopes for alternative in security for scopes in alternative.values()):
            statuses.add(403)
    parameters = operation.get("parameters", [])
    if any(p.get("in") == "path" for p in parameters):
        statuses.add(404)
    if _idempotent(operation):
        statuses |= {400, 409}  # a malformed key; a key reused or still in progress
    body = operation.get("requestBody")
    if parameters or body:
        statuses.add(422)
    if body:
        statuses.add(413)
        if "application/json" in body.get("content", {}):
            statuses.add(400)
    return statuses


def _is_oauth(response: dict[str, Any]) -> bool:
    content = response.get("content", {}).get("application/json", {})
    return bool(content.get("schema", {}).get("$ref", "").endswith("/OAuthProblem"))


def _errors(operation: dict[str, Any], security: list[Any] | None) -> None:
    responses = operation.setdefault("responses", {})
    declared = {int(s) for s in responses if s.isdigit() and int(s) >= 400}
    for status in sorted(declared | inferred_statuses(operation, security)):
        response = responses.setdefault(str(status), {})
        if _is_oauth(response):
            continue
        if response.get("description") in _GENERIC:
            response["description"] = STATUSES[status][0]
        response["content"] = problem_content(status)
    operation["responses"] = dict(sorted(responses.items()))


def _idempotent(operation: dict[str, Any]) -> bool:
    # Imported here: the module holds the idempotency table (SQLAlchemy), which a process
    # without a database (the console) would otherwise load for a header name.
    from libs.common.idempotency import HEADER

    parameters = operation.get("parameters", [])
    return any(p.get("in") == "header" and p.get("name") == HEADER for p in parameters)


def _replay_header(operation: dict[str, Any]) -> None:
    from libs.common.idempotency import REPLAYED_HEADER

    if not _idempotent(operation):
        return
    header = {
        "description": "`true` when this is the first answer to the same Idempotency-Key again",
        "schema": {"type": "string", "enum": ["true"]},
    }
    for status, response in operation.get("responses", {}).items():
        if status.startswith("2"):
            response.setdefault("headers", {})[REPLAYED_HEADER] = header


# draft-ietf-httpapi-ratelimit-headers: what a limited route answers, refused or not.
_RATELIMIT_HEADERS = {
    "RateLimit-Policy": {
        "description": 'each policy: `"name";q=<quota>;w=<window seconds>` (a structured list)',
        "schema": {"type": "string"},
        "example": '"client";q=50;w=1000',
    },
    "RateLimit": {
        "description": 'each policy: `"name";r=<remaining>;t=<seconds until full>`',
        "schema": {"type": "string"},
        "example": '"client";r=0;t=1000',
    },
}
_RETRY_AFTER = {
    "description": "seconds to wait before trying again",
    "schema": {"type": "integer", "minimum": 1},
}


def _ratelimit_headers(operation: dict[str, Any]) -> None:
    responses = operation.get("responses", {})
    if "429" not in responses:
        return
    for status, response in responses.items():
        if status == "429" or (status.startswith("2") and operation.get(RATE_LIMITED)):
            response.setdefault("headers", {}).update(_RATELIMIT_HEADERS)
    responses["429"]["headers"]["Retry-After"] = _RETRY_AFTER


# RFC 8288: a paged list's next page (`libs/common/paging.py`), only while more may follow.
_LINK_HEADER = {
    "description": 'the next page, `<?…&cursor=…>; rel="next"` (relative to the request URL); '
    "absent on the last page",
    "schema": {"type": "string"},
    "example": '<?limit=50&cursor=WzEsImFsZXJ0cyIsWzQyXV0>; rel="next"',
}


def paged(operation: dict[str, Any]) -> bool:
    """Whether an operation is a paged list (it takes the opaque `cursor`)."""
    parameters = operation.get("parameters", [])
    return any(p.get("in") == "query" and p.get("name") == PAGE_PARAM for p in parameters)


def _link_header(operation: dict[str, Any]) -> None:
    if not paged(operation):
        return
    for status, response in operation.get("responses", {}).items():
        if status.startswith("2"):
            response.setdefault("headers", {})["Link"] = _LINK_HEADER


def _examples(operation: dict[str, Any], components: dict[str, Any]) -> None:
    media = list(operation.get("requestBody", {}).get("content", {}).values())
    for response in operation.get("responses", {}).values():
        media += list(response.get("content", {}).values())
    for item in media:
        if "example" in item or "examples" in item or "schema" not in item:
            continue
        item["example"] = example_of(item["schema"], components)


def describe_errors(schema: dict[str, Any], app: FastAPI) -> dict[str, Any]:
    """Rewrite `schema` in place: problem responses everywhere, examples on every operation."""
    # Imported here, when the document is first built: the auth package loads `cryptography`
    # and PyJWT (about 8 MB resident), which the console, with no token to check, never needs.
    from libs.common.auth.fastapi import api_routes
    from libs.common.auth.openapi import security_of

    components = _components(schema)
    paths = schema.get("paths", {})
    for route in api_routes(app):
        item = paths.get(route.openapi_path, {})
        for method in route.methods:
            operation = item.get(method.lower())
            if operation is None:
                continue
            _errors(operation, security_of(route.dependant))
            _replay_header(operation)
            _ratelimit_headers(operation)
            _link_header(operation)
            _examples(operation, components)
    return schema


def publish_problems(app: FastAPI) -> None:
    """Make `app.openapi()` (and `/openapi.json`) describe errors and examples truthfully."""
    build = app.openapi

    def openapi() -> dict[str, Any]:
        schema = build()  # FastAPI's cached document: described once
        if "Problem" not in schema.get("components", {}).get("schemas", {}):
            describe_errors(schema, app)
        return schema

    app.openapi = openapi  # type: ignore[method-assign]
