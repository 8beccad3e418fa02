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
        assert resp.status_code == 401 and resp.json()["code"] == "unauthenticated"


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
    assert resp.headers["content-type"] == "application/problem+json"
    assert set(resp.json()) >= {"type", "status", "code", "detail", "fields", "request_id"}


@pytest.mark.parametrize("after", [TOO_BIG, 2**64, -1])
async def test_audit_page_cursor_out_of_range_is_a_422(sharing: Sharing, after: int) -> None:
    resp = await sharing.admin_call("GET", "/v1/admin/audit", params={"after": after})
    assert resp.status_code == 422, resp.text
    assert resp.json()["fields"][0]["path"] == "query.after"
    largest = await sharing.admin_call("GET", "/v1/admin/audit", params={"after": TOO_BIG - 1})
    assert largest.status_code == 200 and largest.json()["entries"] == []


async def test_the_audit_log_newest_first_and_filtered(sharing: Sharing) -> None:
    for name in ("Partner A", "Partner B", "Partner C"):
        made = await sharing.admin_call("POST", "/v1/admin/partners", json={"name": name})
        assert made.status_code == 201, made.text
    everything = (await sharing.admin_call("GET", "/v1/admin/audit")).json()["entries"]
    newest = await sharing.admin_call(
        "GET", "/v1/admin/audit", params={"order": "desc", "limit": 2}
    )
    page = newest.json()
    assert [e["seq"] for e in page["entries"]] == [everything[-1]["seq"], everything[-2]["seq"]]
    assert page["next_before"] == everything[-2]["seq"] and page["next_after"] is None
    older = await sharing.admin_call("GET", "/v1/admin/audit",
                                     params={"order": "desc", "before": page["next_before"]})  # fmt: skip
    assert [e["seq"] for e in older.json()["entries"]] == [
        e["seq"] for e in reversed(everything[:-2])
    ]

    created = [e for e in everything if e["action"] == "partner.create"]
    by_prefix = await sharing.admin_call("GET", "/v1/admin/audit", params={"action": "partner."})
    assert {e["action"] for e in by_prefix.json()["entries"]} <= {
        e["action"] for e in everything if e["action"].startswith("partner.")
    }
    exact = await sharing.admin_call(
        "GET",
        "/v1/admin/audit",
        params={"action": "partner.create", "target": created[-1]["target"]},
    )
    assert [e["seq"] for e in exact.json()["entries"]] == [created[-1]["seq"]]
    actor = created[-1]["actor"]
    mine = await sharing.admin_call("GET", "/v1/admin/audit", params={"actor": actor})
    assert {e["actor"] for e in mine.json()["entries"]} == {actor}
    nobody = await sharing.admin_call("GET", "/v1/admin/audit", params={"actor": "cli_nobody"})
    assert nobody.json()["entries"] == []

    at = created[-1]["at"]
    since = await sharing.admin_call("GET", "/v1/admin/audit", params={"since": at})
    assert [e["seq"] for e in since.json()["entries"]] == [
        e["seq"] for e in everything if e["at"] >= at
    ]
    # A time without an offset is UTC, like the log's own.
    until = await sharing.admin_call("GET", "/v1/admin/audit", params={"until": at[:19]})
    assert all(e["at"][:19] <= at[:19] for e in until.json()["entries"])
    future = await sharing.admin_call(
        "GET", "/v1/admin/audit", params={"since": "2999-01-01T00:00Z"}
    )
    assert future.json()["entries"] == []


@pytest.mark.parametrize(
    "params",
    [{"order": "newest"}, {"action": "POLICY"}, {"before": 0}, {"since": "yesterday"}],
)
async def test_a_bad_audit_filter_is_a_422(sharing: Sharing, params: dict[str, object]) -> None:
    resp = await sharing.admin_call("GET", "/v1/admin/audit", params=params)
    assert resp.status_code == 422, resp.text
