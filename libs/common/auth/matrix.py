"""The route-by-role matrix: who can reach each route, read from the services' OpenAPI documents.

A role reaches a route when a token of that role is accepted by the route's service (its `aud`,
which follows the role's scopes) and the role's scope bound (`ROLE_SCOPES`) holds every scope of
one of the route's `security` alternatives. The documents carry both (`openapi.py`).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from libs.common.auth.openapi import AUDIENCE_KEY
from libs.common.auth.roles import ROLE_SCOPES, Role
from libs.common.auth.scopes import audiences_for

ANONYMOUS = "anonymous"
# The matrix's columns, in the order the tables show them.
COLUMNS: tuple[str, ...] = (*(r.value for r in Role), ANONYMOUS)
_METHODS = ("get", "put", "post", "delete", "patch", "head", "options", "trace")


class Access(StrEnum):
    """What a caller gets from the auth layer of one route."""

    REACHES = "yes"
    FORBIDDEN = "403"  # a token this service accepts, without the scopes the route needs
    UNAUTHENTICATED = "401"  # no token this service accepts


@dataclass(frozen=True)
class Row:
    """One route of one service and what each column gets there."""

    service: str
    method: str
    path: str
    cells: Mapping[str, Access]

    @property
    def key(self) -> str:
        """`"service METHOD /path"`, how expectation tables name the route."""
        return f"{self.service} {self.method} {self.path}"

    def reached_by(self) -> frozenset[str]:
        """The columns (roles, `anonymous`) the route lets through."""
        return frozenset(c for c, access in self.cells.items() if access is Access.REACHES)


def access(security: list[dict[str, list[str]]] | None, audience: str | None, who: str) -> Access:
    """What `who` (a role, or `anonymous`) gets from a route with this OpenAPI `security`."""
    # No requirement at all (`[]`, or none written: FastAPI then checks nothing) lets anyone in.
    if not security:
        return Access.REACHES
    if who == ANONYMOUS:
        return Access.UNAUTHENTICATED
    bound = ROLE_SCOPES[Role(who)]
    if audience is None or audience not in audiences_for(bound):
        return Access.UNAUTHENTICATED
    for alternative in security:
        if all(set(scopes) <= bound for scopes in alternative.values()):
            return Access.REACHES
    return Access.FORBIDDEN


def matrix(documents: Mapping[str, Mapping[str, Any]]) -> list[Row]:
    """Every operation of every service's OpenAPI document, sorted by service, path, method."""
    rows: list[Row] = []
    for service, document in sorted(documents.items()):
        audience = document.get(AUDIENCE_KEY)
        for path, item in document.get("paths", {}).items():
            for method in _METHODS:
                operation = item.get(method)
                if operation is None:
                    continue
                security = operation.get("security")
                cells = {who: access(security, audience, who) for who in COLUMNS}
                rows.append(Row(service, method.upper(), path, cells))
    return sorted(rows, key=lambda r: (r.service, r.path, _METHODS.index(r.method.lower())))


_SHOWN = {Access.REACHES: "✓", Access.FORBIDDEN: "403", Access.UNAUTHENTICATED: "401"}


def render(rows: list[Row]) -> str:
    """The matrix as a Markdown table: ✓ reaches, 403 scope missing, 401 no usable token."""
    lines = [
        "| service | route | " + " | ".join(COLUMNS) + " |",
        "|---|---|" + "---|" * len(COLUMNS),
    ]
    for row in rows:
        cells = " | ".join(_SHOWN[row.cells[c]] for c in COLUMNS)
        lines.append(f"| {row.service} | `{row.method} {row.path}` | {cells} |")
    return "\n".join(lines) + "\n"
