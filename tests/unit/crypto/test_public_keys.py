"""Public-key checks: the published small-order Ed25519 and low-order X25519 keys are refused."""

from __future__ import annotations

import pytest
from cryptography.hazmat.primitives import hpke as openssl_hpke
from cryptography.hazmat.primitives.asymmetric import ed25519, mlkem, x25519

from libs.common.auth.jwk import (
    b64url_encode,
    parse_public_key_text,
    public_key_from_jwk,
    stored_public_key,
)
from libs.common.crypto import hpke
from libs.common.crypto.encoding import b64u_encode
from libs.common.crypto.errors import DecryptionFailed, InvalidKey, WeakPublicKey
from libs.common.crypto.hpke_keys import HpkePublicKey, HpkeSuite, load_public_key
from libs.common.crypto.public_keys import check_ed25519_public, check_x25519_public
from libs.common.crypto.signing import load_verify_key, verify_key_from_jwk, verify_key_from_raw
from tests.support.weak_keys import (
    ED25519_IDENTITY,
    ED25519_SMALL_ORDER_CANONICAL,
    ED25519_SMALL_ORDER_NON_CANONICAL,
    X25519_LOW_ORDER_CANONICAL,
    X25519_LOW_ORDER_NON_CANONICAL,
)

ED_WEAK = ED25519_SMALL_ORDER_CANONICAL + ED25519_SMALL_ORDER_NON_CANONICAL
X_WEAK = X25519_LOW_ORDER_CANONICAL + X25519_LOW_ORDER_NON_CANONICAL
INFO = hpke.report_seal_info(report_id="rep-1", partner_id="ngo-a")


def test_the_lists_are_what_they_claim() -> None:
    assert len(set(ED_WEAK)) == 14 and len(set(X_WEAK)) == 14
    # OpenSSL loads every canonical small-order Ed25519 key: the check has to be ours.
    for hex_key in ED25519_SMALL_ORDER_CANONICAL:
        ed25519.Ed25519PublicKey.from_public_bytes(bytes.fromhex(hex_key))
    # Independent of our arithmetic: each listed X25519 value makes every shared secret zero,
    # which OpenSSL refuses to return.
    mine = x25519.X25519PrivateKey.generate()
    for hex_key in X_WEAK:
        with pytest.raises(ValueError, match="shared key"):
            mine.exchange(x25519.X25519PublicKey.from_public_bytes(bytes.fromhex(hex_key)))


def test_a_small_order_key_verifies_a_signature_made_without_any_private_key() -> None:
    # Why the check exists: R = identity, S = 0 verifies under the identity for any message.
    key = ed25519.Ed25519PublicKey.from_public_bytes(ED25519_IDENTITY)
    key.verify(ED25519_IDENTITY + bytes(32), b"any message at all")


@pytest.mark.parametrize("hex_key", ED_WEAK)
def test_small_order_ed25519_keys_are_refused(hex_key: str) -> None:
    raw = bytes.fromhex(hex_key)
    with pytest.raises(WeakPublicKey, match=r"small-order|non-canonical"):
        check_ed25519_public(raw)
    with pytest.raises(WeakPublicKey):
        verify_key_from_raw(raw)
    with pytest.raises(WeakPublicKey):
        load_verify_key("ed25519-v1:pub:" + b64u_encode(raw))
    jwk = {"kty": "OKP", "crv": "Ed25519", "x": b64url_encode(raw)}
    with pytest.raises(WeakPublicKey):
        verify_key_from_jwk(jwk)
    with pytest.raises(WeakPublicKey):
        public_key_from_jwk(jwk)
    for text in (
        "ed25519:" + b64url_encode(raw),
        f'{{"kty":"OKP","crv":"Ed25519","x":"{jwk["x"]}"}}',
    ):
        with pytest.raises(ValueError, match=r"small-order|non-canonical"):
            parse_public_key_text(text)


def test_canonical_small_order_keys_are_refused_as_small_order() -> None:
    for hex_key in ED25519_SMALL_ORDER_CANONICAL:
        with pytest.raises(WeakPublicKey, match="small-order"):
            check_ed25519_public(bytes.fromhex(hex_key))


