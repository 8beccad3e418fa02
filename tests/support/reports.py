"""Example report bodies for tests (tokens are random: no real identity behind them)."""

from __future__ import annotations

import base64
import os
import uuid
from typing import Any

from libs.common.reports import CATALOGUE, Line, ReportField

# A field the catalogue gains after today's, for the tests of growing it. Its name is one no
# real field will take, so adding a real field never breaks these tests.
LATER_FIELD = ReportField(
    "later_field",
    "a field added after today's catalogue (tests only)",
    "2026/117-K",
    spec=(Line | None, None),
    since=CATALOGUE.version + 1,
)
GROWN = CATALOGUE.grown(LATER_FIELD)


def token_value() -> str:
    """A random 64-byte OPRF output in base64url, like a real token."""
    return base64.urlsafe_b64encode(os.urandom(64)).rstrip(b"=").decode()


def report_body(**overrides: Any) -> dict[str, Any]:
    """A valid detention report on a CIS interstate-search request."""
    body: dict[str, Any] = {
        "client_report_id": f"case-{uuid.uuid4().hex[:12]}",
        "incident_type": "detention",
        "legal_basis": "cis_interstate_search",
        "occurred_at": "2026-11-20T06:40:00+06:00",
        "place": {"country": "KG", "locality": "Bishkek", "facility_kind": "airport"},
        "requesting_state": "RU",
        "charges": [{"state": "RU", "code": "CC", "article": "207.3"}],
        "detaining_authority": "Airport border service",
        "status": "ongoing",
        "tlp": "AMBER",
        "narrative": "Detained at passport control on arrival; phone taken.",
        "contact_instructions": "Call the duty lawyer of the partner.",
        "subject": {
            "tokens": [{"kind": "full_dob", "version": 1, "value": token_value()}],
            "sex": "male",
        },
    }
    body.update(overrides)
    return body
