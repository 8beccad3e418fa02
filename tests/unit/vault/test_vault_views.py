"""Read-side rules: the reader's role, what a view shows, search on visible fields, the cursor."""

from __future__ import annotations

from datetime import UTC, date, datetime
from types import SimpleNamespace

import pytest

from libs.common.auth.principal import Principal
from libs.common.crypto.encoding import b64u_encode
from libs.common.errors import InvalidCursor, InvalidInput
from libs.common.reports import CATALOGUE as REPORT_FIELDS
from services.sharing.vault.domain import (
    Search,
    from_us,
    legacy_cursor,
    reader_of,
    report_view,
    search_allowed,
    to_us,
    tombstone_view,
    validate_dates,
)
from services.sharing.vault.policy.domain import Decision, readable

FIELDS = REPORT_FIELDS.grantable
CATALOGUE = readable(REPORT_FIELDS)


def _principal(*scopes: str, role: str = "reader") -> Principal:
    scope_set = frozenset(scopes)
    return Principal("cli_1", "ptn_b", scope_set, "j", 0, 0, "iss", ("aud",), "k", "s", role)


def _row(**kw: object) -> SimpleNamespace:
    base: dict[str, object] = {
        "report_id": "r-1",
        "partner_id": "ptn_a",
        "client_report_id": "case-1",
        "received_at": datetime(2026, 1, 1, tzinfo=UTC),
        "stored_at": datetime(2026, 1, 1, 0, 0, 1),  # SQLite hands back naive UTC
        "updated_us": to_us(datetime(2026, 1, 1, 0, 0, 2, tzinfo=UTC)),
        "erased_at": None,
        "follows": None,
    }
    return SimpleNamespace(**(base | kw))


@pytest.mark.parametrize("role", ["reader", "lawyer", "partner_admin"])
def test_the_reader_is_the_registered_role_whatever_the_scopes(role: str) -> None:
    # A lawyer's token that asked only for reports:read is still a lawyer's.
    reader = reader_of(_principal("reports:read", role=role))
    assert (reader.partner, reader.role) == ("ptn_b", role)


def test_a_view_has_permitted_fields_only_and_names_the_withheld() -> None:
    decision = Decision(visible=True, fields=frozenset({"place.country", "incident_type"}))
    view = report_view(_row(), decision, {"incident_type": "detention", "place.country": "KG"})
    assert view["report"] == {"incident_type": "detention", "place": {"country": "KG"}}
    assert view["withheld"] == [f for f in FIELDS if f not in decision.fields]
    assert "client_report_id" not in view and view["submitter"] is False
    assert view["stored_at"] == "2026-01-01T00:00:01+00:00"
    own = Decision(visible=True, fields=CATALOGUE, submitter=True)
    assert report_view(_row(), own, {})["client_report_id"] == "case-1"
    gone = tombstone_view(_row(erased_at=datetime(2026, 2, 1)))
    assert gone["erased_at"] == "2026-02-01T00:00:00+00:00" and "report" not in gone


def test_filters_only_match_where_their_field_is_visible() -> None:
    only_type = Decision(visible=True, fields=frozenset({"incident_type"}))
    assert search_allowed(Search(), only_type)
    assert search_allowed(Search(incident_type="detention"), only_type)
    assert not search_allowed(Search(country="KG"), only_type)
    assert not search_allowed(Search(legal_basis="unknown"), only_type)
    assert not search_allowed(Search(occurred_from=date(2026, 1, 1)), only_type)
    assert search_allowed(
        Search(occurred_to=date(2026, 1, 1)), Decision(True, frozenset({"occurred_at"}))
    )


def test_legacy_sync_cursors_still_read_and_junk_is_a_422() -> None:
    for pos in ((0, ""), (1_767_225_600_000_000, "0b7f1c9e-5a4e-4a53-9d2b-1f6f0c2b9a11")):
        assert legacy_cursor(b64u_encode(f"v1:{pos[0]}:{pos[1]}".encode())) == pos
    for bad in (
        "",
        "x",
        "v1:1:a",
        b64u_encode(b"v1:1:a") + "A",
        "A" * 200,
        "djE6LTE6YQ",
        "djE6MTph/w",
    ):
        with pytest.raises(InvalidCursor):
            legacy_cursor(bad)


def test_microsecond_stamps_are_exact() -> None:
    moment = datetime(2026, 11, 20, 6, 40, 0, 123457, tzinfo=UTC)
    assert from_us(to_us(moment)) == moment
    with pytest.raises(InvalidInput):
        validate_dates(date(2026, 2, 1), date(2026, 1, 1))
    validate_dates(date(2026, 1, 1), date(2026, 1, 1))
