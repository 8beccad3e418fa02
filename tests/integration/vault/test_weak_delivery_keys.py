"""Low-order X25519 delivery keys: refused at registration, and a clean 4xx if one is stored."""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy.ext.asyncio import AsyncSession

from libs.common.crypto.encoding import b64u_encode, fingerprint_of, key_id_of
from libs.common.crypto.hpke_keys import HpkeSuite, generate_private_key
from services.sharing.vault.delivery import repository as drepo
from tests.integration.vault.conftest import Vault, grant
from tests.support.weak_keys import X25519_LOW_ORDER_CANONICAL, X25519_LOW_ORDER_NON_CANONICAL

LOW_ORDER = [bytes.fromhex(h) for h in X25519_LOW_ORDER_CANONICAL + X25519_LOW_ORDER_NON_CANONICAL]


def _texts(raw: bytes) -> list[str]:
    """The low-order u as an X25519 key and as the X25519 half of a hybrid key."""
    ml_kem = generate_private_key(HpkeSuite.MLKEM768_X25519).public_key.raw[:-32]
    return [
        "hpke-v1:pub:x25519:" + b64u_encode(raw),
        "hpke-v1:pub:mlkem768x25519:" + b64u_encode(ml_kem + raw),
    ]


async def test_a_low_order_delivery_key_is_refused(vault: Vault) -> None:
    b = await vault.client("reports:read")
    for raw in LOW_ORDER:
        for text in _texts(raw):
            resp = await vault.call(
                b, "POST", "/v1/partners/me/hpke-keys", json={"public_key": text}
            )
            assert resp.status_code == 422, (text[:40], resp.text)
            assert resp.json()["code"] == "weak_key"
    assert (await vault.call(b, "GET", "/v1/partners/me/hpke-keys")).json() == []


async def test_a_sealed_read_to_a_stored_low_order_key_is_a_clean_422(vault: Vault) -> None:
    a = await vault.client("reports:read")
    b = await vault.client("reports:read")
    await vault.set_policy(b.partner_id, grant(fields=["incident_type", "narrative"]))
    report_id = await vault.submit(a.partner_id)
    kids = []
    # Planted behind the API's back, as a key registered before keys were checked would be.
    async with AsyncSession(vault.engine) as session, session.begin():
        for text in _texts(bytes(32)):
            kid = b64u_encode(key_id_of(text))
            kids.append(kid)
            values = {
                "kid": kid,
                "partner_id": b.partner_id,
                "suite": text.split(":")[2],
                "public_key": text,
                "fingerprint": fingerprint_of(text),
                "created_at": datetime.now(UTC),
                "created_by": b.client_id,
            }
            await drepo.insert_delivery_key(session, values)
    for kid in kids:
        # Before the fix: 500 (OpenSSL refuses the all-zero shared secret with a ValueError).
        resp = await vault.call(b, "GET", f"/v1/reports/{report_id}", params={"sealed_to": kid})
        assert resp.status_code == 422, resp.text
        assert resp.json()["code"] == "weak_key" and "sealed" not in resp.json()
    # Nothing was delivered, so no sealed read is on the submitter's record; the key is listed
    # so that the partner can see and revoke it.
    reads = (await vault.call(a, "GET", f"/v1/reports/{report_id}/reads")).json()
    assert [r for r in reads if r["via"] == "sealed"] == []
    listed = (await vault.call(b, "GET", "/v1/partners/me/hpke-keys")).json()
    assert sorted(k["kid"] for k in listed) == sorted(kids)
    for kid in kids:
        deleted = await vault.call(b, "DELETE", f"/v1/partners/me/hpke-keys/{kid}")
        assert deleted.status_code == 204
