"""A page's reads are audited in one batched append that still chains like one entry at a time."""

from __future__ import annotations

import asyncio

from libs.common import db
from libs.common.auth.principal import Principal
from services.sharing.vault.domain import Search
from services.sharing.vault.service import ReadService
from tests.integration.vault.conftest import Vault, grant
from tests.integration.vault.test_store import _burst

READABLE = {"fields": ["incident_type", "place.country"], "incident_types": ["detention"]}


def _as(client_id: str, partner_id: str) -> Principal:
    return Principal(
        client_id,
        partner_id,
        frozenset({"reports:read"}),
        "j",
        0,
        0,
        "i",
        ("a",),
        "k",
        "s",
        "reader",
    )


async def _audit(vault: Vault, **params: object) -> list[dict[str, object]]:
    resp = await vault.admin_call("GET", "/v1/admin/audit", params={"limit": 1000, **params})
    assert resp.status_code == 200, resp.text
    entries: list[dict[str, object]] = resp.json()["entries"]
    return entries


async def _verified(vault: Vault) -> dict[str, object]:
    resp = await vault.admin_call("GET", "/v1/admin/audit/verify")
    assert resp.status_code == 200, resp.text
    result: dict[str, object] = resp.json()
    return result


async def test_a_page_read_appends_one_chained_entry_per_report_in_page_order(
    vault: Vault,
) -> None:
    a = await vault.client("reports:read")
    b = await vault.client("reports:read")
    await vault.set_policy(b.partner_id, grant(**READABLE))
    fresh = [vault.event(a.partner_id) for _ in range(12)]
    await _burst(vault, [e for _, e in fresh])
    for report_id, _ in fresh:
        await vault.stored(report_id)
    before = await _audit(vault)

    resp = await vault.call(b, "GET", "/v1/reports", params={"limit": 50})
    assert resp.status_code == 200, resp.text
    listed = [r["report_id"] for r in resp.json()["reports"]]
    assert sorted(listed) == sorted(r for r, _ in fresh)

    new = (await _audit(vault))[len(before) :]
    assert [(e["action"], e["target"], e["actor"]) for e in new] == [
        ("report.read", r, b.client_id) for r in listed
    ]
    seqs = [int(str(e["seq"])) for e in new]
    assert seqs == list(range(seqs[0], seqs[0] + len(listed)))
    previous = before[-1]["hash"] if before else "0" * 64
    for entry in new:
        assert entry["prev_hash"] == previous
        previous = entry["hash"]
    assert (await _verified(vault))["ok"] is True


async def test_concurrent_page_reads_on_two_replicas_keep_one_valid_chain(vault: Vault) -> None:
    a = await vault.client("reports:read")
    readers = [await vault.client("reports:read") for _ in range(2)]
    for reader in readers:
        await vault.set_policy(reader.partner_id, grant(**READABLE))
    fresh = [vault.event(a.partner_id) for _ in range(20)]
    await _burst(vault, [e for _, e in fresh])
    for report_id, _ in fresh:
        await vault.stored(report_id)
    container = vault.app.state.container
    # A second replica: its own engine and sessions on the same database.
    engine = db.create_engine(vault.settings.resolved_database_url())
    other = ReadService(db.session_factory(engine), container.kek)
    try:

        async def over_http(i: int) -> int:
            resp = await vault.call(readers[i % 2], "GET", "/v1/reports", params={"limit": 50})
            assert resp.status_code == 200, resp.text
            return len(resp.json()["reports"])

        async def direct(i: int) -> int:
            reader = readers[i % 2]
            page = await other.search(_as(reader.client_id, reader.partner_id), Search(), None, 50)
            return len(page["reports"])

        counts = await asyncio.gather(*(f(i) for i in range(4) for f in (over_http, direct)))
    finally:
        await engine.dispose()
    assert counts == [len(fresh)] * 8
    reads = await _audit(vault, action="report.read")
    assert len(reads) == 8 * len(fresh)
    result = await _verified(vault)
    assert result["ok"] is True, result