def test_off_curve_and_wrong_length_ed25519_keys_are_refused() -> None:
    with pytest.raises(WeakPublicKey, match="not a point"):
        check_ed25519_public((2).to_bytes(32, "little"))  # y = 2 has no x
    for raw in (b"", bytes(31), bytes(33)):
        with pytest.raises(WeakPublicKey, match="32 bytes"):
            check_ed25519_public(raw)


def test_real_keys_pass_and_a_stored_weak_key_can_still_be_shown() -> None:
    for _ in range(64):
        ed_raw = ed25519.Ed25519PrivateKey.generate().public_key().public_bytes_raw()
        assert check_ed25519_public(ed_raw) == ed_raw
        x_raw = x25519.X25519PrivateKey.generate().public_key().public_bytes_raw()
        assert check_x25519_public(x_raw) == x_raw
    # An administrator lists (and revokes) a weak key registered before the check existed.
    jwk = {"kty": "OKP", "crv": "Ed25519", "x": b64url_encode(ED25519_IDENTITY)}
    assert stored_public_key(jwk).public_bytes_raw() == ED25519_IDENTITY


@pytest.mark.parametrize("hex_key", X_WEAK)
def test_low_order_x25519_keys_are_refused(hex_key: str) -> None:
    raw = bytes.fromhex(hex_key)
    with pytest.raises(WeakPublicKey, match=r"low-order|non-canonical"):
        check_x25519_public(raw)
    with pytest.raises(WeakPublicKey) as caught:
        load_public_key("hpke-v1:pub:x25519:" + b64u_encode(raw))
    assert isinstance(caught.value, InvalidKey) and caught.value.status == 422
    # The hybrid's X25519 half is checked as well.
    ml_kem = hpke.generate_private_key(HpkeSuite.MLKEM768_X25519).public_key.raw[:-32]
    with pytest.raises(WeakPublicKey):
        load_public_key("hpke-v1:pub:mlkem768x25519:" + b64u_encode(ml_kem + raw))


@pytest.mark.parametrize("suite", list(HpkeSuite), ids=lambda s: s.label)
def test_sealing_to_a_low_order_key_built_by_hand_is_a_422(suite: HpkeSuite) -> None:
    # A key that never went through load_public_key: the all-zero shared secret is refused.
    good = hpke.generate_private_key(suite).public_key
    raw = good.raw[:-32] + bytes(32)
    low = x25519.X25519PublicKey.from_public_bytes(bytes(32))
    obj = (
        low
        if suite is HpkeSuite.X25519
        else openssl_hpke.MLKEM768X25519PublicKey(
            mlkem.MLKEM768PublicKey.from_public_bytes(good.raw[:-32]), low
        )
    )
    key = HpkePublicKey(suite, raw, good.text, good.key_id, obj)
    with pytest.raises(WeakPublicKey) as caught:
        hpke.seal(key, b"narrative", INFO)
    assert caught.value.status == 422


@pytest.mark.parametrize("suite", list(HpkeSuite), ids=lambda s: s.label)
def test_a_blob_whose_encapsulated_key_is_of_low_order_fails_cleanly(suite: HpkeSuite) -> None:
    key = hpke.generate_private_key(suite)
    blob = bytearray(hpke.seal(key.public_key, b"narrative", INFO))
    start = hpke.HEADER_LEN + suite.enc_length - 32  # the X25519 part ends the enc
    blob[start : start + 32] = bytes(32)
    with pytest.raises(DecryptionFailed):
        hpke.open(key, bytes(blob), INFO)


def test_a_key_of_the_wrong_length_is_invalid_not_weak() -> None:
    for raw in (bytes(31), bytes(33)):
        with pytest.raises(InvalidKey) as caught:
            verify_key_from_raw(raw)
        assert not isinstance(caught.value, WeakPublicKey)
        with pytest.raises(ValueError, match="32 bytes") as wrong:
            parse_public_key_text("ed25519:" + b64url_encode(raw))
        assert not isinstance(wrong.value, WeakPublicKey)
        with pytest.raises(InvalidKey) as hpke_caught:
            load_public_key("hpke-v1:pub:x25519:" + b64u_encode(raw))
        assert not isinstance(hpke_caught.value, WeakPublicKey)
