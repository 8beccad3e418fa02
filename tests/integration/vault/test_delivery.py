"""Sealed delivery: partners' HPKE keys, reads sealed to them, signed by sharing, opened by the CLI."""

from __future__ import annotations

import json
import os
import stat
from pathlib import Path

import pytest

from libs.common.crypto import hpke
from libs.common.crypto.encoding import b64u_decode, b64u_encode
from libs.common.crypto.errors import DecryptionFailed, SignatureInvalid
from libs.common.crypto.hpke_keys import HpkeSuite, dump_private_key, generate_private_key
from libs.common.crypto.signing import generate_signing_key, load_verify_key
from lifeline.cli.report_read import open_delivery
from tests.integration.vault.conftest import Vault, cli, cli_json, grant

POLICY = {"fields": ["incident_type", "place.country", "narrative"]}


async def _signers(vault: Vault) -> list:  # type: ignore[type-arg]
    resp = await vault.http.get(vault.url + "/.well-known/lifeline/delivery-signing-keys")
    assert resp.status_code == 200
    return [load_verify_key(k["public_key"]) for k in resp.json()["keys"]]


async def test_sealed_reads_open_only_for_the_recipient_and_delivery(vault: Vault) -> None:
    a = await vault.client("reports:read", "reports:manage")
    b = await vault.client("reports:read", "reports:manage")
    c = await vault.client("reports:read", "reports:manage")
    await vault.set_policy(b.partner_id, grant(**POLICY))
    await vault.set_policy(c.partner_id, grant(**POLICY))
    report_id = await vault.submit(a.partner_id)
    b_key, c_key = generate_private_key(), generate_private_key(HpkeSuite.X25519)
    for client, key in ((b, b_key), (c, c_key)):
        resp = await vault.call(
            client, "POST", "/v1/partners/me/hpke-keys", json={"public_key": key.public_key.text}
        )
        assert resp.status_code == 201, resp.text
        assert resp.json()["suite"] == key.suite.label
        assert resp.json()["fingerprint"] == key.public_key.fingerprint()
    b_kid, c_kid = b64u_encode(b_key.key_id), b64u_encode(c_key.key_id)
    trusted = await _signers(vault)

    resp = await vault.call(b, "GET", f"/v1/reports/{report_id}", params={"sealed_to": b_kid})
    assert resp.status_code == 200, resp.text
    delivery = resp.json()
    assert delivery["recipient"] == b.partner_id and delivery["sealed_to"] == b_kid
    assert "Detained" not in resp.text
    view = open_delivery(
        delivery, b_key, recipient_id=b.partner_id, report_id=report_id, trusted=trusted
    )
    plain = (await vault.call(b, "GET", f"/v1/reports/{report_id}")).json()
    assert view["report"] == plain["report"] and view["withheld"] == plain["withheld"]

    # Another partner's key, another delivery id, another recipient or report: nothing opens.
    with pytest.raises(DecryptionFailed):
        open_delivery(
            delivery, c_key, recipient_id=b.partner_id, report_id=report_id, trusted=trusted
        )
    for changed in ({"delivery_id": "00000000-0000-0000-0000-000000000000"},):
        with pytest.raises(SignatureInvalid):
            open_delivery(
                delivery | changed,
                b_key,
                recipient_id=b.partner_id,
                report_id=report_id,
                trusted=trusted,
            )
    with pytest.raises(SignatureInvalid):
        open_delivery(
            delivery, b_key, recipient_id=c.partner_id, report_id=report_id, trusted=trusted
        )
    with pytest.raises(SignatureInvalid):
        open_delivery(
            delivery,
            b_key,
            recipient_id=b.partner_id,
            report_id=report_id,
            trusted=[generate_signing_key().verify_key],
        )
    # Even with the signature out of the way, HPKE binds recipient, report and delivery id.
    sealed = b64u_decode(delivery["sealed"])
    for info in (
        hpke.delivery_info(recipient_id=b.partner_id, report_id=report_id, delivery_id="other"),
        hpke.delivery_info(
            recipient_id=c.partner_id, report_id=report_id, delivery_id=delivery["delivery_id"]
        ),
        hpke.delivery_info(
            recipient_id=b.partner_id, report_id="other", delivery_id=delivery["delivery_id"]
        ),
    ):
        with pytest.raises(DecryptionFailed):
            hpke.open(b_key, sealed, info)
    # Each read is its own delivery.
    again = (
        await vault.call(b, "GET", f"/v1/reports/{report_id}", params={"sealed_to": b_kid})
    ).json()
    assert again["delivery_id"] != delivery["delivery_id"] and again["sealed"] != delivery["sealed"]

    # Nobody gets a read sealed to another partner's key, and policy still decides first.
    assert (
        await vault.call(b, "GET", f"/v1/reports/{report_id}", params={"sealed_to": c_kid})
    ).status_code == 404
    d = await vault.client("reports:read", "reports:manage")
    d_key = generate_private_key(HpkeSuite.X25519)
    await vault.call(
        d, "POST", "/v1/partners/me/hpke-keys", json={"public_key": d_key.public_key.text}
    )
    hidden = await vault.call(
        d, "GET", f"/v1/reports/{report_id}", params={"sealed_to": b64u_encode(d_key.key_id)}
    )
    assert hidden.status_code == 404 and hidden.json()["detail"] == "no such report"

    reads = (await vault.call(a, "GET", f"/v1/reports/{report_id}/reads")).json()
    sealed_reads = [r for r in reads if r["via"] == "sealed"]
    assert [r["delivery_id"] for r in sealed_reads] == [
        delivery["delivery_id"],
        again["delivery_id"],
    ]
    audit = (await vault.admin_call("GET", "/v1/admin/audit", params={"limit": 1000})).json()
    assert any(e["details"].get("delivery_id") == delivery["delivery_id"] for e in audit["entries"])


