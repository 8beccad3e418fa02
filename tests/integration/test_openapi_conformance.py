"""Each service's OpenAPI document against what the running service answers.

The documents first: every error response is an RFC 9457 problem (`application/problem+json`)
except the token endpoint's RFC 6749 errors, no operation mentions FastAPI's
`HTTPValidationError`, every operation shows an example, and each declares the statuses its
signature makes possible. Then the wire: the three services run on real NATS and SQLite, and for
every operation the test provokes 401 (no token), 403 (a valid token for the service without the
route's scopes), 404 (an id nobody has), 422 (a body or parameter of the wrong type) and a
success where no state is needed, and validates each answer against the operation's documented
response (status, content type, body schema) with Schemathesis, which the fuzz test already
uses for the same documents.
"""

from __future__ import annotations

import json
import re
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

import httpx
import pytest
import schemathesis

from libs.common.auth.roles import ROLE_SCOPES, Role
from libs.common.auth.scopes import ALL_SCOPES, audiences_for
from libs.common.errors import PROBLEM_MEDIA_TYPE
from libs.common.examples import example_of
from libs.sdk import TokenSource
from tests.integration.auth.conftest import (  # the stack's fixtures, shared with auth tests
    Network,
    module_network,  # noqa: F401
    module_sharing,  # noqa: F401
)
from tests.support.access import register_client
from tests.support.auth import role_for
from tests.support.openapi import service_document

SERVICES = ("sharing", "intake", "alerts")
METHODS = ("get", "put", "post", "delete", "patch")
# The token endpoint answers errors by OAuth's own standard (RFC 6749 §5.2).
OAUTH_STATUSES = {("/v1/auth/token", "post"): {"400", "401", "429"}}
# Ids of the right form that nobody has: the first one a path parameter's pattern accepts.
UNKNOWN_IDS = (
    "szr_0000000000000000",
    "apr_0000000000000000",
    "00000000-0000-0000-0000-000000000000",
    "0" * 32,
    "A" * 22,
    "nobody-0000",
)
# Operations whose path id is not looked up as a stored row, with what they answer instead.
NOT_LOOKED_UP: dict[str, set[int]] = {
    # A partner without policies reads as an empty list: default deny needs no stored row.
    "sharing GET /v1/admin/policies/{partner_id}": {200},
    # An acknowledgement link is a signed token, checked before anything is looked up.
    "alerts GET /v1/ack/{token}": {422},
    "alerts POST /v1/ack/{token}": {422},
}
# The creates that honour Idempotency-Key (`docs/api.md` says why these and not others).
IDEMPOTENT = {
    "intake POST /v1/reports",
    "sharing POST /v1/admin/partners",
    "sharing POST /v1/admin/clients",
    "sharing POST /v1/admin/clients/{client_id}/keys",
    "sharing POST /v1/admin/clients/{client_id}/enrolments",
    "sharing POST /v1/admin/keys/{kid}/rotate",
    "sharing POST /v1/admin/seizures",
    "sharing POST /v1/reports/{report_id}/grants",
    "sharing POST /v1/partners/me/hpke-keys",
    "alerts POST /v1/watchlist/entries",
    "alerts POST /v1/lawyer/profile/test",
}
# Operations that send the RateLimit headers on their successes, not only with a 429.
RATE_LIMITED = {
    "intake POST /v1/reports",
    "sharing POST /v1/auth/token",
    "sharing POST /v1/identity/evaluate",
}
# The list operations: each takes `cursor` and `limit` and documents `Link` (`docs/api.md`).
PAGED = {
    "intake GET /v1/reports",
    "alerts GET /v1/alerts",
    "alerts GET /v1/watchlist/entries",
    "sharing GET /v1/reports",
    "sharing GET /v1/reports/{report_id}/reads",
    "sharing GET /v1/reports/{report_id}/grants",
    "sharing GET /v1/release-requests",
    "sharing GET /v1/partners/me/hpke-keys",
    "sharing GET /v1/admin/audit",
    "sharing GET /v1/admin/approvals",
    "sharing GET /v1/admin/partners",
    "sharing GET /v1/admin/clients",
    "sharing GET /v1/admin/clients/{client_id}/keys",
    "sharing GET /v1/admin/clients/{client_id}/enrolments",
    "sharing GET /v1/admin/seizures",
}
# Operations that need state before they can succeed, with what they answer on a fresh network.
NO_STATE_YET: dict[str, set[int]] = {
    "alerts GET /v1/organisation/rota": {404},
    "alerts GET /v1/organisation/rota.ics": {404},
}


@dataclass(frozen=True)
class Operation:
    """One documented operation of one service."""

    service: str
    path: str
    method: str
    spec: dict[str, Any]

    @property
    def key(self) -> str:
        """`service METHOD /path`, as test ids and messages name it."""
        return f"{self.service} {self.method.upper()} {self.path}"


