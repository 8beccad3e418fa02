"""The audit routes' edges: who may fetch checkpoints and proofs, and bad numbers are a 422."""

from __future__ import annotations

import pytest

from libs.common.auth.checkpoint import SignedCheckpoint
from libs.common.crypto.merkle import verify_consistency
from tests.integration.auth.conftest import Sharing

TOO_BIG = 2**63


async def test_any_registered_client_gets_a_checkpoint_and_proofs_that_verify(
    sharing: Sharing,
) -> None:
    lawyer = await sharing.client("watchlist:manage")
    headers = await lawyer.headers(sharing.http)
    resp = await sharing.http.get(sharing.url + "/v1/audit/checkpoint", headers=headers)
    assert resp.status_code == 200, resp.text
    old = SignedCheckpoint.from_json(resp.json())
    # Only sizes and hashes: no actor, action or target of any entry.
    assert set(resp.json()["checkpoint"]) == {"origin", "size", "root_hash", "time"}

    await sharing.admin_call("POST", "/v1/admin/partners", json={"name": "Partner X"})
    resp = await sharing.http.get(sharing.url + "/v1/audit/checkpoint", headers=headers)
    new = SignedCheckpoint.from_json(resp.json())
    first, second = old.checkpoint.size, new.checkpoint.size
    assert second == first + 1
    resp = await sharing.http.get(
        sharing.url + "/v1/audit/consistency",
        params={"first": first, "second": second},
        headers=headers,
    )
    proof = [bytes.fromhex(h) for h in resp.json()["proof"]]
    assert verify_consistency(
        first, second, old.checkpoint.root_hash, new.checkpoint.root_hash, proof
    )


async def test_checkpoints_need_a_token(sharing: Sharing) -> None:
    for path in ("/v1/audit/checkpoint", "/v1/audit/consistency?first=0&second=0"):
        resp = await sharing.http.get(sharing.url + path)
        assert resp.status_code == 401 and resp.json()["error"] == "unauthenticated"


@pytest.mark.parametrize(
    "params,status",
    [
        ({"first": 0, "second": TOO_BIG}, 422),
        ({"first": -1, "second": 1}, 422),
        ({"first": 2, "second": 1}, 422),
        ({"first": 0, "second": 10_000}, 409),  # more entries than the log holds
    ],
)
async def test_consistency_bounds(sharing: Sharing, params: dict[str, int], status: int) -> None:
    resp = await sharing.admin_call("GET", "/v1/audit/consistency", params=params)
    assert resp.status_code == status, resp.text
    assert set(resp.json()) == {"error", "detail", "fields"}


@pytest.mark.parametrize("after", [TOO_BIG, 2**64, -1])
async def test_audit_page_cursor_out_of_range_is_a_422(sharing: Sharing, after: int) -> None:
    resp = await sharing.admin_call("GET", "/v1/admin/audit", params={"after": after})
    assert resp.status_code == 422, resp.text
    assert resp.json()["fields"][0]["path"] == "query.after"
    largest = await sharing.admin_call("GET", "/v1/admin/audit", params={"after": TOO_BIG - 1})
    assert largest.status_code == 200 and largest.json()["entries"] == []
