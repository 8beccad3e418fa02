"""Attacks on the vault with a real database: tampered rows never release content, nor do ids.

Someone with write access to sharing's database (but not the KEK file) moves, flips or cuts
ciphertexts, keys and labels; every read of the affected report then fails closed with one
opaque answer, and nothing of the report reaches the caller.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable

import pytest

from libs.common.crypto.encoding import b64u_encode
from libs.common.crypto.hpke_keys import HpkeSuite, generate_private_key
from libs.common.crypto.kek_file import LocalFileKekProvider
from libs.common.paging import encode_cursor
from tests.integration.vault.conftest import Vault, grant
from tests.support.problems import sameness

NARRATIVE = "Taken off the bus at the border post at night; passport kept by the officers."


async def _blob(vault: Vault, report_id: str, field: str) -> bytes:
    rows = await vault.sql(
        "SELECT ciphertext FROM vault_fields WHERE report_id = :r AND field = :f",
        r=report_id,
        f=field,
    )
    return bytes(rows[0].ciphertext)


async def _set_blob(vault: Vault, report_id: str, field: str, blob: bytes) -> None:
    await vault.sql(
        "UPDATE vault_fields SET ciphertext = :b WHERE report_id = :r AND field = :f",
        b=blob, r=report_id, f=field,
    )  # fmt: skip


async def _wrapped(vault: Vault, report_id: str) -> bytes:
    rows = await vault.sql("SELECT wrapped FROM vault_data_keys WHERE report_id = :r", r=report_id)
    return bytes(rows[0].wrapped)


async def _set_wrapped(vault: Vault, report_id: str, wrapped: bytes) -> None:
    await vault.sql(
        "UPDATE vault_data_keys SET wrapped = :w WHERE report_id = :r", w=wrapped, r=report_id
    )


def _flip(blob: bytes, index: int, mask: int = 0x01) -> bytes:
    data = bytearray(blob)
    data[index] ^= mask
    return bytes(data)


# Each takes (vault, victim report, another report of the same partner, a report of another
# partner) and damages the victim.
Tamper = Callable[[Vault, str, str, str], Awaitable[None]]


async def field_into_other_field(v: Vault, victim: str, _same: str, _other: str) -> None:
    await _set_blob(v, victim, "narrative", await _blob(v, victim, "contact_instructions"))


async def field_from_other_report(v: Vault, victim: str, same: str, _other: str) -> None:
    await _set_blob(v, victim, "narrative", await _blob(v, same, "narrative"))


async def field_from_other_partner(v: Vault, victim: str, _same: str, other: str) -> None:
    await _set_blob(v, victim, "narrative", await _blob(v, other, "narrative"))


async def wrapped_key_from_other_report(v: Vault, victim: str, same: str, _other: str) -> None:
    await _set_wrapped(v, victim, await _wrapped(v, same))


async def data_key_row_from_other_report(v: Vault, victim: str, same: str, _other: str) -> None:
    # Point the victim at the other report's data key and hand it that key row wholesale.
    row = (await v.sql("SELECT data_key_id FROM vault_reports WHERE report_id = :r", r=same))[0]
    await v.sql("DELETE FROM vault_data_keys WHERE report_id = :r", r=victim)
    await v.sql("UPDATE vault_data_keys SET report_id = :v WHERE report_id = :s", v=victim, s=same)
    await v.sql(
        "UPDATE vault_reports SET data_key_id = :k WHERE report_id = :v",
        k=row.data_key_id,
        v=victim,
    )


async def bit_in_ciphertext(v: Vault, victim: str, _same: str, _other: str) -> None:
    await _set_blob(v, victim, "narrative", _flip(await _blob(v, victim, "narrative"), -1))


async def bit_in_nonce(v: Vault, victim: str, _same: str, _other: str) -> None:
    await _set_blob(v, victim, "narrative", _flip(await _blob(v, victim, "narrative"), 5))


async def unknown_format_version(v: Vault, victim: str, _same: str, _other: str) -> None:
    await _set_blob(v, victim, "narrative", _flip(await _blob(v, victim, "narrative"), 0, 0x03))


async def unknown_suite(v: Vault, victim: str, _same: str, _other: str) -> None:
    await _set_blob(v, victim, "narrative", _flip(await _blob(v, victim, "narrative"), 1, 0x03))


async def truncated_ciphertext(v: Vault, victim: str, _same: str, _other: str) -> None:
    await _set_blob(v, victim, "narrative", (await _blob(v, victim, "narrative"))[:-1])


async def bit_in_wrapped_key(v: Vault, victim: str, _same: str, _other: str) -> None:
    await _set_wrapped(v, victim, _flip(await _wrapped(v, victim), -3))


async def relabelled_kek_version(v: Vault, victim: str, _same: str, _other: str) -> None:
    wrapped = await _wrapped(v, victim)  # 0x01 || version u32 || ciphertext
    await _set_wrapped(v, victim, wrapped[:4] + bytes([wrapped[4] ^ 0x03]) + wrapped[5:])


async def unknown_wrapped_format(v: Vault, victim: str, _same: str, _other: str) -> None:
    await _set_wrapped(v, victim, _flip(await _wrapped(v, victim), 0, 0x02))


async def truncated_wrapped_key(v: Vault, victim: str, _same: str, _other: str) -> None:
    await _set_wrapped(v, victim, (await _wrapped(v, victim))[:-1])


async def relabelled_field_kek_version(v: Vault, victim: str, _same: str, _other: str) -> None:
    await v.sql("UPDATE vault_reports SET field_kek_version = 2 WHERE report_id = :r", r=victim)


async def field_row_deleted(v: Vault, victim: str, _same: str, _other: str) -> None:
    await v.sql("DELETE FROM vault_fields WHERE report_id = :r AND field = 'tlp'", r=victim)


async def retired_kek(v: Vault, victim: str, _same: str, _other: str) -> None:
    # The operator rotates, skips the rewrap job and destroys the old KEK behind the API's back
    # (the API refuses while keys still use it; see test_rotation).
    provider = LocalFileKekProvider(v.settings.resolved_kek_file(), create=False)
    provider.promote(provider.stage())
    provider.retire(1)


TAMPERS: dict[str, Tamper] = {f.__name__: f for f in (
    field_into_other_field, field_from_other_report, field_from_other_partner,
    wrapped_key_from_other_report, data_key_row_from_other_report, bit_in_ciphertext,
    bit_in_nonce, unknown_format_version, unknown_suite, truncated_ciphertext,
    bit_in_wrapped_key, relabelled_kek_version, unknown_wrapped_format, truncated_wrapped_key,
    relabelled_field_kek_version, field_row_deleted, retired_kek,
)}  # fmt: skip


@pytest.mark.parametrize("attack", sorted(TAMPERS))
async def test_tampered_storage_fails_closed(vault: Vault, attack: str) -> None:
    a = await vault.client("reports:read", "reports:manage")
    c = await vault.client("reports:read", "reports:manage")
    victim = await vault.submit(a.partner_id, narrative=NARRATIVE)
    same = await vault.submit(a.partner_id, narrative="Another case, another data key.")
    other = await vault.submit(c.partner_id, narrative="A case of another partner.")
    assert (await vault.call(a, "GET", f"/v1/reports/{victim}")).status_code == 200

    await TAMPERS[attack](vault, victim, same, other)

    resp = await vault.call(a, "GET", f"/v1/reports/{victim}")
    assert resp.status_code == 500, resp.text
    body = resp.json()
    assert (body["code"], body["detail"], body["fields"]) == (
        "report_unreadable",
        "the stored report failed its integrity check",
        [],
    )
    assert resp.headers["content-type"] == "application/problem+json"
    # In a listing the damaged report is named without content; the others are unaffected.
    page = (await vault.call(a, "GET", "/v1/reports")).json()["reports"]
    by_id = {r["report_id"]: r for r in page}
    assert by_id[victim] == {"report_id": victim, "unreadable": True}
    assert NARRATIVE not in str(page)
    if attack not in {
        "retired_kek",
        "wrapped_key_from_other_report",
        "data_key_row_from_other_report",
    }:
        assert by_id[same]["report"]["narrative"] == "Another case, another data key."
    # Nothing was released, so nothing was logged as read.
    reads = (await vault.call(a, "GET", f"/v1/reports/{victim}/reads")).json()
    assert len(reads) == 1


async def test_relabelled_routing_columns_never_widen_access(vault: Vault) -> None:
    a = await vault.client("reports:read", "reports:manage")
    b = await vault.client("reports:read", "reports:manage")
    await vault.set_policy(
        b.partner_id, grant(fields=["incident_type", "narrative"], max_tlp="GREEN")
    )
    red = await vault.submit(a.partner_id, tlp="RED", narrative=NARRATIVE)
    kz = await vault.submit(a.partner_id, tlp="GREEN", place={"country": "KZ"})
    assert (await vault.call(b, "GET", f"/v1/reports/{red}")).status_code == 404
    # The clear labels decide policy; an attacker edits them to make B a reader.
    await vault.sql("UPDATE vault_reports SET tlp = 'CLEAR' WHERE report_id = :r", r=red)
    await vault.sql("UPDATE vault_reports SET country = 'KG' WHERE report_id = :r", r=kz)
    for report_id in (red, kz):
        resp = await vault.call(b, "GET", f"/v1/reports/{report_id}")
        assert resp.status_code == 500 and resp.json()["code"] == "report_unreadable"
        assert NARRATIVE not in resp.text
    listed = (await vault.call(b, "GET", "/v1/reports")).json()["reports"]
    assert all("report" not in r for r in listed) and NARRATIVE not in str(listed)


async def test_partner_b_never_reaches_partner_a_report(vault: Vault) -> None:
    a = await vault.client("reports:read", "reports:manage")
    b = await vault.client("reports:read", "reports:manage")
    await vault.set_policy(
        b.partner_id, grant(countries=["DE"])
    )  # some policy, not for A's KG report
    report_id = await vault.submit(a.partner_id, narrative=NARRATIVE)
    key = generate_private_key(HpkeSuite.X25519)
    await vault.call(
        b, "POST", "/v1/partners/me/hpke-keys", json={"public_key": key.public_key.text}
    )
    not_found = sameness(
        await vault.call(b, "GET", "/v1/reports/00000000-0000-0000-0000-000000000000")
    )

    by_id = await vault.call(b, "GET", f"/v1/reports/{report_id}")
    sealed = await vault.call(
        b, "GET", f"/v1/reports/{report_id}", params={"sealed_to": b64u_encode(key.key_id)}
    )
    reads = await vault.call(b, "GET", f"/v1/reports/{report_id}/reads")
    grants = await vault.call(b, "GET", f"/v1/reports/{report_id}/grants")
    erase = await vault.call(b, "DELETE", f"/v1/reports/{report_id}")
    for resp in (by_id, sealed, reads, grants, erase):
        assert resp.status_code == 404 and sameness(resp) == not_found, resp.text
    for params in (
        {},
        {"country": "KG"},
        {"incident_type": "detention", "legal_basis": "cis_interstate_search"},
        {"occurred_from": "2020-01-01"},
        {"cursor": encode_cursor("reports", (0, ""))},
        {"cursor": encode_cursor("reports", (0, report_id[:-1]))},
    ):
        page = await vault.call(b, "GET", "/v1/reports", params=params)
        assert page.status_code == 200 and report_id not in page.text, params
    # A's report id guessed into B's own grant request goes nowhere either.
    body = {"partner_id": b.partner_id, "fields": ["narrative"]}
    assert (
        await vault.call(b, "POST", f"/v1/reports/{report_id}/grants", json=body)
    ).status_code == 404
    assert (await vault.call(b, "GET", f"/v1/reports/{report_id}")).status_code == 404