async def test_delivery_keys_are_checked_listed_and_revoked(vault: Vault) -> None:
    b = await vault.client("reports:read", "reports:manage")
    c = await vault.client("reports:read", "reports:manage")
    key = generate_private_key(HpkeSuite.X25519)
    for bad in (
        dump_private_key(key),
        "hpke-v1:pub:rsa:AAAA",
        "nonsense",
        key.public_key.text + "A",
    ):
        resp = await vault.call(b, "POST", "/v1/partners/me/hpke-keys", json={"public_key": bad})
        assert resp.status_code == 422, (bad[:20], resp.text)
        assert "hpke-v1:priv" not in resp.text
    ok = await vault.call(
        b, "POST", "/v1/partners/me/hpke-keys", json={"public_key": key.public_key.text}
    )
    assert ok.status_code == 201
    dup = await vault.call(
        b, "POST", "/v1/partners/me/hpke-keys", json={"public_key": key.public_key.text}
    )
    assert dup.status_code == 409
    assert [k["kid"] for k in (await vault.call(b, "GET", "/v1/partners/me/hpke-keys")).json()] == [
        ok.json()["kid"]
    ]
    assert (await vault.call(c, "GET", "/v1/partners/me/hpke-keys")).json() == []
    kid = ok.json()["kid"]
    assert (await vault.call(c, "DELETE", f"/v1/partners/me/hpke-keys/{kid}")).status_code == 404
    assert (await vault.call(b, "DELETE", f"/v1/partners/me/hpke-keys/{kid}")).status_code == 204
    report_id = await vault.submit(b.partner_id)
    gone = await vault.call(b, "GET", f"/v1/reports/{report_id}", params={"sealed_to": kid})
    assert gone.status_code == 404


async def test_report_keygen_fetch_and_reads_cli(vault: Vault, tmp_path: Path) -> None:
    a = await vault.client("reports:read", "reports:manage")
    b = await vault.client("reports:read", "reports:manage")
    await vault.set_policy(b.partner_id, grant(**POLICY))
    report_id = await vault.submit(a.partner_id)
    home = tmp_path / "b"

    made = await cli_json(vault, b, home, "report", "keygen")
    assert made["suite"] == "mlkem768x25519" and made["registered"] is True
    key_file = Path(made["private_key_path"])
    assert stat.S_IMODE(os.stat(key_file).st_mode) == 0o600
    assert (await cli(vault, b, home, "report", "keygen")).returncode == 1  # never overwrites

    view = await cli_json(vault, b, home, "report", "fetch", report_id)
    assert view["report"] == {
        "incident_type": "detention",
        "place": {"country": "KG"},
        "narrative": "Detained at passport control on arrival; phone taken.",
    }
    pins = json.loads((home / "config" / "lifeline" / "delivery-signers.json").read_text())
    assert list(pins) == [vault.url]
    # A signing key the partner did not pin is refused.
    wrong = await cli(
        vault, b, home, "report", "fetch", report_id, "--signer-fingerprint", "00" * 32
    )
    assert wrong.returncode == 1 and "no signing key with the given fingerprint" in wrong.stderr
    hidden = await cli(vault, b, home, "report", "fetch", "00000000-0000-0000-0000-000000000000")
    assert hidden.returncode == 66 and "HTTP 404" in hidden.stderr

    reads = await cli_json(vault, a, tmp_path / "a", "report", "reads", report_id)
    assert [(r["reader_partner"], r["via"]) for r in reads] == [(b.partner_id, "sealed")]
    human = await cli(vault, a, tmp_path / "a", "report", "reads", report_id)
    assert human.returncode == 0 and "READ_AT" in human.stdout and b.client_id in human.stdout
