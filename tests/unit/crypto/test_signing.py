"""Ed25519 signatures: verify, and fail on any change to message, signature, key or purpose."""

from __future__ import annotations

import pytest

from libs.common.crypto import hpke, signing
from libs.common.crypto.errors import InvalidKey, SignatureInvalid
from tests.unit.crypto._util import bit_flips

PURPOSE = signing.DELIVERY_PURPOSE


@pytest.fixture(scope="module")
def key() -> signing.SigningKey:
    return signing.generate_signing_key()


@pytest.fixture(scope="module")
def message() -> bytes:
    sealed = hpke.seal(hpke.generate_private_key().public_key, b"report", b"info")
    return signing.sealed_delivery_payload(
        recipient_id="ngo-b", report_id="rep-1", delivery_id="del-1", sealed=sealed
    )


def test_signature_verifies_and_names_the_signer(key: signing.SigningKey, message: bytes) -> None:
    sig = signing.sign(key, message, purpose=PURPOSE)
    assert len(sig) == signing.SIGNATURE_LEN
    assert signing.verify(key.verify_key, message, sig, purpose=PURPOSE) == key.verify_key


def test_verify_picks_the_signer_among_trusted_keys(
    key: signing.SigningKey, message: bytes
) -> None:
    others = [signing.generate_signing_key().verify_key for _ in range(3)]
    sig = signing.sign(key, message, purpose=PURPOSE)
    assert (
        signing.verify([*others, key.verify_key], message, sig, purpose=PURPOSE) == key.verify_key
    )
    with pytest.raises(SignatureInvalid):
        signing.verify(others, message, sig, purpose=PURPOSE)


def test_every_bit_flip_in_message_fails(key: signing.SigningKey) -> None:
    message = b"delivery:del-1:report:rep-1"
    sig = signing.sign(key, message, purpose=PURPOSE)
    for bit, mutated in bit_flips(message):
        with pytest.raises(SignatureInvalid):
            signing.verify(key.verify_key, mutated, sig, purpose=PURPOSE)
            pytest.fail(f"message bit {bit} flipped went unnoticed")


def test_every_bit_flip_in_signature_fails(key: signing.SigningKey, message: bytes) -> None:
    sig = signing.sign(key, message, purpose=PURPOSE)
    for bit, mutated in bit_flips(sig):
        with pytest.raises(SignatureInvalid):
            signing.verify(key.verify_key, message, mutated, purpose=PURPOSE)
            pytest.fail(f"signature bit {bit} flipped went unnoticed")


def test_truncated_or_extended_message_or_signature_fails(
    key: signing.SigningKey, message: bytes
) -> None:
    sig = signing.sign(key, message, purpose=PURPOSE)
    for bad_msg, bad_sig in [
        (message[:-1], sig),
        (message + b"\x00", sig),
        (message, sig[:-1]),
        (message, sig + b"\x00"),
        (message, b""),
    ]:
        with pytest.raises(SignatureInvalid):
            signing.verify(key.verify_key, bad_msg, bad_sig, purpose=PURPOSE)


def test_other_purpose_or_other_key_fails(key: signing.SigningKey, message: bytes) -> None:
    sig = signing.sign(key, message, purpose=PURPOSE)
    with pytest.raises(SignatureInvalid):
        signing.verify(key.verify_key, message, sig, purpose="lifeline/audit-checkpoint/v1")
    with pytest.raises(SignatureInvalid):
        signing.verify(signing.generate_signing_key().verify_key, message, sig, purpose=PURPOSE)


def test_delivery_payload_binds_every_part() -> None:
    base = {"recipient_id": "a", "report_id": "r", "delivery_id": "d", "sealed": b"s"}
    payload = signing.sealed_delivery_payload(**base)  # type: ignore[arg-type]
    for name, value in [
        ("recipient_id", "b"),
        ("report_id", "s"),
        ("delivery_id", "e"),
        ("sealed", b"t"),
    ]:
        assert signing.sealed_delivery_payload(**{**base, name: value}) != payload  # type: ignore[arg-type]


def test_key_text_and_jwk_round_trip(key: signing.SigningKey, message: bytes) -> None:
    loaded = signing.load_signing_key(signing.dump_signing_key(key))
    assert loaded.verify_key == key.verify_key
    pub = signing.load_verify_key(signing.dump_verify_key(key.verify_key))
    assert pub == signing.verify_key_from_jwk(signing.verify_key_to_jwk(key.verify_key))
    sig = signing.sign(loaded, message, purpose=PURPOSE)
    assert signing.verify(pub, message, sig, purpose=PURPOSE) == pub
    assert signing.dump_signing_key(key).rsplit(":", 1)[1] not in repr(key)
    assert len(pub.fingerprint().replace(" ", "")) == 64


def test_bad_keys_are_refused(key: signing.SigningKey) -> None:
    with pytest.raises(InvalidKey):
        signing.load_verify_key(signing.dump_signing_key(key))
    with pytest.raises(InvalidKey):
        signing.load_signing_key(signing.dump_verify_key(key.verify_key))
    with pytest.raises(InvalidKey):
        signing.load_verify_key("ed25519-v1:pub:AAAA")
    jwk = signing.verify_key_to_jwk(key.verify_key)
    with pytest.raises(InvalidKey):
        signing.verify_key_from_jwk({**jwk, "d": "secret"})
    with pytest.raises(InvalidKey):
        signing.verify_key_from_jwk({**jwk, "kid": "someone-else"})
    with pytest.raises(InvalidKey):
        signing.verify_key_from_jwk({**jwk, "crv": "X25519"})