def operations(documents: dict[str, dict[str, Any]]) -> Iterator[Operation]:
    """Every operation of every document."""
    for service, doc in documents.items():
        for path, item in doc["paths"].items():
            for method in METHODS:
                if method in item:
                    yield Operation(service, path, method, item[method])


def _scoped(op: Operation) -> bool:
    return any(scopes for alt in op.spec.get("security", []) for scopes in alt.values())


def _path_params(op: Operation) -> list[dict[str, Any]]:
    return [p for p in op.spec.get("parameters", []) if p["in"] == "path"]


# ---- the documents --------------------------------------------------------------------------


def test_no_operation_mentions_fastapi_validation_errors(
    documents: dict[str, dict[str, Any]],
) -> None:
    for service, doc in documents.items():
        assert "HTTPValidationError" not in json.dumps(doc), service
        assert "ValidationError" not in doc["components"]["schemas"], service


def test_every_error_response_is_a_problem(documents: dict[str, dict[str, Any]]) -> None:
    checked = 0
    for op in operations(documents):
        for status, response in op.spec["responses"].items():
            if status.startswith("2"):
                continue
            checked += 1
            content = response.get("content", {})
            if status in OAUTH_STATUSES.get((op.path, op.method), set()):
                schema = content["application/json"]["schema"]
                assert schema == {"$ref": "#/components/schemas/OAuthProblem"}, op.key
                continue
            assert list(content) == [PROBLEM_MEDIA_TYPE], (op.key, status)
            media = content[PROBLEM_MEDIA_TYPE]
            assert media["schema"] == {"$ref": "#/components/schemas/Problem"}, (op.key, status)
            assert media["example"]["status"] == int(status), (op.key, status)
            assert media["example"]["type"].endswith("/" + media["example"]["code"])
    assert checked > 300


def test_every_operation_declares_the_statuses_its_signature_allows(
    documents: dict[str, dict[str, Any]],
) -> None:
    for op in operations(documents):
        declared = set(op.spec["responses"])
        if op.spec.get("security"):
            assert "401" in declared, op.key
        if _scoped(op):
            assert "403" in declared, op.key
        if _path_params(op):
            assert "404" in declared, op.key
        if "requestBody" in op.spec or op.spec.get("parameters"):
            assert "422" in declared, op.key


def _idempotent(op: Operation) -> bool:
    return any(
        p["in"] == "header" and p["name"] == "Idempotency-Key"
        for p in op.spec.get("parameters", [])
    )


def test_the_creates_document_idempotency_key(documents: dict[str, dict[str, Any]]) -> None:
    idempotent = {op.key for op in operations(documents) if _idempotent(op)}
    assert idempotent == IDEMPOTENT
    for op in operations(documents):
        if op.key not in IDEMPOTENT:
            continue
        assert op.method == "post", op.key
        assert {"400", "409"} <= set(op.spec["responses"]), op.key
        for status, response in op.spec["responses"].items():
            if status.startswith("2"):
                assert "Idempotent-Replayed" in response["headers"], (op.key, status)


def _query(op: Operation) -> set[str]:
    return {p["name"] for p in op.spec.get("parameters", []) if p["in"] == "query"}


def test_every_list_takes_a_cursor_and_documents_link(documents: dict[str, dict[str, Any]]) -> None:
    paged = {op.key for op in operations(documents) if "cursor" in _query(op)}
    assert paged == PAGED
    for op in operations(documents):
        successes = [r for s, r in op.spec["responses"].items() if s.startswith("2")]
        linked = any("Link" in r.get("headers", {}) for r in successes)
        assert linked == (op.key in PAGED), op.key
        if op.key in PAGED:
            assert op.method == "get" and "limit" in _query(op), op.key
            assert all("Link" in r["headers"] for r in successes), op.key
        # A list answered as one array is a list to page, whatever its path.
        for response in successes:
            schema = response.get("content", {}).get("application/json", {}).get("schema", {})
            assert schema.get("type") != "array" or op.key in PAGED, op.key


def test_every_429_documents_retry_after_and_the_ratelimit_headers(
    documents: dict[str, dict[str, Any]],
) -> None:
    limited = set()
    for op in operations(documents):
        responses = op.spec["responses"]
        if "429" not in responses:
            continue
        limited.add(op.key)
        headers = set(responses["429"].get("headers", {}))
        assert {"Retry-After", "RateLimit", "RateLimit-Policy"} <= headers, op.key
        for status, response in responses.items():
            if status.startswith("2"):
                sent = {"RateLimit", "RateLimit-Policy"} <= set(response.get("headers", {}))
                assert sent == (op.key in RATE_LIMITED), (op.key, status)
    assert limited >= RATE_LIMITED


