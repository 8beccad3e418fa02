"""Erasure: crypto-shredding by the submitter or an admin, 410 afterwards, nothing left in a dump."""

from __future__ import annotations

import asyncio
from pathlib import Path

from nats.js.api import ConsumerConfig, DeliverPolicy
from sqlalchemy.engine import make_url

from libs.common.events import Envelope
from libs.common.subjects import REPORT_ERASED
from tests.integration.vault.conftest import Vault, grant
from tests.support.reports import report_body

NARRATIVE = "Held in the transit zone of Manas airport by two officers in plain clothes."


NEW_ONLY = ConsumerConfig(deliver_policy=DeliverPolicy.NEW)  # not earlier tests' events


async def raw_copy(vault: Vault) -> bytes:
    """Everything an attacker who copies the database gets, as bytes.

    SQLite: the database file with its WAL and shared memory. PostgreSQL: every row of every
    table of sharing's database as text (bytea as hex, so binary values are searched as hex too).
    """
    url = make_url(vault.settings.resolved_database_url())
    if url.get_backend_name() == "sqlite":
        path = Path(str(url.database))
        parts = [
            p.read_bytes() for p in (path, Path(f"{path}-wal"), Path(f"{path}-shm")) if p.exists()
        ]
        return b"".join(parts)
    tables = await vault.sql(
        "SELECT table_name FROM information_schema.tables WHERE table_schema = 'public'"
    )
    dump = []
    for (table,) in tables:
        for (row,) in await vault.sql(f'SELECT t::text FROM "{table}" t'):
            dump.append(row)
    return "\n".join(dump).encode()


def contains(dump: bytes, secret: bytes, backend: str) -> bool:
    """Search raw bytes, or their hex form in a PostgreSQL text dump."""
    return secret in dump or (backend == "postgresql" and secret.hex().encode() in dump)


async def test_erasure_crypto_shreds_the_report(vault: Vault) -> None:
    a = await vault.client("reports:read", "reports:manage")
    a_submitter = await vault.client("reports:submit", partner_id=a.partner_id)
    b = await vault.client("reports:read", "reports:manage")
    c = await vault.client("reports:read", "reports:manage")
    await vault.set_policy(b.partner_id, grant(fields=["incident_type", "narrative"]))
    sub = await vault.nc.jetstream().subscribe(
        REPORT_ERASED, ordered_consumer=True, config=NEW_ONLY
    )
    report_id = await vault.submit(a.partner_id, narrative=NARRATIVE)
    assert (await vault.call(b, "GET", f"/v1/reports/{report_id}")).json()["report"][
        "narrative"
    ] == NARRATIVE
    backend = make_url(vault.settings.resolved_database_url()).get_backend_name()

    key = (
        await vault.sql("SELECT wrapped FROM vault_data_keys WHERE report_id = :r", r=report_id)
    )[0]
    wrapped = bytes(key.wrapped)
    blobs = [
        bytes(r.ciphertext)
        for r in await vault.sql(
            "SELECT ciphertext FROM vault_fields WHERE report_id = :r", r=report_id
        )
    ]
    before = await raw_copy(vault)
    assert NARRATIVE.encode() not in before and b"Manas airport" not in before
    assert contains(before, wrapped, backend)  # the scan does see stored bytes

    # Only the submitter or an administrator erases: a reader of it gets 403, a stranger 404.
    assert (await vault.call(b, "DELETE", f"/v1/reports/{report_id}")).status_code == 403
    assert (await vault.call(c, "DELETE", f"/v1/reports/{report_id}")).status_code == 404
    # The submitting partner's write-only key may not (docs/auth.md, roles); its manager may.
    assert (await vault.call(a_submitter, "DELETE", f"/v1/reports/{report_id}")).status_code == 403
    resp = await vault.call(a, "DELETE", f"/v1/reports/{report_id}")
    assert resp.status_code == 200, resp.text
    assert resp.json()["report_id"] == report_id

    for _ in range(100):
        erased = Envelope.model_validate_json((await sub.next_msg(timeout=10)).data)
        if erased.data["report_id"] == report_id:
            break
    assert erased.data == {"report_id": report_id, "partner_id": a.partner_id}

    # Later reads: 410 for whoever could see it, still 404 for whoever could not.
    for reader, status in ((a, 410), (b, 410), (c, 404)):
        got = await vault.call(reader, "GET", f"/v1/reports/{report_id}")
        assert got.status_code == status, (reader.partner_id, got.text)
    assert (await vault.call(a, "DELETE", f"/v1/reports/{report_id}")).status_code == 410
    listed = (await vault.call(b, "GET", "/v1/reports")).json()["reports"]
    assert [(r["report_id"], "erased_at" in r, "report" in r) for r in listed] == [
        (report_id, True, False)
    ]
    # The read log stays: the submitter can still answer for who read it.
    assert len((await vault.call(a, "GET", f"/v1/reports/{report_id}/reads")).json()) == 1

    # Nothing decryptable is left: no wrapped copy of the key, no field ciphertext.
    assert await vault.sql("SELECT * FROM vault_data_keys WHERE report_id = :r", r=report_id) == []
    assert await vault.sql("SELECT * FROM vault_fields WHERE report_id = :r", r=report_id) == []
    await asyncio.sleep(0.2)
    after = await raw_copy(vault)
    assert NARRATIVE.encode() not in after
    assert not contains(after, wrapped, backend)
    assert not any(contains(after, blob, backend) for blob in blobs)
    audit = (await vault.admin_call("GET", "/v1/admin/audit", params={"limit": 1000})).json()
    assert [e["target"] for e in audit["entries"] if e["action"] == "report.erase"] == [report_id]


async def test_an_administrator_may_erase_any_report(vault: Vault) -> None:
    a = await vault.client("reports:read", "reports:manage")
    report_id = await vault.submit(a.partner_id, **{"narrative": report_body()["narrative"]})
    resp = await vault.admin_call("DELETE", f"/v1/reports/{report_id}")
    assert resp.status_code == 200, resp.text
    assert (await vault.call(a, "GET", f"/v1/reports/{report_id}")).status_code == 410
    row = (
        await vault.sql("SELECT erased_by FROM vault_reports WHERE report_id = :r", r=report_id)
    )[0]
    assert row.erased_by == vault.admin.client_id
