"""Every route of the matrix, called with a real token of each role (and none), on real services.

Path parameters are placeholders: this is about the auth layer. A route the matrix says a role
cannot reach must answer 403 (a token for the service without the scope) or 401 (no token the
service accepts) — never 2xx, 404 or 500; a route it can reach must not answer 401 or 403.
About 500 requests to the three services in process: a few seconds.
"""

from __future__ import annotations

import re

import httpx

from libs.common.auth.matrix import ANONYMOUS, Access, Row, matrix
from libs.common.auth.roles import ROLE_SCOPES, Role
from tests.integration.auth.conftest import Network
from tests.support.role_matrix import expected_roles

_PARAM = re.compile(r"\{[^}]+\}")
_STATUS = {Access.FORBIDDEN: 403, Access.UNAUTHENTICATED: 401}


async def _tokens(network: Network) -> dict[str, str]:
    """One real access token per role, with every scope the role may hold."""
    sharing = network.sharing
    tokens = {Role.OPERATOR.value: await sharing.admin.token(sharing.http)}  # the bootstrap admin
    created = await sharing.admin_call("POST", "/v1/admin/partners", json={"name": "NGO"})
    partner = created.json()["id"]
    for role in (Role.SUBMITTER, Role.READER, Role.LAWYER, Role.PARTNER_ADMIN):
        client = await sharing.client(*sorted(ROLE_SCOPES[role]), role=role, partner_id=partner)
        tokens[role.value] = await client.token(sharing.http)
    return tokens


async def _call(http: httpx.AsyncClient, base: str, row: Row, token: str | None) -> int:
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    path = _PARAM.sub("placeholder0", row.path)
    response = await http.request(row.method, base + path, headers=headers)
    return response.status_code


async def test_each_role_reaches_exactly_its_routes(network: Network) -> None:
    tokens = await _tokens(network)
    # The running services' own documents, which must say what the committed table says.
    rows = matrix({name: app.openapi() for name, app in network.apps.items()})
    assert {r.service for r in rows} == {"intake", "sharing", "alerts"} and len(rows) > 60
    assert [r.key for r in rows if r.reached_by() != expected_roles(r.key)] == []
    wrong: list[str] = []
    # The operator last: a few admin routes act without a body (the KEK rewrap, the ping).
    for who in ("submitter", "reader", "lawyer", "partner_admin", ANONYMOUS, "operator"):
        for row in rows:
            status = await _call(
                network.sharing.http, network.urls[row.service], row, tokens.get(who)
            )
            access = row.cells[who]
            if access is Access.REACHES:
                ok = status not in (401, 403) and status < 500
            else:
                ok = status == _STATUS[access]
            if not ok:
                wrong.append(f"{who}: {row.method} {row.service}{row.path} -> {status} ({access})")
    assert wrong == []
