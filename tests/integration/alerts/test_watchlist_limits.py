"""A watchlist has a size: a lawyer's caseload fits, a leaked list of thousands does not."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from tests.integration.alerts.conftest import AlertsStack, alerts_stack_on
from tests.support.natsd import NatsServer
from tests.support.reports import token_value


def _entry(label: str) -> dict[str, Any]:
    return {"label": label, "tokens": [{"kind": "name_dob", "version": 1, "value": token_value()}]}


async def _add(stack: AlertsStack, label: str, lawyer: str, org: str = "bar-1") -> Any:
    return await stack.call(
        "POST", "/v1/watchlist/entries", client_id=lawyer, org=org, json=_entry(label)
    )


async def test_a_lawyer_and_a_partner_hold_no_more_entries_than_their_limits(
    nats_server: NatsServer, db_url_factory: Any, tmp_path: Path
) -> None:
    async with alerts_stack_on(
        nats_server.url,
        db_url_factory("alerts"),
        tmp_path,
        watchlist_max_per_lawyer=3,
        watchlist_max_per_partner=5,
    ) as stack:
        for n in range(3):
            assert (await _add(stack, f"client {n}", "lawyer-1")).status_code == 201
        full = await _add(stack, "client 3", "lawyer-1")
        assert full.status_code == 409, full.text
        assert full.json()["code"] == "watchlist_full"
        # Re-sending an entry it holds is not a new entry; removing one makes room.
        listed = (await stack.call("GET", "/v1/watchlist/entries", client_id="lawyer-1")).json()
        first = listed["entries"][0]["id"]
        gone = await stack.call("DELETE", f"/v1/watchlist/entries/{first}", client_id="lawyer-1")
        assert gone.status_code == 204, gone.text
        assert (await _add(stack, "client 3", "lawyer-1")).status_code == 201
        # The partner's lawyers together: two more fit, the sixth does not; another partner's do.
        for n in range(2):
            assert (await _add(stack, f"other {n}", "lawyer-2")).status_code == 201
        crowded = await _add(stack, "other 2", "lawyer-2")
        assert crowded.status_code == 409 and crowded.json()["code"] == "watchlist_full"
        elsewhere = await _add(stack, "client 0", "lawyer-9", org="bar-2")
        assert elsewhere.status_code == 201, elsewhere.text