def _media_with_example(op: Operation) -> Iterator[tuple[str, dict[str, Any]]]:
    for media_type, media in op.spec.get("requestBody", {}).get("content", {}).items():
        yield f"request {media_type}", media
    for status, response in op.spec["responses"].items():
        for media_type, media in response.get("content", {}).items():
            yield f"{status} {media_type}", media


def test_every_operation_has_examples(documents: dict[str, dict[str, Any]]) -> None:
    missing = [
        f"{op.key}: {where}"
        for op in operations(documents)
        for where, media in _media_with_example(op)
        if "example" not in media and not media.get("examples")
    ]
    assert missing == []


def test_the_report_example_is_the_template(documents: dict[str, dict[str, Any]]) -> None:
    from lifeline.cli.report import EXAMPLE

    body = documents["intake"]["paths"]["/v1/reports"]["post"]["requestBody"]
    example = body["content"]["application/json"]["examples"]["detention"]["value"]
    # The document leaves out members that are null (`follows`).
    template = {k: v for k, v in EXAMPLE.items() if k != "person" and v is not None}
    assert {k: v for k, v in example.items() if k != "subject"} == template
    assert example["subject"]["sex"] == EXAMPLE["person"]["sex"]


# ---- the wire -------------------------------------------------------------------------------


@dataclass
class Callers:
    """Token sources per scope set, made on first use."""

    network: Network
    sources: dict[frozenset[str], TokenSource] = field(default_factory=dict)

    async def token(self, scopes: frozenset[str]) -> str:
        """A token of the narrowest role holding `scopes` (the operator's for admin)."""
        if scopes not in self.sources:
            role = role_for(scopes) if scopes else Role.OPERATOR
            sharing = self.network.sharing
            if role is Role.OPERATOR:
                client = sharing.admin
            else:
                wanted = sorted(scopes & ROLE_SCOPES[role])
                client = await register_client(sharing.http, sharing.admin, wanted)
            self.sources[scopes] = client.source(sharing.http)
        return await self.sources[scopes].token()


@pytest.fixture(scope="module")
def documents() -> dict[str, dict[str, Any]]:
    """The three documents, as apps built (not started) serve them."""
    return {service: service_document(service) for service in SERVICES}


@pytest.fixture(scope="module")
def schemas(documents: dict[str, dict[str, Any]]) -> dict[str, Any]:
    """Schemathesis' view of each document, to validate answers with."""
    return {name: schemathesis.openapi.from_dict(doc) for name, doc in documents.items()}


def _unknown(param: dict[str, Any]) -> str:
    schema = param["schema"]
    if schema.get("type") == "integer":
        return str(schema.get("maximum", 10**9))
    pattern = schema.get("pattern")
    return next(v for v in UNKNOWN_IDS if pattern is None or re.fullmatch(pattern, v))


def _url(op: Operation, values: dict[str, str]) -> str:
    path = op.path
    for name, value in values.items():
        path = path.replace("{" + name + "}", value)
    return path


def _body(op: Operation, components: dict[str, Any]) -> dict[str, Any]:
    content = op.spec.get("requestBody", {}).get("content", {})
    if "application/json" not in content:
        return {}
    media = content["application/json"]
    if media.get("examples"):
        return {"json": next(iter(media["examples"].values()))["value"]}
    return {"json": media.get("example", example_of(media["schema"], components))}


@dataclass
class Wire:
    """Sends requests to the running services and checks each answer against its document."""

    network: Network
    documents: dict[str, dict[str, Any]]
    schemas: dict[str, Any]
    callers: Callers
    seen: dict[str, set[int]] = field(default_factory=dict)
    linked: set[str] = field(default_factory=set)  # operations seen answering `Link`

    async def send(
        self,
        op: Operation,
        *,
        token: str | None,
        path: dict[str, str],
        headers: dict[str, str] | None = None,
        **kwargs: Any,
    ) -> httpx.Response:
        """Send, then check the answer is documented and matches its schema."""
        headers = {**({"Authorization": f"Bearer {token}"} if token else {}), **(headers or {})}
        url = self.network.urls[op.service] + _url(op, path)
        http = self.network.sharing.http
        response = await http.request(op.method.upper(), url, headers=headers, **kwargs)
        self.check(op, response)
        return response

    def check(self, op: Operation, response: httpx.Response) -> None:
        """Status documented, content type as documented, body valid, request id everywhere."""
        status = str(response.status_code)
        assert status in op.spec["responses"], (op.key, status, response.text)
        self.seen.setdefault(op.key, set()).add(response.status_code)
        rid = response.headers.get("x-request-id")
        assert rid, (op.key, status)
        if "link" in response.headers:
            self.linked.add(op.key)
            assert "Link" in op.spec["responses"][status].get("headers", {}), (op.key, status)
            assert re.fullmatch(r'<\?[^<>]*cursor=[^<>]+>; rel="next"', response.headers["link"])
        documented = op.spec["responses"][status].get("content", {})
        kind = response.headers.get("content-type", "").split(";")[0]
        if documented:
            assert kind in documented, (op.key, status, kind)
        if response.status_code >= 400 and kind == PROBLEM_MEDIA_TYPE:
            assert response.json()["request_id"] == rid, op.key
        response.elapsed = timedelta(0)  # Schemathesis reads it; ASGI transports never set it
        self.schemas[op.service][op.path][op.method.upper()].validate_response(response)


