"""Sharing's key files: the formats existing data directories hold, and changes seen at once."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path

import pytest

from libs.common.clock import FakeClock
from libs.common.crypto import hpke
from libs.common.crypto.encoding import b64u_encode
from libs.common.crypto.errors import DecryptionFailed
from libs.common.crypto.hpke_keys import HpkeSuite
from libs.common.identity.canonical import CANONICAL_VERSION
from libs.common.identity.keyring import new_seed
from services.sharing.access.tokens.keystore import SigningKeystore
from services.sharing.identity.keystore import PrfKeyStore
from services.sharing.vault.delivery.keystore import DeliverySigner
from services.sharing.vault.keys.keystore import HpkeKeyStore

CLOCK = FakeClock(datetime(2026, 3, 1, 12, 0, tzinfo=UTC))


def _doc(path: Path) -> dict[str, object]:
    doc: dict[str, object] = json.loads(path.read_text())
    return doc


def test_each_store_writes_the_format_existing_data_directories_hold(tmp_path: Path) -> None:
    HpkeKeyStore.open(tmp_path / "hpke.json", suite=HpkeSuite.X25519, clock=CLOCK)
    PrfKeyStore.open(tmp_path / "prf.json", clock=CLOCK)
    SigningKeystore(tmp_path / "signing.json", clock=CLOCK)
    DeliverySigner.open(tmp_path / "delivery.json", clock=CLOCK)
    hpke_doc, prf_doc = _doc(tmp_path / "hpke.json"), _doc(tmp_path / "prf.json")
    signing_doc, delivery_doc = _doc(tmp_path / "signing.json"), _doc(tmp_path / "delivery.json")
    assert list(hpke_doc) == ["format", "keys"] and hpke_doc["format"] == "lifeline-hpke-keys/v1"
    assert hpke_doc["keys"][0]["created_at"] == "2026-03-01T12:00:00+00:00"  # type: ignore[index]
    assert list(prf_doc) == ["format", "current", "versions"]
    assert prf_doc["format"] == "lifeline-prf-keys/v1" and prf_doc["current"] == 1
    assert signing_doc["format"] == "lifeline-signing-keys/1" and list(signing_doc) == [
        "format",
        "keys",
    ]
    assert delivery_doc["format"] == "lifeline-delivery-signing/v1"
    assert set(delivery_doc["keys"][0]) == {"private_key", "created_at"}  # type: ignore[index]
    for name in ("hpke", "prf", "signing", "delivery"):
        assert (tmp_path / f"{name}.json").stat().st_mode & 0o777 == 0o600


def test_a_prf_file_with_a_retired_version_still_opens(tmp_path: Path) -> None:
    path = tmp_path / "prf.json"
    path.write_text(
        json.dumps(
            {
                "format": "lifeline-prf-keys/v1",
                "current": 2,
                "versions": [
                    {"version": 1, "state": "retired", "seed": None, "created_at": "x"},
                    {"version": 2, "state": "active", "seed": b64u_encode(new_seed()),
                     "created_at": "y"},
                ],
            }
        )
    )  # fmt: skip
    path.chmod(0o600)
    store = PrfKeyStore.open(path)
    assert store.ring().current == 2 and set(store.ring().keys) == {2}
    assert store.rotate() == 3
    versions = _doc(path)["versions"]  # type: ignore[index]
    # Written before the canonicaliser binding: version 1; the rotation binds this code's.
    assert versions[0] == {
        "version": 1,
        "state": "retired",
        "seed": None,
        "created_at": "x",
        "canonical": 1,
    }
    assert versions[2]["canonical"] == CANONICAL_VERSION


def test_a_rotation_by_another_process_is_seen_at_the_next_use(tmp_path: Path) -> None:
    path = tmp_path / "hpke.json"
    mine, theirs = HpkeKeyStore.open(path), HpkeKeyStore.open(path)
    old = mine.active()
    fresh = theirs.rotate(HpkeSuite.X25519)
    # No follower task: the public route and the consumer read the file as it is now.
    assert [k["kid"] for k in mine.public_keys()] == [fresh.kid, old.kid]
    info = hpke.report_seal_info(report_id="r", partner_id="p")
    blob = hpke.seal(fresh.key.public_key, b"report", info)
    assert mine.unseal(blob, info) == (b"report", fresh.kid)
    theirs.retire(old.kid)
    old_blob = hpke.seal(old.key.public_key, b"report", info)
    with pytest.raises(DecryptionFailed):
        mine.unseal(old_blob, info)
    with pytest.raises(KeyError):
        mine.retire(fresh.kid)  # the active key is never retired


def test_prf_rotations_and_signing_maintenance_reach_every_replica(tmp_path: Path) -> None:
    prf_a, prf_b = PrfKeyStore.open(tmp_path / "prf.json"), PrfKeyStore.open(tmp_path / "prf.json")
    assert prf_b.rotate() == 2 and prf_a.ring().current == 2
    with pytest.raises(ValueError, match="current"):
        prf_a.retire(2)
    signing = SigningKeystore(tmp_path / "signing.json", clock=CLOCK)
    other = SigningKeystore(tmp_path / "signing.json", clock=CLOCK)
    assert signing.maintain() is True  # publishes the next key
    before = (tmp_path / "signing.json").stat().st_mtime_ns
    assert signing.maintain() is False  # nothing due: the file is not rewritten
    assert (tmp_path / "signing.json").stat().st_mtime_ns == before
    assert len(other.jwks()["keys"]) == 2
