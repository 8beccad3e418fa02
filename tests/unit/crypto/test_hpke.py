"""HPKE sealing: round trips, context binding, tamper detection, key text forms, keyrings."""

from __future__ import annotations

import pytest

from libs.common.crypto import hpke
from libs.common.crypto.errors import DecryptionFailed, InvalidKey
from libs.common.crypto.hpke import HpkeKeyring, HpkeSuite
from tests.unit.crypto._util import bit_flips

SUITES = list(HpkeSuite)
INFO = hpke.report_seal_info(report_id="rep-1", partner_id="ngo-a")
AAD = b"event:evt-1"
PLAINTEXT = b'{"narrative":"detained at the airport on a CIS search request"}'


@pytest.fixture(scope="module", params=SUITES, ids=lambda s: s.label)
def key(request: pytest.FixtureRequest) -> hpke.HpkePrivateKey:
    suite: HpkeSuite = request.param
    return hpke.generate_private_key(suite)


@pytest.fixture(scope="module")
def blob(key: hpke.HpkePrivateKey) -> bytes:
    return hpke.seal(key.public_key, PLAINTEXT, INFO, AAD)


def test_round_trip(key: hpke.HpkePrivateKey, blob: bytes) -> None:
    assert hpke.open(key, blob, INFO, AAD) == PLAINTEXT
    assert PLAINTEXT not in blob


def test_empty_plaintext_round_trips(key: hpke.HpkePrivateKey) -> None:
    assert hpke.open(key, hpke.seal(key.public_key, b"", INFO), INFO) == b""


def test_sealing_twice_gives_different_blobs(key: hpke.HpkePrivateKey) -> None:
    assert hpke.seal(key.public_key, PLAINTEXT, INFO, AAD) != hpke.seal(
        key.public_key, PLAINTEXT, INFO, AAD
    )


def test_header_names_suite_and_recipient(key: hpke.HpkePrivateKey, blob: bytes) -> None:
    header = hpke.peek_header(blob)
    assert (header.version, header.suite, header.key_id) == (1, key.suite, key.key_id)


def test_default_suite_is_the_hybrid() -> None:
    assert hpke.generate_private_key().suite is HpkeSuite.MLKEM768_X25519


@pytest.mark.parametrize(
    "info",
    [
        hpke.report_seal_info(report_id="rep-2", partner_id="ngo-a"),
        hpke.report_seal_info(report_id="rep-1", partner_id="ngo-b"),
        hpke.delivery_info(recipient_id="ngo-a", report_id="rep-1", delivery_id="d1"),
        b"",
    ],
)
def test_wrong_info_fails(key: hpke.HpkePrivateKey, blob: bytes, info: bytes) -> None:
    with pytest.raises(DecryptionFailed):
        hpke.open(key, blob, info, AAD)


@pytest.mark.parametrize("aad", [b"", b"event:evt-2", AAD + b"\x00"])
def test_wrong_aad_fails(key: hpke.HpkePrivateKey, blob: bytes, aad: bytes) -> None:
    with pytest.raises(DecryptionFailed):
        hpke.open(key, blob, INFO, aad)


def test_info_and_aad_cannot_trade_bytes(key: hpke.HpkePrivateKey) -> None:
    sealed = hpke.seal(key.public_key, PLAINTEXT, b"ab", b"c")
    with pytest.raises(DecryptionFailed):
        hpke.open(key, sealed, b"a", b"bc")


@pytest.mark.parametrize("other_suite", SUITES, ids=lambda s: s.label)
def test_wrong_recipient_key_fails(blob: bytes, other_suite: HpkeSuite) -> None:
    with pytest.raises(DecryptionFailed):
        hpke.open(hpke.generate_private_key(other_suite), blob, INFO, AAD)


def test_wrong_key_fails_even_when_header_is_rewritten_to_name_it(
    key: hpke.HpkePrivateKey, blob: bytes
) -> None:
    other = hpke.generate_private_key(key.suite)
    forged = blob[:2] + other.key_id + blob[hpke.HEADER_LEN :]
    with pytest.raises(DecryptionFailed):
        hpke.open(other, forged, INFO, AAD)


def test_every_single_bit_flip_fails(key: hpke.HpkePrivateKey, blob: bytes) -> None:
    for bit, mutated in bit_flips(blob):
        with pytest.raises(DecryptionFailed):
            hpke.open(key, mutated, INFO, AAD)
            pytest.fail(f"bit {bit} flipped went unnoticed")


def test_every_truncation_and_extension_fails(key: hpke.HpkePrivateKey, blob: bytes) -> None:
    for length in range(len(blob)):
        with pytest.raises(DecryptionFailed):
            hpke.open(key, blob[:length], INFO, AAD)
    with pytest.raises(DecryptionFailed):
        hpke.open(key, blob + b"\x00", INFO, AAD)


@pytest.mark.parametrize(("index", "value"), [(0, 0), (0, 2), (0, 255), (1, 0), (1, 3), (1, 255)])
def test_unknown_version_or_suite_fails(
    key: hpke.HpkePrivateKey, blob: bytes, index: int, value: int
) -> None:
    mutated = bytearray(blob)
    mutated[index] = value
    with pytest.raises(DecryptionFailed):
        hpke.peek_header(bytes(mutated))
    with pytest.raises(DecryptionFailed):
        hpke.open(key, bytes(mutated), INFO, AAD)