def _wrong_scope(op: Operation) -> frozenset[str] | None:
    """A scope whose token this service accepts but which does not grant the operation."""
    alternatives = [frozenset(s for a in alt.values() for s in a) for alt in op.spec["security"]]
    for scope in sorted(ALL_SCOPES):
        granted = any(alt <= {scope} for alt in alternatives)
        if not granted and f"lifeline-{op.service}" in audiences_for([scope]):
            return frozenset({scope})
    return None


@pytest.fixture
async def wire(
    module_network: Network,  # noqa: F811
    documents: dict[str, dict[str, Any]],
    schemas: dict[str, Any],
) -> Wire:
    """The running services with the documents they serve."""
    served = {name: app.openapi() for name, app in module_network.apps.items()}
    assert served == documents
    return Wire(module_network, documents, schemas, Callers(module_network))


@pytest.mark.parametrize("service", SERVICES)
async def test_every_operation_answers_as_documented(wire: Wire, service: str) -> None:
    doc = wire.documents[service]
    components = doc["components"]["schemas"]
    wrong: list[str] = []
    provoked: Counter[int] = Counter()

    def expect(op: Operation, answer: httpx.Response, allowed: set[int], probe: str) -> None:
        provoked[answer.status_code] += 1
        if answer.status_code not in allowed:
            wrong.append(f"{op.key} [{probe}] {answer.status_code}: {answer.text[:160]}")

    for op in operations({service: doc}):
        # The scopes of the first alternative the document lists (any one of them suffices).
        security = op.spec.get("security") or [{}]
        declared = frozenset(s for scopes in security[0].values() for s in scopes)
        params = {p["name"]: _unknown(p) for p in _path_params(op)}
        body = _body(op, components)
        if op.spec.get("security"):
            # No token at all: 401, whatever the route.
            expect(op, await wire.send(op, token=None, path=params, **body), {401}, "no token")
        if _scoped(op) and (scope := _wrong_scope(op)) is not None:
            answer = await wire.send(op, token=await wire.callers.token(scope), path=params, **body)
            expect(op, answer, {403}, f"token with {set(scope)}")
        token = await wire.callers.token(declared) if op.spec.get("security") else None
        if params:
            answer = await wire.send(op, token=token, path=params, **body)
            # With a body, the example may not be one this route accepts: its 422 comes first.
            allowed = {404, 422} if "json" in body else {404}
            expect(op, answer, NOT_LOOKED_UP.get(op.key, allowed), "unknown id")
        if "json" in body:
            answer = await wire.send(op, token=token, path=params, json=[["not", "an object"]])
            expect(op, answer, {422}, "body of the wrong type")
            if answer.status_code == 422 and not answer.json()["fields"]:
                wrong.append(f"{op.key}: a 422 without fields")
        if _idempotent(op):
            key = {"Idempotency-Key": '"short"'}
            answer = await wire.send(op, token=token, path=params, headers=key, **body)
            expect(op, answer, {400}, "malformed Idempotency-Key")
            if answer.status_code == 400:
                assert answer.json()["code"] == "malformed_idempotency_key", op.key
        required = any(p.get("required") for p in op.spec.get("parameters", []))
        if op.key in PAGED:
            answer = await wire.send(op, token=token, path=params, params={"cursor": "x"})
            expect(op, answer, {422}, "a cursor that is none")
            if answer.status_code == 422:
                assert answer.json()["code"] == "invalid_cursor", op.key
        if not required and not body and op.method == "get":
            # One item a page: a list that holds more answers `Link`, checked as documented.
            query = {"params": {"limit": 1}} if op.key in PAGED else {}
            answer = await wire.send(op, token=token, path=params, **query)
            success = {s for s in range(200, 300)}
            expect(op, answer, NO_STATE_YET.get(op.key, success), "success")
    assert wrong == []
    # Each kind of answer was provoked on this service, not just documented.
    assert {401, 403, 404, 422} <= set(provoked), provoked
    assert sum(n for status, n in provoked.items() if status < 300) >= 2, provoked
    if service == "sharing":  # the partners, clients and audit entries the stack starts with
        assert {"sharing GET /v1/admin/partners", "sharing GET /v1/admin/audit"} <= wire.linked
