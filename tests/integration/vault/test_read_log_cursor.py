"""The read log's cursor: a number past what the database holds is a 422, never a 500."""

from __future__ import annotations

import pytest

from tests.integration.vault.conftest import Vault


@pytest.mark.parametrize("after", [2**63, 2**64, -1])
async def test_read_log_cursor_out_of_range_is_a_422(vault: Vault, after: int) -> None:
    owner = await vault.client("reports:read")
    report_id = await vault.submit(owner.partner_id)
    path = f"/v1/reports/{report_id}/reads"
    resp = await vault.call(owner, "GET", path, params={"after": after})
    assert resp.status_code == 422, resp.text
    assert resp.json()["code"] == "invalid_input"
    assert resp.json()["fields"][0]["path"] == "query.after"
    largest = await vault.call(owner, "GET", path, params={"after": 2**63 - 1})
    assert largest.status_code == 200 and largest.json() == []