def test_suite_id_swapped_to_the_other_known_suite_fails(
    key: hpke.HpkePrivateKey, blob: bytes
) -> None:
    other = next(s for s in SUITES if s is not key.suite)
    mutated = bytes((blob[0], other.value)) + blob[2:]
    with pytest.raises(DecryptionFailed):
        hpke.open(key, mutated, INFO, AAD)


def test_decryption_failure_says_nothing_specific(key: hpke.HpkePrivateKey, blob: bytes) -> None:
    details = set()
    # The third flips a bit of the encapsulated key: setting a byte to a fixed value would leave
    # the blob unchanged whenever the key already held that value there.
    flipped = blob[:30] + bytes((blob[30] ^ 0x01,)) + blob[31:]
    for mutated in (blob[:-1], b"\x09" + blob[1:], flipped):
        with pytest.raises(DecryptionFailed) as exc:
            hpke.open(key, mutated, INFO, AAD)
        details.add((exc.value.status, exc.value.code, exc.value.detail, str(exc.value)))
    assert details == {(422, "decryption_failed", "decryption failed", "decryption failed")}


def test_keyring_picks_the_key_named_in_the_header(key: hpke.HpkePrivateKey) -> None:
    old, new = hpke.generate_private_key(key.suite), key
    ring = HpkeKeyring([old, new, hpke.generate_private_key(HpkeSuite.X25519)])
    sealed_old = hpke.seal(old.public_key, b"old", INFO)
    sealed_new = hpke.seal(new.public_key, b"new", INFO)
    assert hpke.open(ring, sealed_old, INFO) == b"old"
    assert hpke.open(ring, sealed_new, INFO) == b"new"
    ring.remove(old.key_id)
    with pytest.raises(DecryptionFailed):
        hpke.open(ring, sealed_old, INFO)
    assert hpke.open(ring, sealed_new, INFO) == b"new"


def test_key_text_round_trip_keeps_suite_and_id(key: hpke.HpkePrivateKey, blob: bytes) -> None:
    pub_text = hpke.dump_public_key(key.public_key)
    priv_text = hpke.dump_private_key(key)
    assert pub_text.startswith(f"hpke-v1:pub:{key.suite.label}:")
    assert priv_text.startswith(f"hpke-v1:priv:{key.suite.label}:")
    loaded = hpke.load_private_key(priv_text)
    assert loaded.key_id == key.key_id
    assert loaded.public_key == hpke.load_public_key(pub_text)
    assert hpke.open(loaded, blob, INFO, AAD) == PLAINTEXT
    resealed = hpke.seal(hpke.load_public_key(pub_text), b"x", INFO)
    assert hpke.open(key, resealed, INFO) == b"x"


def test_private_key_never_appears_in_repr(key: hpke.HpkePrivateKey) -> None:
    secret = hpke.dump_private_key(key).rsplit(":", 1)[1]
    assert secret not in repr(key)
    assert secret not in repr(HpkeKeyring([key]))


def test_public_key_loading_is_cached(key: hpke.HpkePrivateKey) -> None:
    text = hpke.dump_public_key(key.public_key)
    assert hpke.load_public_key(text) is hpke.load_public_key(text)


def test_fingerprint_is_stable_and_distinct(key: hpke.HpkePrivateKey) -> None:
    fp = key.public_key.fingerprint()
    assert fp == hpke.load_public_key(key.public_key.text).fingerprint()
    assert fp != hpke.generate_private_key(key.suite).public_key.fingerprint()
    assert len(fp.replace(" ", "")) == 64


def test_public_and_private_texts_are_not_interchangeable(key: hpke.HpkePrivateKey) -> None:
    with pytest.raises(InvalidKey):
        hpke.load_public_key(hpke.dump_private_key(key))
    with pytest.raises(InvalidKey):
        hpke.load_private_key(hpke.dump_public_key(key.public_key))


def test_suite_label_must_match_key_material(key: hpke.HpkePrivateKey) -> None:
    other = next(s for s in SUITES if s is not key.suite)
    text = hpke.dump_public_key(key.public_key).replace(key.suite.label, other.label, 1)
    with pytest.raises(InvalidKey):
        hpke.load_public_key(text)


@pytest.mark.parametrize(
    "text",
    [
        "",
        "hpke-v2:pub:x25519:" + "A" * 43,
        "hpke-v1:pub:p256:" + "A" * 43,
        "hpke-v1:pub:x25519:" + "A" * 42,
        "hpke-v1:pub:x25519:" + "A" * 43 + "=",
        "hpke-v1:pub:x25519",
    ],
)
def test_malformed_public_key_text_is_refused(text: str) -> None:
    with pytest.raises(InvalidKey):
        hpke.load_public_key(text)


def test_info_helpers_bind_every_part() -> None:
    base = hpke.delivery_info(recipient_id="a", report_id="r", delivery_id="d")
    assert base != hpke.delivery_info(recipient_id="b", report_id="r", delivery_id="d")
    assert base != hpke.delivery_info(recipient_id="a", report_id="s", delivery_id="d")
    assert base != hpke.delivery_info(recipient_id="a", report_id="r", delivery_id="e")
    assert hpke.report_seal_info(report_id="r", partner_id="a") != hpke.report_seal_info(
        report_id="a", partner_id="r"
    )
