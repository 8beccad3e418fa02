"""The route-by-role matrix of the three services meets `tests/support/role_matrix.py` exactly."""

from __future__ import annotations

from pathlib import Path

import pytest

from libs.common.auth.fastapi import other_routes
from libs.common.auth.matrix import Row, matrix, render
from lifeline.routes import openapi_documents, service_apps, with_matrix
from tests.support.role_matrix import EXPECTED, OUTSIDE_THE_MATRIX, expected_roles, line_for

TABLE = "tests/support/role_matrix.py"
DOCS = Path(__file__).resolve().parents[3] / "docs" / "auth.md"


@pytest.fixture(scope="module")
def rows(tmp_path_factory: pytest.TempPathFactory) -> list[Row]:
    """The matrix generated from the services' OpenAPI documents (as `make routes` prints it)."""
    return matrix(openapi_documents(tmp_path_factory.mktemp("apps")))


def test_every_route_is_classified(rows: list[Row]) -> None:
    assert len(rows) > 60  # the three services' routes are really seen
    missing = [r for r in rows if expected_roles(r.key) is None]
    assert not missing, (
        f"routes not classified in {TABLE}. Add a line for each in its service's block, naming "
        "only the roles that should reach it (today's reach is shown; narrow the route's "
        "scopes if a role there should not have it), then run `make docs`:\n"
        + "\n".join(line_for(r.key, r.reached_by()) for r in missing)
    )


def test_no_role_reaches_a_route_it_should_not(rows: list[Row]) -> None:
    over = {
        r.key: sorted(r.reached_by() - (expected_roles(r.key) or frozenset()))
        for r in rows
        if expected_roles(r.key) is not None
    }
    over = {route: roles for route, roles in over.items() if roles}
    assert not over, (
        "these roles reach routes they should not (narrow the route's scopes or add the "
        f"missing check; change {TABLE} only if the role really needs the route):\n"
        + "\n".join(f"    {route}: {', '.join(roles)}" for route, roles in over.items())
    )


def test_every_expected_role_reaches_its_route(rows: list[Row]) -> None:
    # The table stays the truth: a role it names that cannot reach the route is a stale line.
    stale = [
        line_for(r.key, r.reached_by())
        for r in rows
        if (expected_roles(r.key) or frozenset()) - r.reached_by()
    ]
    assert not stale, f"{TABLE} names roles that cannot reach; today's lines:\n" + "\n".join(stale)


def test_the_table_names_no_route_that_is_gone(rows: list[Row]) -> None:
    gone = sorted(set(EXPECTED) - {r.key for r in rows})
    assert not gone, f"remove these lines from {TABLE} (no such route):\n" + "\n".join(gone)


def test_the_published_documents_carry_the_scopes(tmp_path: Path) -> None:
    documents = openapi_documents(tmp_path)
    receipt = documents["intake"]["paths"]["/v1/reports/{report_id}/receipt"]["get"]
    assert receipt["security"] == [{"HTTPBearer": ["reports:submit"]}]
    assert documents["alerts"]["x-lifeline-audience"] == "lifeline-alerts"


def test_the_docs_show_the_matrix(rows: list[Row]) -> None:
    text = DOCS.read_text()
    assert with_matrix(text, render(rows)) == text, "run `make docs` to regenerate the matrix"


def test_no_route_is_outside_the_matrix(tmp_path: Path) -> None:
    # A plain route or a mount has no dependencies, so neither scopes nor the matrix see it.
    for name, app in service_apps(tmp_path).items():
        assert other_routes(app) == OUTSIDE_THE_MATRIX, name
